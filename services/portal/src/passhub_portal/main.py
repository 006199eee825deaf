"""`uvicorn passhub_portal.main:app`: the portal with its settings from the environment."""

from passhub_portal.app import create_portal

app = create_portal()
