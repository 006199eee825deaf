"""The access tables of docs/access.md, and the table-driven test every service runs on them.

docs/access.md holds, for each service, one table: a row per route (method and path), a column
per role and one for a call without a token, `yes` (allowed) or `no` (denied), and the scope
that narrows an allowed role. That table is the one place the rules are written: each service's
`test_access.py` reads its table and calls every route of the service's app (from `app.routes`,
so a route without a row fails) as every caller:

- denied: 401 without a token, 403 with a token of the wrong role;
- allowed: anything but 401 and 403 (a 404 for an id, or a 422 for an empty body, is fine).

Each caller is the in-scope person of its role (the organiser of the world's scheme, a leader
rostered on its session, a student acting for themself), so what the table shows is the role
rule; each service's test adds the scope cases (out-of-scope callers get 403).

A new route is one line in its service's table in docs/access.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, params
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from tests.support import Harness

DOC = Path(__file__).resolve().parents[1] / "docs" / "access.md"
ROLES = ("coordinator", "organiser", "leader", "student", "academic", "integration")
CALLERS = (*ROLES, "no token")
_HEADER = ["route", *CALLERS, "scope"]
_MARK = {"yes": True, "no": False}
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Rule:
    method: str
    path: str
    allowed: Mapping[str, bool]
    scope: str

    @property
    def route(self) -> str:
        return f"{self.method} {self.path}"


def read_table(service: str, text: str | None = None) -> dict[str, Rule]:
    """The rows of `service`'s table in docs/access.md, by `METHOD /path`, with those of the
    routes every service has (the table `## every service`)."""
    text = DOC.read_text(encoding="utf-8") if text is None else text
    return {**_section(EVERY_SERVICE, text), **_section(service, text)}


EVERY_SERVICE = "every service"


def _section(service: str, text: str) -> dict[str, Rule]:
    match = re.search(rf"^## {re.escape(service)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"docs/access.md has no section '## {service}'"
    lines = [ln for ln in match.group(1).splitlines() if ln.startswith("|")]
    assert lines, f"docs/access.md: no table under '## {service}'"
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header == _HEADER, f"docs/access.md ({service}): the columns are {_HEADER}"
    rules: dict[str, Rule] = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert len(cells) == len(_HEADER), f"docs/access.md ({service}): {line!r}"
        method, _, path = cells[0].strip("`").partition(" ")
        marks = cells[1 : 1 + len(CALLERS)]
        assert set(marks) <= set(_MARK), f"docs/access.md ({service}): yes or no in {line!r}"
        rule = Rule(
            method, path, dict(zip(CALLERS, (_MARK[m] for m in marks), strict=True)), cells[-1]
        )
        assert rule.route not in rules, f"docs/access.md ({service}): {rule.route} twice"
        rules[rule.route] = rule
    return rules


def app_routes(app: FastAPI) -> dict[str, APIRoute | None]:
    """Every `METHOD /path` the app answers (HEAD aside), with its APIRoute when it has one."""
    found: dict[str, APIRoute | None] = {}
    for context in iter_route_contexts(app.routes):
        original = context.original_route
        for method in sorted(context.methods or ()):
            if method in _METHODS:
                found[f"{method} {context.path}"] = (
                    original if isinstance(original, APIRoute) else None
                )
    return found


@dataclass
class World:
    """What a service's table is tested against: who each role is, and values for the path,
    query and form parameters of the routes (by name; `{student_number}` is the caller's own)."""

    subs: Mapping[str, str]
    params: Mapping[str, str] = field(default_factory=dict)


def _fields(dependant: Dependant) -> tuple[list[Any], list[Any]]:
    """The query and body fields of a route and of its dependencies."""
    queries, bodies = list(dependant.query_params), list(dependant.body_params)
    for sub in dependant.dependencies:
        q, b = _fields(sub)
        queries += q
        bodies += b
    return queries, bodies


def _request_parts(
    route: APIRoute | None, path: str, world: World, caller: str
) -> tuple[str, dict[str, str], dict[str, str] | None]:
    own = world.subs.get(caller, "nobody")
    values = {**world.params, "student_number": own}

    def fill(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        return values.get(name, "unknown")

    url = re.sub(r"\{([^}]+)\}", fill, path)
    query: dict[str, str] = {}
    form: dict[str, str] | None = None
    if route is not None:
        queries, bodies = _fields(route.dependant)
        for param in queries:
            if param.field_info.is_required():
                query[param.alias] = values.get(param.alias, "x")
        forms = [p for p in bodies if isinstance(p.field_info, params.Form)]
        if forms:
            form = {p.alias: values.get(p.alias, "1") for p in forms}
    return url, query, form


async def answers(h: Harness, world: World, key: str, route: APIRoute | None) -> dict[str, int]:
    """The status each caller gets from the route `key` (`METHOD /path`)."""
    method, _, path = key.partition(" ")
    out: dict[str, int] = {}
    for caller in CALLERS:
        url, query, form = _request_parts(route, path, world, caller)
        headers = {} if caller == "no token" else h.auth(caller, world.subs[caller])
        kwargs: dict[str, Any] = {"params": query, "headers": headers}
        if form is not None:
            kwargs["data"] = form
        elif method != "GET":
            kwargs["json"] = {}
        out[caller] = (await h.client.request(method, url, **kwargs)).status_code
    return out


def row(key: str, statuses: Mapping[str, int], scope: str = "") -> str:
    """A table row for `key` as the app answered (to review, then paste into the docs)."""
    method, _, path = key.partition(" ")
    marks = ["no" if statuses[c] in (401, 403) else "yes" for c in CALLERS]
    return f"| `{method} {path}` | {' | '.join(marks)} | {scope} |"


async def check_table(h: Harness, service: str, world: World) -> None:
    """Call every route of the app as every caller; fail listing each call whose answer
    disagrees with docs/access.md, and each route with no row (or a row with no route)."""
    rules = read_table(service)
    routes = app_routes(h.app)
    problems = [
        f"{r}: in docs/access.md ({service}) but not a route" for r in rules if r not in routes
    ]
    for key, route in routes.items():
        statuses = await answers(h, world, key, route)
        rule = rules.get(key)
        if rule is None:
            problems.append(
                f"{key}: no row in docs/access.md ({service}); the app answers {statuses}, "
                f"that is:\n{row(key, statuses)}"
            )
            continue
        for caller, status in statuses.items():
            if rule.allowed[caller]:
                if status in (401, 403):
                    problems.append(f"{key} as {caller}: {status}, expected allowed")
            else:
                want = 401 if caller == "no token" else 403
                if status != want:
                    problems.append(f"{key} as {caller}: {status}, expected {want}")
    assert not problems, "\n".join(problems)
