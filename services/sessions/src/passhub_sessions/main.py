"""ASGI entry point: `uvicorn passhub_sessions.main:app`."""

from passhub_sessions.service import service
from passhub_shared.web.app import create_app

app = create_app(service)
