"""The web stack alone, for the check-in benchmark's HTTP baseline.

The same server (uvicorn, same worker count) and framework (FastAPI) as the attendance
service, with one route shaped like the QR sign-in (`POST /sessions/{id}/sign-in`, a JSON body
validated by a pydantic model, a JSON answer) that does nothing else: no token check, no
database, no NATS. What it sustains on a machine is the most any sign-in endpoint built on this
stack could sustain there, so the check-in figures are read against it.
"""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class SignInBody(BaseModel):
    code: str


@app.post("/sessions/{session_id}/sign-in", status_code=201)
async def sign_in(session_id: str, body: SignInBody) -> dict[str, str]:
    return {"session_id": session_id, "status": "signed_in"}


@app.get("/readyz")
async def ready() -> dict[str, str]:
    return {"status": "ready"}
