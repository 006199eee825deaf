"""What the console's Sessions, Attendance and Evaluation pages share around a change: reading
a posted form with its CSRF token, and turning a service's refusal into a page that says what
was wrong and where to go next (nothing was changed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NoReturn

from fastapi import Request
from starlette.datastructures import FormData, UploadFile

from passhub_portal.clients import ServiceError
from passhub_portal.settings import PortalSettings
from passhub_portal.web import PageError, check_csrf


async def posted(request: Request) -> FormData:
    """The posted form, once its CSRF token is checked."""
    form = await request.form()
    check_csrf(request, text(form, "csrf"))
    return form


def text(form: FormData, name: str, limit: int = 2000) -> str:
    value = form.get(name)
    if value is None or isinstance(value, UploadFile):
        return ""
    return value.strip()[:limit]


def refused(error: ServiceError, href: str, label: str = "Go back") -> NoReturn:
    """A refusal the person can act on (a bad value, a clash, a missing reason) as a page
    that says why; anything else is the portal's usual error page."""
    if error.status in (404, 409, 422):
        detail = error.detail or "passhub could not do that."
        raise PageError(
            "That could not be done",
            f"{detail.rstrip('.')}. Nothing was changed.",
            status=error.status,
            next_href=href,
            next_label=label,
        ) from None
    raise error


def local_time(settings: PortalSettings, when: str | None, fmt: str = "%a %d %b %Y, %H:%M") -> str:
    """An instant from a service, in the institution's local time."""
    if not when:
        return ""
    return datetime.fromisoformat(when).astimezone(settings.tz).strftime(fmt)


def field_values(form: FormData, names: tuple[str, ...]) -> dict[str, Any]:
    """The named fields of a form (to carry them into a preview's confirm form)."""
    return {n: text(form, n) for n in names}
