"""Running a service: how it declares itself and its runtime, settings and required
secrets, JSON logs and Prometheus metrics, the event loop, the institution's time zone,
the `passhub` command line, a supervisor for child processes, and rebuilding projections
or streams from the log.
"""
