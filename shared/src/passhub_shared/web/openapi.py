"""The OpenAPI document says what a service really answers, errors included.

Every error passhub returns has one shape, `ErrorBody` (`{"detail", "code", ...}`): a
rejection (`Rejected`), an invalid request (422, with `errors` by field), a refused token
(401), a missing role (403), an unknown resource (404), a concurrent change (409) or text
passhub cannot store (422, `passhub_shared.web.guards`). `document_errors` adds these responses
to every operation of the generated document, once, instead of route by route:

* 422 (the body shape replaces FastAPI's default) and 404 on every operation;
* 401 and 403 on the operations that take a bearer token (their `security`);
* 409 on every operation that changes something (POST, PUT, PATCH, DELETE), and 400 (a body
  that cannot be parsed at all) on every operation that takes one;
* operations of routers tagged `pages` answer `text/html` (and redirect with 303), and so
  may the errors of every operation that answers `text/html`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field

#: the tag of routers whose routes are HTML pages
PAGES_TAG = "pages"

_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
_DESCRIPTIONS = {
    "400": "the request cannot be served as it is (a body that is not JSON or UTF-8)",
    "401": "no valid bearer token",
    "403": "the token lacks a role or scope this needs",
    "404": "no such resource",
    "409": "a conflicting or concurrent change; the body says which",
    "410": "no longer available",
    "422": "the request is not valid: `errors` lists each problem, nothing was changed",
}
_WRITES = {"post", "put", "patch", "delete"}
_METHODS = {"get", "head", "options", "post", "put", "patch", "delete", "trace"}


class ErrorBody(BaseModel):
    """What every error response holds."""

    model_config = ConfigDict(extra="allow")

    detail: str = Field(description="what went wrong, for people")
    code: str = Field(description="what went wrong, for programs (e.g. not_found, forbidden)")
    error_count: int | None = Field(default=None, description="how many particulars in all")
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="the particulars (e.g. one per field or per CSV line)"
    )


def _error(code: str, html: bool) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": _ERROR_REF}}
    if html:
        content["text/html"] = {"schema": {"type": "string"}}
    return {"description": _DESCRIPTIONS.get(code, "an error"), "content": content}


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the error responses (and `text/html` for pages) to a generated document."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorBody"] = ErrorBody.model_json_schema()
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for path in schema.get("paths", {}).values():
        for method, operation in path.items():
            if method not in _METHODS:
                continue
            responses: dict[str, Any] = operation.setdefault("responses", {})
            html = any(
                "text/html" in answer.get("content", {})
                for status, answer in responses.items()
                if status.startswith("2")
            )
            page = PAGES_TAG in operation.get("tags", [])
            if page:
                for status, answer in list(responses.items()):
                    if status.startswith("2"):
                        answer["content"] = {"text/html": {"schema": {"type": "string"}}}
                responses.setdefault("303", {"description": "goes on to another page"})
                codes = ["400", "401", "403", "404", "409", "410", "422"]
            else:
                codes = ["404", "422"]
                # a bearer token is asked for (FastAPI lists it as the operation's security)
                if operation.get("security"):
                    codes += ["401", "403"]
                if method in _WRITES:
                    codes.append("409")
                if "requestBody" in operation:
                    codes.append("400")  # a body that cannot be parsed at all
            for code in codes:
                existing = responses.get(code)
                if existing is None or "content" not in existing or code == "422":
                    answer = _error(code, page or html)
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
            app.openapi_schema = document_errors(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
