"""ASGI entry point: `uvicorn passhub_recognition.main:app`."""

from passhub_recognition.service import service
from passhub_shared.web.app import create_app

app = create_app(service)
