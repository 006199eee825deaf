"""ASGI entry point: `uvicorn passhub_recruitment.main:app`."""

from passhub_recruitment.service import service
from passhub_shared.web.app import create_app

app = create_app(service)
