"""What every page of the coordinators' console shares: who may reach which area, the
organiser's own schemes, the navigation, and server-side paging and sorting of lists.

Roles: a coordinator reaches every area; an organiser the areas that act on schemes, narrowed
to the schemes they organise; an academic the reports only. A leader, a student or a kiosk
never reaches a console page: they get a 403 page that sends them to their own pages.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from passhub_portal.clients import ServiceError
from passhub_portal.identity import Roles
from passhub_portal.web import PageError, Person, page, person

#: the console's staff roles, most powerful first
CONSOLE_ROLES = ("coordinator", "organiser", "academic")


@dataclass(frozen=True)
class NavEntry:
    """One area of the console: its key, the words in the navigation, where it starts, who may
    reach it, and one line for the console's home page."""

    key: str
    label: str
    href: str
    roles: tuple[str, ...]
    summary: str = ""


#: the console's areas, in the order of the navigation; an area's module adds its own entry
#: here (`NAV.append(...)`) or this list names it already
NAV: list[NavEntry] = [
    NavEntry(
        "recruitment",
        "Recruitment",
        "/console/recruitment",
        ("coordinator", "organiser"),
        "Campaigns, student records, applications, the shortlist, appointments and training.",
    ),
    NavEntry(
        "recognition",
        "Recognition",
        "/console/recognition",
        ("coordinator",),
        "The year's policy, leaders' progress and who is at risk, the awards run, "
        "certificates and the HEAR and PSA exports.",
    ),
    NavEntry(
        "sessions",
        "Sessions",
        "/console/sessions",
        ("coordinator", "organiser"),
        "Schemes, term dates, weekly series, rooms and the rota; reschedule, move or cancel.",
    ),
    NavEntry(
        "attendance",
        "Attendance",
        "/console/attendance",
        ("coordinator", "organiser", "academic"),
        "Today's sessions and their headcounts, who came to a session and corrections, "
        "paper sign-in sheets, and students who stopped coming.",
    ),
    NavEntry(
        "evaluation",
        "Evaluation",
        "/console/evaluation",
        ("coordinator", "organiser", "academic"),
        "Feedback, participation against outcomes, trends and the template exports.",
    ),
]


def nav_entry(key: str) -> NavEntry:
    for entry in NAV:
        if entry.key == key:
            return entry
    raise KeyError(key)


@dataclass
class Console:
    """The signed-in staff member on a console page: their person (services, token), the role
    the console treats them as, and, for an organiser, the schemes they organise."""

    person: Person
    role: str
    area: str
    _own: frozenset[str] | None = field(default=None, repr=False)

    @property
    def coordinator(self) -> bool:
        return self.role == "coordinator"

    @property
    def organiser(self) -> bool:
        return self.role == "organiser"

    @property
    def academic(self) -> bool:
        return self.role == "academic"

    @property
    def number(self) -> str:
        return self.person.identity.number

    def token(self) -> str:
        return self.person.token()

    async def call(self, service: str, method: str, path: str, **kwargs: Any) -> Any:
        """A call to a service's API with this person's token."""
        return await self.person.services.call(service, method, path, self.token(), **kwargs)

    async def get_one(self, service: str, path: str, missing: PageError) -> dict[str, Any]:
        """One thing from a service's API; `missing` (a 404 page with a way back) when the
        service knows nothing at that address (404) or refuses the address itself (422)."""
        try:
            found: dict[str, Any] = await self.call(service, "GET", path)
        except ServiceError as error:
            if error.status in (404, 422):
                raise missing from None
            raise
        return found

    async def own_schemes(self) -> frozenset[str]:
        """The scheme ids an organiser organises: named on the scheme by a coordinator (the
        sessions service), or appointed student organiser by recruitment, not stood down."""
        if self._own is None:
            schemes = await self.call("sessions", "GET", "/schemes")
            own = {s["scheme_id"] for s in schemes if self.number in (s.get("organisers") or [])}
            try:
                held = await self.call(
                    "recruitment", "GET", f"/people/{quote(self.number)}/appointments"
                )
            except ServiceError:
                held = []
            own |= {a["scheme_id"] for a in held if a.get("role") == "organiser"}
            self._own = frozenset(own)
        return self._own

    async def may_act_on(self, scheme_id: str) -> bool:
        """A coordinator acts on every scheme; an organiser on their own; an academic on none."""
        if self.coordinator:
            return True
        if self.organiser:
            return scheme_id in await self.own_schemes()
        return False

    async def require_scheme(self, scheme_id: str) -> None:
        if not await self.may_act_on(scheme_id):
            raise PageError(
                "This is not one of your schemes",
                "Organisers see and change the schemes they organise. Nothing was changed. "
                "Ask the PASS coordinators if you should organise this scheme.",
                status=403,
                next_href=nav_entry(self.area).href,
                next_label="Back to the list",
            )

    def require_coordinator(self, what: str = "do this") -> None:
        if not self.coordinator:
            raise PageError(
                "Only the PASS coordinators can do this",
                f"Only coordinators can {what}. Nothing was changed.",
                status=403,
                next_href=nav_entry(self.area).href,
                next_label="Back",
            )


async def _student_organiser(p: Person) -> Person:
    """A student recruitment appointed student organiser (of a scheme, not stood down) is an
    organiser at this request, as an appointed leader is a leader: asked of recruitment now,
    so a stand-down counts at once. Anyone else stays as they are."""
    services = p.services
    held = await services.call(
        "recruitment",
        "GET",
        f"/people/{quote(p.identity.number)}/appointments",
        services.own_token(),
    )
    roles = {a.get("role") for a in held}
    if "organiser" not in roles:
        return p
    names = ("organiser", *(["leader"] if "leader" in roles else []), "student")
    return Person(
        p.identity,
        Roles(staff=("organiser",), leader="leader" in roles, student=True, names=names),
        services,
    )


def console_role(p: Person) -> str | None:
    for role in CONSOLE_ROLES:
        if role in p.roles.staff:
            return role
    return None


async def console(request: Request, area: str) -> Console:
    """The console gate of a page of `area` (a key of `NAV`, or "home"): not logged in, the
    login; a leader, student or kiosk, a 403 page sending them to their own pages; staff whose
    role does not reach the area, a 403 page back to the console's home."""
    p = await person(request, as_leader=False)
    role = console_role(p)
    if role is None and p.roles.student:
        p = await _student_organiser(p)
        role = console_role(p)
    if role is None:
        if p.roles.kiosk:
            href, label = "/kiosk", "Go to the kiosk"
        elif p.roles.student:
            href, label = "/", "Go to my pages"
        else:
            href, label = "/", "Go to the start page"
        raise PageError(
            "The console is for PASS staff",
            "These pages are for the PASS coordinators, organisers and academics. Your login "
            "does not hold one of those roles. If you think it should, ask the PASS "
            "coordinators.",
            status=403,
            next_href=href,
            next_label=label,
        )
    if area != "home" and role not in nav_entry(area).roles:
        raise PageError(
            "This part of the console is not open to you",
            f"As {article(role)} {role} you can use the other parts of the console. "
            "If you think you need this one, ask the PASS coordinators.",
            status=403,
            next_href="/console",
            next_label="Go to the console",
        )
    return Console(p, role, area)


def article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def render(
    request: Request, c: Console, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """A console page: its template gets the navigation this role reaches, with the current
    area marked."""
    return page(
        request,
        name,
        {
            "nav": [e for e in NAV if c.role in e.roles],
            "area": c.area,
            "console_role": c.role,
            **context,
        },
        status_code=status_code,
    )


# -- paging and sorting on the server ------------------------------------------------------------

#: rows on one page of a console list
PER_PAGE = 25


@dataclass(frozen=True)
class Column:
    """A sortable column: its key in `?sort=`, its heading, and the value rows sort by."""

    key: str
    label: str
    value: Callable[[dict[str, Any]], Any]


@dataclass
class Listing:
    """One page of a sorted list, and what the table's headings and the pager need."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    sort: str
    descending: bool
    columns: Sequence[Column]
    base: str
    params: dict[str, str]

    def href(self, **change: Any) -> str:
        """This list's address with some parameters changed (`page=2`, `sort="-name"`)."""
        params = {**self.params, "sort": ("-" if self.descending else "") + self.sort}
        params["page"] = str(self.page)
        for key, value in change.items():
            params[key] = str(value)
        kept = {k: v for k, v in params.items() if v not in ("", None)}
        if kept.get("page") == "1":
            kept.pop("page")
        return f"{self.base}?{urlencode(kept)}" if kept else self.base

    def sort_href(self, key: str) -> str:
        """A heading's link: sort by it, or the other way when it is already the sort."""
        descending = key == self.sort and not self.descending
        return self.href(sort=("-" if descending else "") + key, page=1)

    def aria_sort(self, key: str) -> str | None:
        if key != self.sort:
            return None
        return "descending" if self.descending else "ascending"

    @property
    def first(self) -> int:
        return 0 if not self.total else (self.page - 1) * PER_PAGE + 1

    @property
    def last(self) -> int:
        return min(self.total, self.page * PER_PAGE)


def _sort_key(value: Any) -> tuple[int, Any]:
    """None last whichever way; numbers (and tuples, a column's own order) as they are,
    everything else as folded text."""
    if value is None:
        return (1, "")
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, int | float | tuple):
        return (0, value)
    return (0, str(value).casefold())


def listing(
    rows: Iterable[dict[str, Any]],
    columns: Sequence[Column],
    *,
    base: str,
    sort: str = "",
    page: str | int = 1,
    default_sort: str | None = None,
    params: dict[str, str] | None = None,
    per_page: int = PER_PAGE,
) -> Listing:
    """Sort `rows` by `?sort=` (a column's key, `-key` for descending; an unknown key falls back
    to `default_sort`) and cut out `?page=` (out of range: the nearest page)."""
    keys = {c.key: c for c in columns}
    wanted = sort.strip()
    descending = wanted.startswith("-")
    key = wanted.lstrip("-")
    if key not in keys:
        fallback = default_sort or columns[0].key
        descending = fallback.startswith("-")
        key = fallback.lstrip("-")
    column = keys[key]
    items = list(rows)
    present = [r for r in items if column.value(r) is not None]
    absent = [r for r in items if column.value(r) is None]
    present.sort(key=lambda r: _sort_key(column.value(r)), reverse=descending)
    ordered = present + absent
    total = len(ordered)
    pages = max(1, math.ceil(total / per_page))
    try:
        number = int(page)
    except (TypeError, ValueError):
        number = 1
    number = min(max(1, number), pages)
    start = (number - 1) * per_page
    return Listing(
        rows=ordered[start : start + per_page],
        total=total,
        page=number,
        pages=pages,
        sort=key,
        descending=descending,
        columns=columns,
        base=base,
        params={k: v for k, v in (params or {}).items() if v},
    )
