"""The OpenAPI document says what a service really answers, errors included.

Every error passhub returns has one shape, `ErrorBody` (`{"detail", "code", ...}`): a
rejection (`Rejected`), an invalid request (422, with `errors` by field), a refused token
(401), a missing role (403), an unknown resource (404), a concurrent change (409) or text
passhub cannot store (422, `passhub_shared.guards`). `document_errors` adds these responses
to every operation of the generated document, once, instead of route by route:

* 422 (the body shape replaces FastAPI's default) and 404 on every operation;
* 401 and 403 on the operations that need a bearer token (a `require(...)` dependency);
* 409 on every operation that changes something (POST, PUT, PATCH, DELETE);
* operations of routers tagged `pages` answer `text/html` (and redirect with 303).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from passhub_shared.auth import current_principal

#: the tag of routers whose routes are HTML pages
PAGES_TAG = "pages"

_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
_DESCRIPTIONS = {
    "400": "the request cannot be served as it is",
    "401": "no valid bearer token",
    "403": "the token lacks a role or scope this needs",
    "404": "no such resource",
    "409": "a conflicting or concurrent change; the body says which",
    "410": "no longer available",
    "422": "the request is not valid: `errors` lists each problem, nothing was changed",
}
_WRITES = {"post", "put", "patch", "delete"}


class ErrorBody(BaseModel):
    """What every error response holds."""

    model_config = ConfigDict(extra="allow")

    detail: str = Field(description="what went wrong, for people")
    code: str = Field(description="what went wrong, for programs (e.g. not_found, forbidden)")
    error_count: int | None = Field(default=None, description="how many particulars in all")
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="the particulars (e.g. one per field or per CSV line)"
    )


def _needs_token(dependant: Dependant) -> bool:
    return any(dep.call is current_principal or _needs_token(dep) for dep in dependant.dependencies)


def _error(code: str, html: bool) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": _ERROR_REF}}
    if html:
        content["text/html"] = {"schema": {"type": "string"}}
    return {"description": _DESCRIPTIONS.get(code, "an error"), "content": content}


def document_errors(schema: dict[str, Any], routes: list[Any]) -> dict[str, Any]:
    """Add the error responses (and `text/html` for pages) to a generated document."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorBody"] = ErrorBody.model_json_schema()
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for route in routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        path = schema.get("paths", {}).get(route.path_format)
        if path is None:
            continue
        page = PAGES_TAG in (route.tags or [])
        token = _needs_token(route.dependant)
        for method in route.methods or ():
            operation = path.get(method.lower())
            if operation is None:
                continue
            responses: dict[str, Any] = operation.setdefault("responses", {})
            if page:
                for status, answer in list(responses.items()):
                    if status.startswith("2"):
                        answer["content"] = {"text/html": {"schema": {"type": "string"}}}
                responses.setdefault("303", {"description": "goes on to another page"})
                codes = ["400", "401", "403", "404", "409", "410", "422"]
            else:
                codes = ["404", "422"]
                if token:
                    codes += ["401", "403"]
                if method.lower() in _WRITES:
                    codes.append("409")
            for code in codes:
                existing = responses.get(code)
                if existing is None or "content" not in existing or code == "422":
                    answer = _error(code, page)
                    if existing and existing.get("description"):
                        answer["description"] = existing["description"]
                    responses[code] = answer
    return schema


def install(app: FastAPI) -> None:
    """Make `app.openapi()` return the document with the error responses added."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
                servers=app.servers,
            )
            app.openapi_schema = document_errors(schema, list(app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
