"""Ralph, a real LRS, on 127.0.0.1 and a free port, with its file-system backend
(integrations/xapi/dev/ralph_serve.py).

Ralph pins FastAPI, uvicorn and httpx to versions that conflict with passhub's, so it runs
from a venv of its own, `.venv-ralph` at the repository's root, made on first use from
requirements-ralph.txt (as `make venv-ralph` does). Credentials are a random key and secret
in Ralph's auth file, never a default.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv-ralph"
REQUIREMENTS = ROOT / "requirements-ralph.txt"
#: `ralph runserver -b fs`, with the backend appending (see its docstring)
SERVE = ROOT / "integrations" / "xapi" / "dev" / "ralph_serve.py"


def ralph_venv() -> Path:
    """The venv's `bin` directory, creating the venv the first time (under a lock, for
    test processes started at once)."""
    bin_dir = VENV / "bin"
    marker = VENV / ".installed"
    if marker.exists():
        return bin_dir
    with open(ROOT / ".venv-ralph.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
            subprocess.run(
                [str(bin_dir / "pip"), "install", "--quiet", "-r", str(REQUIREMENTS)],
                check=True,
            )
            marker.touch()
    return bin_dir


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Ralph:
    """A Ralph LRS process: start, stop (the LRS "down"), start again on the same port and
    data."""

    def __init__(self, workdir: Path, *, index_ids: bool = False) -> None:
        self.workdir = workdir
        #: `ralph_serve.py --index-ids`: the backend keeps the ids it holds in memory
        self.index_ids = index_ids
        self.data = workdir / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.username = "bridge-" + secrets.token_hex(4)
        self.password = secrets.token_urlsafe(18)
        self.bin = ralph_venv()
        hashed = subprocess.run(
            [
                str(self.bin / "python"),
                "-c",
                "import bcrypt, sys; print(bcrypt.hashpw(sys.argv[1].encode(), "
                "bcrypt.gensalt(rounds=4)).decode())",
                self.password,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        self.auth_file = workdir / "auth.json"
        self.auth_file.write_text(
            json.dumps(
                [
                    {
                        "agent": {"mbox": "mailto:xapi-bridge@example.ac.uk"},
                        "scopes": ["all"],
                        "hash": hashed,
                        "username": self.username,
                    }
                ]
            )
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/xAPI"

    @property
    def auth(self) -> tuple[str, str]:
        return (self.username, self.password)

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "RALPH_APP_DIR": str(self.workdir),
            "RALPH_AUTH_FILE": str(self.auth_file),
            "RALPH_RUNSERVER_AUTH_BACKENDS": "basic",
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(self.data),
            "RALPH_RUNSERVER_MAX_SEARCH_HITS_COUNT": "1000",
        }

    def start(self, timeout: float = 60.0) -> None:
        log = open(self.workdir / "ralph.log", "ab")  # noqa: SIM115 - the process keeps it
        self.process = subprocess.Popen(
            [str(self.bin / "python"), str(SERVE), "--port", str(self.port)]
            + (["--index-ids"] if self.index_ids else []),
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"ralph exited: see {self.workdir / 'ralph.log'}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/__heartbeat__", timeout=1).is_success:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("ralph did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def statements(self, activity_prefix: str | None = None) -> list[dict[str, Any]]:
        """Every statement the LRS returns from `GET /xAPI/statements` (following `more`),
        those about activities or StatementRefs under `activity_prefix` if given."""
        headers = {"X-Experience-API-Version": "1.0.3"}
        out: list[dict[str, Any]] = []
        url: str | None = f"{self.endpoint}/statements?limit=1000"
        with httpx.Client(auth=self.auth, headers=headers, timeout=60) as http:
            while url:
                r = http.get(url)
                r.raise_for_status()
                body = r.json()
                out.extend(body["statements"])
                more = body.get("more")
                url = f"http://127.0.0.1:{self.port}{more}" if more else None
        return out
