"""Hostile input stopped at the door, once for every service.

PostgreSQL cannot store a NUL character in `text` or `jsonb`, and UTF-8 cannot encode a lone
surrogate (`\\ud800` in JSON): such a string used to reach the database and come back as a
500 after the request had been half-served. `InputGuard` refuses it first, with a 422 naming
where it was, for

* the path (`/schemes/%00`) and the query string (`?q=%00`),
* JSON bodies (a `\\u0000` in any string, key or value) and HTML form posts.

CSV uploads are read with `passhub_shared.web.csvsafe.csv_records`, which refuses a NUL with its
line. What still gets through (a value out of PostgreSQL's range, a driver's encoding error)
is turned into a 422 by `out_of_range_response`, the last line of defence that `create_app`
installs for the database's data errors (SQLSTATE class 22) and Python's `OverflowError`.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from asyncpg import exceptions as asyncpg_exceptions
from asyncpg.exceptions import _base as asyncpg_base
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: the error code of every refusal here
INVALID_TEXT = "invalid_text"
#: the error code of a value the database or Python's datetime cannot hold
OUT_OF_RANGE = "out_of_range"

#: dates passhub takes lie in these years: a PASS year is never far from now, and a date near
#: year 1 or 9999 overflows Python's datetime once an offset or a duration is added to it
MIN_YEAR, MAX_YEAR = 1900, 2999

# Only bodies that may hold one of these escapes, or a date string outside the years above, are
# parsed again (most never do).
_SUSPECT_JSON = re.compile(
    rb"\\u(?:0000|[dD][89a-fA-F])|\"(?:0\d\d\d|1[0-8]\d\d|[3-9]\d\d\d|\d{5,})-\d\d-\d\d"
)
_DATE = re.compile(r"^[+-]?(\d{4,})-\d\d-\d\d(?:[T ].*)?$", re.DOTALL)
_JSON_TYPES = ("application/json",)
_FORM_TYPE = "application/x-www-form-urlencoded"


def unstorable(text: str) -> str | None:
    """Why `text` cannot be stored as PostgreSQL text (None when it can)."""
    if "\x00" in text:
        return "a NUL character (\\u0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "a lone surrogate (not a character)"
    return None


def unusable(text: str) -> str | None:
    """Why passhub refuses `text` in a request: text it cannot store, or a date outside the
    years MIN_YEAR to MAX_YEAR (None when it takes it)."""
    problem = unstorable(text)
    if problem is not None:
        return problem
    date = _DATE.match(text)
    if date is not None and not MIN_YEAR <= int(date.group(1)) <= MAX_YEAR:
        return f"a date outside the years {MIN_YEAR} to {MAX_YEAR}"
    return None


def find_unstorable(value: Any, loc: tuple[str | int, ...] = ()) -> dict[str, Any] | None:
    """The first string in a decoded JSON value (keys included) passhub refuses, as
    `{"loc": [...], "msg": ...}`, or None."""
    if isinstance(value, str):
        problem = unusable(value)
        return None if problem is None else {"loc": list(loc), "msg": f"holds {problem}"}
    if isinstance(value, dict):
        for key, item in value.items():
            found = find_unstorable(key, (*loc, key)) or find_unstorable(item, (*loc, key))
            if found:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = find_unstorable(item, (*loc, i))
            if found:
                return found
    return None


def _body_problem(body: bytes, content_type: str) -> dict[str, Any] | None:
    if content_type.startswith(_FORM_TYPE):
        text = body.decode("latin-1")
        if "%00" not in text and "\x00" not in text:
            return None
        for key, value in parse_qsl(text, keep_blank_values=True):
            problem = unusable(key) or unusable(value)
            if problem:
                return {"loc": ["body", key.replace("\x00", "\\u0000")], "msg": f"holds {problem}"}
        return None
    if not _SUSPECT_JSON.search(body):
        return None
    try:
        decoded = json.loads(body)
    except ValueError:
        return None  # not JSON: the route's own validation says so
    return find_unstorable(decoded, ("body",))


def _is_json(content_type: str) -> bool:
    # FastAPI reads a body without a content type as JSON too.
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "" or media in _JSON_TYPES or media.endswith("+json")


def _query_problem(query: bytes) -> dict[str, Any] | None:
    if not query:
        return None
    for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        problem = unusable(key) or unusable(value)
        if problem is not None:
            return {"loc": ["query", key.replace("\x00", "\\u0000")], "msg": f"holds {problem}"}
    if b"\x00" in unquote_to_bytes(query):  # a NUL parse_qsl did not split into a field
        return {"loc": ["query"], "msg": "holds a NUL character (\\u0000)"}
    return None


class InputGuard:
    """Plain ASGI middleware: a 422 `invalid_text` for text the database cannot store, before
    any route sees it. JSON and form bodies are read whole here (they are small); other bodies
    (CSV uploads) pass through as a stream."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = None
        if "\x00" in scope["path"]:
            problem = {"loc": ["path"], "msg": "holds a NUL character (\\u0000)"}
        else:
            problem = _query_problem(scope.get("query_string", b""))
        if problem is not None:
            await _refuse(send, problem)
            return
        content_type = ""
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value.decode("latin-1")
                break
        if scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE") and not content_type:
            await self.app(scope, receive, send)
            return
        if not (_is_json(content_type) or content_type.startswith(_FORM_TYPE)):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        chunks: list[bytes] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = _body_problem(body, content_type)
        if problem is not None:
            await _refuse(send, problem)
            return
        replay: list[Message] = (
            [{"type": "http.request", "body": body, "more_body": False}]
            if messages and messages[-1]["type"] == "http.request"
            else messages
        )

        async def replaying() -> Message:
            if replay:
                return replay.pop(0)
            return await receive()

        await self.app(scope, replaying, send)


async def _refuse(send: Send, problem: dict[str, Any]) -> None:
    where = ".".join(str(p) for p in problem["loc"])
    code = OUT_OF_RANGE if "date outside" in problem["msg"] else INVALID_TEXT
    body = json.dumps(
        {
            "detail": f"{where} {problem['msg']}: passhub cannot take it; nothing was changed",
            "code": code,
            "errors": [{**problem, "type": code}],
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def out_of_range_response(exc: BaseException) -> JSONResponse | None:
    """The 422 for a value the database or Python cannot hold, or None if `exc` is no such
    error. PostgreSQL's data exceptions (SQLSTATE class 22: `DatetimeFieldOverflowError`,
    `UntranslatableCharacterError`, `CharacterNotInRepertoireError`, a number out of range...)
    and asyncpg's own `DataError` (a value it cannot encode) come wrapped in SQLAlchemy's
    `DBAPIError`; Python's datetime raises `OverflowError` past year 9999 or before year 1.
    The transaction the error broke has rolled back, so nothing was written."""
    reason = (
        f"a date or number out of range ({exc})"
        if isinstance(exc, OverflowError)
        else _data_error(exc)
    )
    if reason is None:
        return None
    return JSONResponse(
        {
            "detail": f"the request holds {reason}; nothing was changed",
            "code": OUT_OF_RANGE,
        },
        status_code=422,
    )


def _data_error(exc: BaseException) -> str | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, asyncpg_exceptions.DataError | asyncpg_base.DataError):
            return f"a value the database cannot store ({_first_line(current)})"
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith("22"):
            return f"a value the database cannot store ({_first_line(current)})"
        current = getattr(current, "orig", None) or current.__cause__
    return None


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
