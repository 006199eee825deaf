"""Development only: real NATS, PostgreSQL, OIDC provider and LRS on this machine without
Docker, `make run` (`passhub dev up`), a NATS cluster on loopback, and `passhub demo`'s
realistic year.
"""
