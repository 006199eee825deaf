"""Security headers on every HTML response: a strict Content-Security-Policy, no framing, no
referrer leaving the site, no content-type sniffing.

Pages are served without inline scripts or styles (styles are files the service serves), so the
policy allows nothing but the service's own styles and images, and forms posted to itself. The
interactive API docs (`/docs`) run Swagger UI from files the service serves itself
(`docs_assets.py`), with no inline script: their policy allows scripts, styles and requests to
the service's own origin only, and they may not be framed either.
A header a response sets itself (a stricter `Referrer-Policy`, say) is kept.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from passhub_shared.web.docs_assets import DOCS_PATH

#: the pages' policy: nothing inline, nothing from elsewhere
PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
#: the API docs: Swagger UI and its start-up script, both files of the service's own origin
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)


_HTML = {
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"no-referrer",
}
_EVERY = {b"x-content-type-options": b"nosniff"}


class SecurityHeaders:
    """Plain ASGI middleware: adds the headers above to each response that has none of its own
    (CSP, framing and referrer to `text/html` ones; `nosniff` to all)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                content_type = next(
                    (v for n, v in headers if n.lower() == b"content-type"), b""
                ).lower()
                extra = dict(_EVERY)
                if content_type.startswith(b"text/html"):
                    extra |= _HTML
                    docs = scope["path"] == DOCS_PATH
                    policy = DOCS_POLICY if docs else PAGE_POLICY
                    extra[b"content-security-policy"] = policy.encode()
                headers += [(n, v) for n, v in extra.items() if n not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
