"""The FastAPI application every service runs: lifespan wiring, errors, health and metrics."""

from __future__ import annotations

import gc
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.utils import is_body_allowed_for_status_code
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from passhub_shared.messages.events import Metadata
from passhub_shared.operations import logs, metrics
from passhub_shared.operations.service import Runtime, ServiceDefinition
from passhub_shared.operations.settings import Settings, load_settings
from passhub_shared.storage.store import ConcurrencyConflict
from passhub_shared.web import openapi
from passhub_shared.web.auth import Principal
from passhub_shared.web.docs_assets import install_docs
from passhub_shared.web.errors import MAX_LISTED_DETAILS, Rejected
from passhub_shared.web.guards import InputGuard, out_of_range_response
from passhub_shared.web.headers import SecurityHeaders

log = logging.getLogger("passhub.app")


def create_app(
    definition: ServiceDefinition,
    settings: Settings | None = None,
    *,
    relay: bool = True,
    consumers: bool = True,
) -> FastAPI:
    settings = settings or load_settings(definition.name)
    for own_settings in definition.own_settings:
        own_settings()  # raises InsecureSecret, naming the variable, when a key is unusable
    logs.configure(definition.name, settings.log_level, settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime(definition, settings)
        app.state.runtime = runtime
        await runtime.start(relay=relay, consumers=consumers)
        _settle_garbage_collector()
        log.info("%s started", definition.name)
        try:
            yield
        finally:
            await runtime.stop()
            gc.unfreeze()  # a process hosting several apps in turn (tests) frees each one's
            log.info("%s stopped", definition.name)

    app = FastAPI(
        title=f"passhub {definition.title}",
        description=definition.description,
        version="0.1.0",
        lifespan=lifespan,
        # /docs is the kit's, with Swagger UI served by the service itself (docs_assets.py)
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    install_docs(app)
    app.state.settings = settings
    app.state.definition = definition

    _install_error_handlers(app)
    app.add_middleware(InputGuard)
    app.add_middleware(RequestContext, service=definition.name)
    app.add_middleware(SecurityHeaders)

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": definition.name}

    @app.get("/readyz", tags=["operations"])
    async def readyz(request: Request) -> JSONResponse:
        checks = await request.app.state.runtime.ready()
        ok = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ok else "not ready", "checks": checks},
            status_code=200 if ok else 503,
        )

    @app.get("/asyncapi.json", tags=["operations"])
    async def asyncapi() -> dict[str, Any]:
        """The events this service publishes and consumes (AsyncAPI 3.0)."""
        from passhub_shared.messages.asyncapi import document

        return document(definition, settings.nats_url)

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    async def prometheus() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for router in definition.routers:
        app.include_router(router)
    from passhub_shared.personaldata import privacy_api  # it uses this module's dependencies

    app.include_router(privacy_api.router)
    openapi.install(app)
    return app


async def _rejected(_: Request, exc: Rejected) -> JSONResponse:
    body: dict[str, Any] = {"detail": exc.message, "code": exc.code}
    if exc.details:
        body["error_count"] = len(exc.details)
        body["errors"] = exc.details[:MAX_LISTED_DETAILS]
    return JSONResponse(body, status_code=exc.status_code)


async def _conflict(_: Request, exc: ConcurrencyConflict) -> JSONResponse:
    return JSONResponse({"detail": str(exc), "code": "concurrent_change"}, status_code=409)


async def _database_error(_: Request, exc: DBAPIError) -> JSONResponse:
    code = _sqlstate(exc)
    if code in _RETRYABLE:
        return JSONResponse(
            {"detail": "a concurrent change got in the way; retry", "code": "retry"},
            status_code=409,
            headers={"Retry-After": "0"},
        )
    refused = out_of_range_response(exc)
    if refused is not None:
        return refused
    if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
        log.warning("database unavailable: %s", exc)
        return JSONResponse(
            {"detail": "the database is unavailable; retry shortly", "code": "unavailable"},
            status_code=503,
            headers={"Retry-After": "1"},
        )
    raise exc


async def _overflow(_: Request, exc: OverflowError) -> JSONResponse:
    refused = out_of_range_response(exc)
    assert refused is not None
    return refused


async def _http_error(_: Request, exc: StarletteHTTPException) -> Response:
    if not is_body_allowed_for_status_code(exc.status_code):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return JSONResponse(
        {"detail": exc.detail, "code": _HTTP_CODES.get(exc.status_code, "error")},
        status_code=exc.status_code,
        headers=exc.headers,
    )


async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")}
        for e in exc.errors()
    ]
    return JSONResponse(
        {"detail": "the request is not valid", "code": "invalid_request", "errors": errors},
        status_code=422,
    )


def _install_error_handlers(app: FastAPI) -> None:
    """Errors as JSON with a `code`: refusals as 4xx, a lost database as 503."""
    app.exception_handler(Rejected)(_rejected)
    app.exception_handler(ConcurrencyConflict)(_conflict)
    app.exception_handler(DBAPIError)(_database_error)
    app.exception_handler(OverflowError)(_overflow)
    app.exception_handler(StarletteHTTPException)(_http_error)
    app.exception_handler(RequestValidationError)(_invalid)


class RequestContext:
    """Plain ASGI middleware: the request's correlation id (from `X-Correlation-ID` or new) for
    logs and appended events, echoed in the response, and the latency histogram."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cid = ""
        for name, value in scope["headers"]:
            if name == b"x-correlation-id":
                cid = value.decode("latin-1")[:200]
                break
        cid = cid or str(uuid.uuid4())
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-correlation-id", cid.encode("latin-1")),
                ]
            await send(message)

        token = logs.correlation_id.set(cid)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            logs.correlation_id.reset(token)
            route = getattr(scope.get("route"), "path", "unmatched")
            metrics.HTTP_LATENCY.labels(self.service, scope["method"], route, str(status)).observe(
                time.perf_counter() - started
            )


#: the `code` of an HTTP error raised by FastAPI or a route (`HTTPException`)
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorised",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
}

#: deadlock_detected, serialization_failure: the same request succeeds when retried
_RETRYABLE = {"40P01", "40001"}


def _settle_garbage_collector() -> None:
    """Keep the cyclic collector's pauses out of request latency. What exists once the service
    has started (modules, the app, mappers, compiled statements) lives as long as the process:
    frozen, it is no longer traversed by every full collection. The youngest generation is
    collected after 10,000 allocations instead of 700, as each request allocates thousands of
    short-lived objects that reference counting frees anyway."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def _sqlstate(exc: DBAPIError) -> str | None:
    orig = exc.orig
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_runtime(request: Request) -> Runtime:
    """The dependency. Dependencies here are `async def` even when they do no I/O: FastAPI runs
    a plain `def` one on a worker thread, a hop that cost a tenth of a sign-in's CPU."""
    return runtime_of(request)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def command_metadata(principal: Principal | None) -> Metadata:
    """Metadata for events appended while serving a request: who, and the correlation id."""
    return Metadata(
        correlation_id=logs.correlation_id.get(),
        actor=principal.sub if principal is not None else None,
    )
