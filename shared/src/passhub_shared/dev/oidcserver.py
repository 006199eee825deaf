"""A real OpenID Connect provider for laptops and tests: ``oidc-provider-mock`` from PyPI.

It serves discovery, the authorization endpoint with a login form where you type who you are
(the subject), the token, userinfo, JWKS and end-session endpoints. Claims of a subject are
given up front (``users``) or set later with ``PUT /users/{sub}`` (``set_user``); a subject
typed on the form with no claims set gets only ``email``.

Like the other dev servers it runs as a child process in a session of its own, told to stop
when this process dies, with its log in ``data_dir/oidc.log``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from passhub_shared.dev.devservers import (
    LOCALHOST,
    ServerStartError,
    _open_log,
    _Server,
    die_with_parent,
    free_port,
    port_in_use,
    terminate,
)

OIDC_STOP_TIMEOUT = 10.0


class OidcProvider(_Server):
    """``python -m oidc_provider_mock`` on ``port`` (a free one when None); its issuer is
    ``http://127.0.0.1:<port>``. Any client id and secret are accepted."""

    label = "oidc-provider-mock"
    START_TIMEOUT = 20.0

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        users: Sequence[Mapping[str, Any]] = (),
        token_max_age_seconds: int = 3600,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.port = port if port is not None else free_port()
        self.host = LOCALHOST
        self.users = [dict(u) for u in users]
        self.token_max_age_seconds = token_max_age_seconds
        self.log_path = self.data_dir / "oidc.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The issuer URL."""
        return f"http://{self.host}:{self.port}"

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(
                f"{self.url}/.well-known/openid-configuration", timeout=1
            ) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def start(self) -> None:
        if self.is_running():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if port_in_use(self.port, self.host):
            raise ServerStartError(f"cannot start the OIDC provider: port {self.port} is in use")
        command = [
            sys.executable,
            "-m",
            "oidc_provider_mock",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--token-max-age",
            str(self.token_max_age_seconds),
        ]
        for user in self.users:
            command += ["--user-claims", json.dumps(user)]
        with _open_log(self.log_path, self.label) as log_file:
            self._proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env={**os.environ, "NO_COLOR": "1"},
                start_new_session=True,
                preexec_fn=die_with_parent(signal.SIGTERM),
            )
        deadline = time.monotonic() + self.START_TIMEOUT
        while not self.ready():
            if self._proc.poll() is not None:
                self._proc = None
                raise ServerStartError(self._failure("exited during start-up"))
            if time.monotonic() > deadline:
                self.stop()
                raise ServerStartError(
                    self._failure(f"was not ready after {self.START_TIMEOUT:.0f} s")
                )
            time.sleep(0.1)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            terminate(proc.pid, proc, signal.SIGTERM, OIDC_STOP_TIMEOUT)

    def set_user(self, sub: str, claims: Mapping[str, Any]) -> None:
        """Give subject ``sub`` these claims (beside ``sub``) from now on."""
        request = urllib.request.Request(
            f"{self.url}/users/{quote(sub, safe='')}",
            data=json.dumps(dict(claims)).encode(),
            headers={"Content-Type": "application/json"},
            method="PUT",
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            if response.status != 204:
                raise RuntimeError(f"the OIDC provider refused the claims of {sub}")
