"""The portal's FastAPI application: single sign-on, the JWKS, and the pages."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from authlib.integrations.starlette_client import OAuth
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from passhub_portal import annual, apply, auth, console, leading, pages
from passhub_portal.clients import ServiceError, Services, ServiceUnavailable
from passhub_portal.settings import PortalSettings
from passhub_portal.tokens import TokenIssuer
from passhub_portal.web import SESSION_COOKIE, PageError, SecurityHeaders, SessionCheck, error_page
from passhub_shared.operations import logs
from passhub_shared.operations.settings import Settings

log = logging.getLogger("passhub.portal")


def create_portal(settings: PortalSettings | None = None, kit: Settings | None = None) -> FastAPI:
    settings = settings or PortalSettings()
    kit = kit or Settings()
    logs.configure("portal", kit.log_level, kit.log_json)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per call to a service
    issuer = TokenIssuer(
        settings.signing_key.get_secret_value(),
        issuer=kit.jwt_issuer,
        audience=kit.jwt_audience,
        ttl=timedelta(seconds=settings.token_ttl_seconds),
    )
    oauth = OAuth()
    oauth.register(
        "idp",
        server_metadata_url=f"{settings.oidc_issuer}/.well-known/openid-configuration",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret.get_secret_value(),
        client_kwargs={"scope": settings.scopes, "code_challenge_method": "S256"},
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = Services(settings, issuer)
        app.state.services = services
        log.info("portal started at %s", settings.public_url)
        try:
            yield
        finally:
            await services.close()

    app = FastAPI(
        title="passhub portal",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.portal_settings = settings
    app.state.oauth = oauth
    app.state.issuer = issuer

    # added first, so it runs inside SessionMiddleware and sees the session it decoded
    app.add_middleware(
        SessionCheck,
        secret=settings.session_secret.get_secret_value(),
        max_age=settings.login_ttl_seconds,
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_secret.get_secret_value(),
        session_cookie=SESSION_COOKIE,
        max_age=settings.login_ttl_seconds,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(SecurityHeaders, hsts=settings.secure_cookies)

    @app.exception_handler(PageError)
    async def page_error(request: Request, exc: PageError) -> Response:
        return error_page(request, exc)

    @app.exception_handler(ServiceUnavailable)
    async def unavailable(request: Request, exc: ServiceUnavailable) -> Response:
        log.warning("%s did not answer", exc.service)
        return error_page(
            request,
            PageError(
                "passhub is not answering",
                "Part of passhub did not answer just now. Nothing was changed. "
                "Wait a moment and try again.",
                status=503,
                next_href=str(request.url.path),
                next_label="Try again",
            ),
        )

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> Response:
        log.info("a service refused: %s", exc)
        return error_page(
            request,
            PageError(
                "That did not work",
                "passhub could not do that. Nothing was changed.",
                status=exc.status if 400 <= exc.status < 500 else 400,
            ),
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            error = PageError("Page not found", "There is no page at this address.", status=404)
        elif exc.status_code == 405:
            error = PageError("Page not found", "This page cannot be used that way.", status=405)
        else:
            error = PageError("That did not work", str(exc.detail), status=exc.status_code)
        return error_page(request, error)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return error_page(
            request,
            PageError(
                "Something is missing",
                "The form was not complete. Nothing was changed. Go back and try again.",
                status=422,
            ),
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return error_page(
            request,
            PageError(
                "Something went wrong",
                "passhub could not show this page. Try again in a moment; if it keeps "
                "happening, tell the PASS coordinators.",
                status=500,
                next_href=str(request.url.path),
                next_label="Try again",
            ),
        )

    # the QR sign-in first, as a plain route: checked before any other at a session start
    app.add_route("/s/{code}", pages.sign_in, methods=["POST"])

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": "portal"}

    @app.get("/.well-known/jwks.json", include_in_schema=False)
    async def jwks() -> JSONResponse:
        return JSONResponse(issuer.jwks(), headers={"Cache-Control": "public, max-age=300"})

    app.mount(
        "/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static"
    )
    app.include_router(auth.router)
    app.include_router(pages.router)
    app.include_router(apply.router)
    app.include_router(leading.router)
    app.include_router(console.router)
    app.include_router(annual.router)
    return app
