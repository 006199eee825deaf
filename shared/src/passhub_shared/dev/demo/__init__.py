"""`passhub demo`: a realistic year, loaded through the services' public HTTP APIs only."""

from passhub_shared.dev.demo.year import DemoError, DemoReport, run_demo

__all__ = ["DemoError", "DemoReport", "run_demo"]
