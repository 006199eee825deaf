"""`passhub dev up --lrs`: a local Learning Record Store (Ralph, file-system backend) and the
xAPI bridge feeding it, beside the services.

Ralph lives in a venv of its own (`make venv-ralph`: it pins FastAPI and uvicorn to versions
other than passhub's). Its key and secret are made on first start and kept in
`var/xapi/lrs.env`; nothing here has a default credential. The bridge is the `passhub-xapi`
command (installed by `make venv`), a process like any outside subscriber.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from rich.console import Console

RALPH_VENV = Path(".venv-ralph")
RALPH_SERVE = Path("integrations/xapi/dev/ralph_serve.py")
ACTIVITY_BASE = "http://localhost/passhub/xapi"
HOME_PAGE = "http://localhost/passhub/accounts"


class LrsError(Exception):
    pass


def _credentials(var_dir: Path) -> tuple[str, str]:
    env_file = var_dir / "lrs.env"
    if env_file.exists():
        values = dict(
            line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line
        )
        return values["LRS_USERNAME"], values["LRS_PASSWORD"]
    username, password = "bridge", secrets.token_urlsafe(24)
    env_file.write_text(f"LRS_USERNAME={username}\nLRS_PASSWORD={password}\n")
    env_file.chmod(0o600)
    return username, password


def _auth_file(var_dir: Path, username: str, password: str) -> Path:
    hashed = subprocess.run(
        [
            str(RALPH_VENV / "bin" / "python"),
            "-c",
            "import bcrypt, sys; print(bcrypt.hashpw(sys.argv[1].encode(), bcrypt.gensalt())"
            ".decode())",
            password,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    path = var_dir / "auth.json"
    path.write_text(
        '[{"agent": {"mbox": "mailto:xapi-bridge@localhost"}, "scopes": ["all"], '
        f'"hash": "{hashed}", "username": "{username}"}}]'
    )
    return path


@contextmanager
def dev_lrs(
    var_dir: Path, port: int, nats_url: str, console: Console, stream_key: str
) -> Iterator[str]:
    """Start Ralph on 127.0.0.1:`port` and the bridge (given the `stream_key` that opens
    sealed personal fields); yield the LRS's xAPI endpoint."""
    if not (RALPH_VENV / "bin" / "python").exists() or not RALPH_SERVE.exists():
        raise LrsError("no Ralph venv: run `make venv-ralph` from the repository's root first")
    lrs_dir = var_dir / "xapi"
    (lrs_dir / "data").mkdir(parents=True, exist_ok=True)
    username, password = _credentials(lrs_dir)
    env = {
        **os.environ,
        "RALPH_APP_DIR": str(lrs_dir),
        "RALPH_AUTH_FILE": str(_auth_file(lrs_dir, username, password)),
        "RALPH_RUNSERVER_AUTH_BACKENDS": "basic",
        "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(lrs_dir / "data"),
    }
    logs = var_dir / "logs"
    logs.mkdir(exist_ok=True)
    console.print(f"starting Ralph (LRS) on port {port}")
    with open(logs / "ralph.log", "ab") as ralph_log, open(logs / "xapi.log", "ab") as xapi_log:
        ralph = subprocess.Popen(
            [str(RALPH_VENV / "bin" / "python"), str(RALPH_SERVE), "--port", str(port)],
            env=env,
            stdout=ralph_log,
            stderr=subprocess.STDOUT,
        )
        bridge: subprocess.Popen[bytes] | None = None
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/__heartbeat__", timeout=1).is_success:
                        break
                except httpx.HTTPError:
                    pass
                if ralph.poll() is not None or time.monotonic() > deadline:
                    raise LrsError(f"Ralph did not start; see {logs / 'ralph.log'}")
                time.sleep(0.3)
            endpoint = f"http://127.0.0.1:{port}/xAPI"
            console.print("starting the xAPI bridge")
            bridge = subprocess.Popen(
                [sys.executable, "-m", "passhub_xapi", "run"],
                env={
                    **os.environ,
                    "PASSHUB_XAPI_NATS_URL": nats_url,
                    "PASSHUB_XAPI_STREAM_KEY": stream_key,
                    "PASSHUB_XAPI_LRS_ENDPOINT": endpoint,
                    "PASSHUB_XAPI_LRS_USERNAME": username,
                    "PASSHUB_XAPI_LRS_PASSWORD": password,
                    "PASSHUB_XAPI_ACCOUNT_HOME_PAGE": HOME_PAGE,
                    "PASSHUB_XAPI_ACTIVITY_BASE": ACTIVITY_BASE,
                    "PASSHUB_XAPI_STORE_PATH": str(lrs_dir / "bridge.sqlite3"),
                },
                stdout=xapi_log,
                stderr=subprocess.STDOUT,
            )
            console.print(
                f"LRS:        {endpoint} (user {username}, password in {lrs_dir}/lrs.env)"
            )
            yield endpoint
        finally:
            for process in (bridge, ralph):
                if process is not None and process.poll() is None:
                    process.terminate()
                    try:
                        process.wait(10)
                    except subprocess.TimeoutExpired:
                        process.kill()
