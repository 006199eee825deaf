"""ASGI entry point: `uvicorn passhub_attendance.main:app`."""

from passhub_attendance.service import service
from passhub_shared.web.app import create_app

app = create_app(service)
