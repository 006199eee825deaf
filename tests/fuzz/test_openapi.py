"""Each service's OpenAPI document, fuzzed with schemathesis against the service running in
uvicorn on real NATS and PostgreSQL: every operation is called with requests generated from
its schema, with a coordinator's token and with none, and every answer must be no server
error and just what the document says (status code, content type and body schema).

`make test` runs it with a few examples per operation (`PASSHUB_FUZZ_EXAMPLES`, default 10,
the same ones every run); `make fuzz` runs it alone with more, new ones each time. Each
failure is one schemathesis reports, with the request that reproduces it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from passhub_attendance.service import service as attendance
from passhub_recognition.service import service as recognition
from passhub_recruitment.service import service as recruitment
from passhub_sessions.service import service as sessions
from passhub_shared.dev.devservers import free_port
from passhub_shared.operations.service import ServiceDefinition
from passhub_shared.web.app import create_app
from passhub_shared.web.auth import make_token
from tests.servers import PostgresHandle, ServerHandle
from tests.support import service_settings

EXAMPLES = int(os.environ.get("PASSHUB_FUZZ_EXAMPLES", "10"))
SERVICES = {s.name: s for s in (recruitment, sessions, attendance, recognition)}
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=os.environ.get("PASSHUB_FUZZ_RANDOM", "") == "",
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)

pytestmark = pytest.mark.timeout(900)


class Running:
    """A service in uvicorn on a free port, in a thread with its own event loop."""

    def __init__(self, definition: ServiceDefinition, database_url: str, nats_url: str) -> None:
        self.name = definition.name
        self.settings = service_settings(database_url, nats_url)
        app = create_app(definition, self.settings)
        self.port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.run(self.server.serve())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Running:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the service did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(scope="module", params=sorted(SERVICES))
def running(
    request: pytest.FixtureRequest, pg_server: PostgresHandle, nats_server: ServerHandle
) -> Iterator[Running]:
    pg_server.ensure_running()
    nats_server.ensure_running()
    name = f"fuzz_{request.param}_{uuid.uuid4().hex[:8]}"
    database_url = pg_server.create_database(name)
    try:
        with Running(SERVICES[request.param], database_url, nats_server.url) as service:
            yield service
    finally:
        with contextlib.suppress(Exception):  # a leftover test database is no failure
            pg_server.drop_database(name)


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def test_every_answer_is_what_the_document_says(
    running: Running, session: requests.Session
) -> None:
    schema = schemathesis.openapi.from_url(f"{running.url}/openapi.json")
    coordinator = make_token(running.settings, "fuzz-coordinator", ["coordinator"])
    tokens = ({"Authorization": f"Bearer {coordinator}"}, {})
    calls = 0
    failures: list[str] = []
    started = time.perf_counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @FUZZ
        @given(case=cases)
        def fuzz(case: Any) -> None:
            nonlocal calls
            for headers in tokens:
                calls += 1
                case.call_and_validate(
                    base_url=running.url,
                    session=session,
                    headers=headers,
                    checks=CHECKS,
                    timeout=30,
                )

        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as failure:  # every operation's is reported
            failures.append(f"{operation.label}: {failure}")
    took = time.perf_counter() - started
    print(f"{running.name}: {calls} calls in {took:.1f} s, {len(failures)} failing operations")
    assert not failures, "\n\n".join(failures)
