"""The console's Sessions area: schemes and term dates, a scheme's weekly series, rooms and
sessions, the rota as a grid of teaching weeks by weekly slot, and a session's page where its
leaders are changed and it is rescheduled, moved or cancelled. Every change is previewed with
the sessions service's own checks (`dry_run`, `/candidates`) before it is saved."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, tzinfo
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from passhub_portal.clients import ServiceError
from passhub_portal.console.actions import local_time, posted, refused, text
from passhub_portal.console.frame import Column, Console, console, listing, render
from passhub_portal.leading import academic_year
from passhub_portal.web import PageError, flash, settings_of

router = APIRouter()

AREA = "sessions"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
YEAR = r"^\d{4}-\d{2}$"


def _href_scheme(scheme_id: str) -> str:
    return f"/console/sessions/schemes/{quote(scheme_id)}"


def _href_session(session_id: str) -> str:
    return f"/console/sessions/sessions/{quote(session_id)}"


async def _scheme(c: Console, scheme_id: str) -> dict[str, Any]:
    """The scheme, if this person may see it: an organiser only their own."""
    try:
        scheme: dict[str, Any] = await c.call("sessions", "GET", f"/schemes/{quote(scheme_id)}")
    except ServiceError as error:
        if error.status == 404:
            raise PageError(
                "No such scheme",
                "There is no scheme at this address.",
                status=404,
                next_href="/console/sessions",
                next_label="Back to the schemes",
            ) from None
        raise
    await c.require_scheme(scheme_id)
    return scheme


def _year_of(request: Request) -> str:
    wanted = request.query_params.get("year", "")
    if len(wanted) == 7 and wanted[4] == "-" and wanted[:4].isdigit() and wanted[5:].isdigit():
        return wanted
    return academic_year(settings_of(request))


# -- schemes -----------------------------------------------------------------------------------

SCHEME_COLUMNS = (
    Column("title", "Scheme", lambda r: r.get("title")),
    Column("code", "Code", lambda r: r.get("code")),
    Column("school", "School", lambda r: r.get("school")),
    Column("mode", "Mode", lambda r: r.get("mode")),
    Column("leaders", "Leaders a session", lambda r: r.get("min_leaders_per_session")),
)


@router.get("/console/sessions")
async def schemes(request: Request) -> Response:
    c = await console(request, AREA)
    year = _year_of(request)
    listed: list[dict[str, Any]] = await c.call(
        "sessions", "GET", "/schemes", params={"academic_year": year}
    )
    if c.organiser:
        own = await c.own_schemes()
        listed = [s for s in listed if s["scheme_id"] in own]
    q = request.query_params
    rows = listing(
        listed,
        SCHEME_COLUMNS,
        base="/console/sessions",
        sort=q.get("sort", ""),
        page=q.get("page", "1"),
        params={"year": year},
    )
    return render(
        request,
        c,
        "console/sessions_schemes.html",
        {"title": "Sessions: schemes", "year": year, "rows": rows},
    )


def _words(value: str, limit: int = 50) -> list[str]:
    """Codes or numbers typed with spaces or commas between them."""
    return [w for w in value.replace(",", " ").split() if w][:limit]


@router.post("/console/sessions/schemes")
async def launch(request: Request) -> Response:
    """A coordinator launches a scheme for a year."""
    form = await posted(request)
    c = await console(request, AREA)
    c.require_coordinator("launch a scheme")
    back = "/console/sessions"
    leaders = text(form, "min_leaders_per_session")
    body: dict[str, Any] = {
        "code": text(form, "code", 24),
        "title": text(form, "title", 200),
        "school": text(form, "school", 200),
        "academic_year": text(form, "academic_year", 7),
        "mode": "opt_out" if text(form, "mode") == "opt_out" else "opt_in",
        "modules": _words(text(form, "modules")),
        "organisers": _words(text(form, "organisers"), 20),
    }
    if leaders.isdigit():
        body["min_leaders_per_session"] = int(leaders)
    try:
        made = await c.call("sessions", "POST", "/schemes", json=body)
    except ServiceError as error:
        refused(error, back, "Back to the schemes")
    flash(request, f"{made['title']} is launched ({made['scheme_id']}).")
    return RedirectResponse(_href_scheme(made["scheme_id"]), status_code=303)


@router.post("/console/sessions/schemes/{scheme_id}/amend")
async def amend(request: Request, scheme_id: str) -> Response:
    """A coordinator names the scheme's organisers and the leaders a session needs."""
    form = await posted(request)
    c = await console(request, AREA)
    c.require_coordinator("change a scheme's organisers")
    back = _href_scheme(scheme_id)
    leaders = text(form, "min_leaders_per_session")
    body: dict[str, Any] = {"organisers": _words(text(form, "organisers"), 20)}
    if leaders.isdigit():
        body["min_leaders_per_session"] = int(leaders)
    try:
        await c.call("sessions", "PATCH", f"/schemes/{quote(scheme_id)}", json=body)
    except ServiceError as error:
        refused(error, back, "Back to the scheme")
    flash(request, "The scheme is changed.")
    return RedirectResponse(back, status_code=303)


@router.get("/console/sessions/term-dates")
async def term_dates(request: Request) -> Response:
    c = await console(request, AREA)
    year = _year_of(request)
    try:
        terms = await c.call("sessions", "GET", f"/term-dates/{quote(year)}")
    except ServiceError as error:
        if error.status not in (404, 422):
            raise
        terms = None
    return render(
        request,
        c,
        "console/sessions_terms.html",
        {
            "title": f"Term dates {year}",
            "year": year,
            "terms": terms,
            "crumbs": [("/console/sessions", "Sessions")],
        },
    )


# -- one scheme: series, rooms, sessions --------------------------------------------------------

SESSION_COLUMNS = (
    Column("starts", "When", lambda r: r.get("starts_at")),
    Column("week", "Week", lambda r: r.get("teaching_week")),
    Column("room", "Room", lambda r: (r.get("room") or "").casefold()),
    Column("capacity", "Capacity", lambda r: r.get("capacity")),
    Column("leaders", "Leaders", lambda r: len(r.get("leaders") or [])),
    Column("status", "Status", lambda r: r.get("status")),
)


def _rooms(sessions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The scheme's rooms: their capacity (the largest booked) and how many sessions each."""
    found: dict[str, dict[str, Any]] = {}
    for s in sessions:
        if s["status"] != "scheduled":
            continue
        key = " ".join(s["room"].split()).casefold()
        room = found.setdefault(key, {"room": s["room"], "capacity": 0, "sessions": 0})
        room["capacity"] = max(room["capacity"], s["capacity"])
        room["sessions"] += 1
    return sorted(found.values(), key=lambda r: str(r["room"]).casefold())


@router.get("/console/sessions/schemes/{scheme_id}")
async def scheme_page(request: Request, scheme_id: str) -> Response:
    c = await console(request, AREA)
    scheme = await _scheme(c, scheme_id)
    settings = settings_of(request)
    series = await c.call("sessions", "GET", f"/schemes/{quote(scheme_id)}/series")
    sessions: list[dict[str, Any]] = await c.call(
        "sessions", "GET", f"/schemes/{quote(scheme_id)}/sessions"
    )
    try:
        terms = await c.call("sessions", "GET", f"/term-dates/{quote(scheme['academic_year'])}")
    except ServiceError:
        terms = None
    for s in sessions:
        ends = local_time(settings, s["ends_at"], "%H:%M")
        s["when"] = f"{local_time(settings, s['starts_at'])} to {ends}"
    q = request.query_params
    rows = listing(
        sessions,
        SESSION_COLUMNS,
        base=_href_scheme(scheme_id),
        sort=q.get("sort", ""),
        page=q.get("page", "1"),
    )
    return render(
        request,
        c,
        "console/sessions_scheme.html",
        {
            "title": scheme["title"],
            "scheme": scheme,
            "series": series,
            "rooms": _rooms(sessions),
            "rows": rows,
            "weekdays": WEEKDAYS,
            "weeks": (terms or {}).get("teaching_weeks", []),
            "crumbs": [("/console/sessions", "Sessions")],
        },
    )


@router.post("/console/sessions/schemes/{scheme_id}/series")
async def add_series(request: Request, scheme_id: str) -> Response:
    form = await posted(request)
    c = await console(request, AREA)
    await _scheme(c, scheme_id)
    back = _href_scheme(scheme_id)
    semesters = [int(str(s)) for s in form.getlist("semesters") if str(s) in ("1", "2")]
    skip = [str(w)[:8] for w in form.getlist("skip_weeks")][:40]
    capacity = text(form, "capacity")
    body = {
        "weekday": text(form, "weekday"),
        "starts": text(form, "starts"),
        "ends": text(form, "ends"),
        "room": text(form, "room", 80),
        "capacity": int(capacity) if capacity.isdigit() else 0,
        "semesters": semesters or [1, 2],
        "skip_weeks": skip,
    }
    try:
        made = await c.call("sessions", "POST", f"/schemes/{quote(scheme_id)}/series", json=body)
    except ServiceError as error:
        refused(error, back, "Back to the scheme")
    flash(request, f"The weekly series is scheduled: {len(made['sessions'])} sessions.")
    return RedirectResponse(back, status_code=303)


@router.post("/console/sessions/schemes/{scheme_id}/sessions")
async def add_session(request: Request, scheme_id: str) -> Response:
    form = await posted(request)
    c = await console(request, AREA)
    await _scheme(c, scheme_id)
    back = _href_scheme(scheme_id)
    day, starts, ends = text(form, "date"), text(form, "starts"), text(form, "ends")
    capacity = text(form, "capacity")
    body = {
        "starts_at": f"{day}T{starts}",
        "ends_at": f"{day}T{ends}",
        "room": text(form, "room", 80),
        "capacity": int(capacity) if capacity.isdigit() else 0,
    }
    try:
        made = await c.call("sessions", "POST", f"/schemes/{quote(scheme_id)}/sessions", json=body)
    except ServiceError as error:
        refused(error, back, "Back to the scheme")
    flash(request, f"Session {made['reference']} is scheduled.")
    return RedirectResponse(_href_session(made["session_id"]), status_code=303)


# -- the rota grid ------------------------------------------------------------------------------


def rota_grid(
    sessions: list[dict[str, Any]], minimum: int, tz: tzinfo
) -> tuple[list[str], list[dict[str, Any]]]:
    """Weeks by weekly slot: the columns are the slots (weekday, start, room) the sessions
    fall in, the rows the teaching weeks (or the dates of sessions outside them), and each
    cell the session of that week in that slot, with its leaders and whether it is short."""
    slots: dict[tuple[int, str, str], str] = {}
    weeks: dict[str, dict[str, Any]] = {}
    for s in sessions:
        starts = datetime.fromisoformat(s["starts_at"]).astimezone(tz)
        key = (starts.weekday(), starts.strftime("%H:%M"), " ".join(s["room"].split()).casefold())
        slots.setdefault(key, f"{starts:%a} {starts:%H:%M}, {s['room']}")
        monday = date.fromordinal(starts.date().toordinal() - starts.weekday())
        label = s.get("teaching_week") or f"w/c {monday:%d %b}"
        row = weeks.setdefault(label, {"label": label, "monday": monday, "cells": {}})
        leaders = s.get("leaders") or []
        row["cells"].setdefault(key, []).append(
            {
                **s,
                "date": f"{starts:%a %d %b}",
                "short": s["status"] == "scheduled" and len(leaders) < minimum,
                "names": [x.get("name") or x["student_number"] for x in leaders],
                "numbers": [x["student_number"] for x in leaders],
            }
        )
    order = sorted(slots)
    rows = sorted(weeks.values(), key=lambda r: r["monday"])
    for row in rows:
        row["cells"] = [row["cells"].get(k, []) for k in order]
    return [slots[k] for k in order], rows


@router.get("/console/sessions/schemes/{scheme_id}/rota")
async def rota(request: Request, scheme_id: str) -> Response:
    c = await console(request, AREA)
    scheme = await _scheme(c, scheme_id)
    settings = settings_of(request)
    sessions = await c.call("sessions", "GET", f"/schemes/{quote(scheme_id)}/sessions")
    minimum = int(scheme["min_leaders_per_session"])
    heads, rows = rota_grid(sessions, minimum, settings.tz)
    short = sum(1 for r in rows for cell in r["cells"] for s in cell if s["short"])
    return render(
        request,
        c,
        "console/sessions_rota.html",
        {
            "title": f"Rota: {scheme['title']}",
            "scheme": scheme,
            "heads": heads,
            "rows": rows,
            "short": short,
            "minimum": minimum,
            "crumbs": [
                ("/console/sessions", "Sessions"),
                (_href_scheme(scheme_id), scheme["title"]),
            ],
        },
    )


def _rota_body(form: Any) -> dict[str, Any]:
    body: dict[str, Any] = {}
    since = text(form, "from")
    if since:
        body["from"] = since
    if text(form, "backfill") == "yes":
        body["backfill"] = True
    return body


@router.post("/console/sessions/schemes/{scheme_id}/rota")
async def generate(request: Request, scheme_id: str) -> Response:
    """Without `confirm`: the rota the generator would make (a dry run) to look at; with it,
    the same request saved."""
    form = await posted(request)
    c = await console(request, AREA)
    scheme = await _scheme(c, scheme_id)
    settings = settings_of(request)
    back = f"{_href_scheme(scheme_id)}/rota"
    body = _rota_body(form)
    confirm = text(form, "confirm") == "yes"
    try:
        result = await c.call(
            "sessions",
            "POST",
            f"/schemes/{quote(scheme_id)}/rota",
            json={**body, "dry_run": not confirm},
        )
    except ServiceError as error:
        refused(error, back, "Back to the rota")
    if confirm:
        flash(
            request,
            f"The rota is saved: {len(result['rostered'])} leader places filled, "
            f"{len(result['unfillable'])} sessions still short.",
        )
        return RedirectResponse(back, status_code=303)
    sessions = await c.call("sessions", "GET", f"/schemes/{quote(scheme_id)}/sessions")
    by_id = {s["session_id"]: s for s in sessions}
    names: dict[str, str] = {}
    for s in sessions:
        for x in s.get("leaders") or []:
            names[x["student_number"]] = x.get("name") or x["student_number"]
    leaders = await c.call("sessions", "GET", f"/schemes/{quote(scheme_id)}/leaders")
    for x in leaders:
        names[x["student_number"]] = x.get("name") or x["student_number"]
    planned: dict[str, list[str]] = defaultdict(list)
    for a in result["rostered"]:
        planned[a["session_id"]].append(names.get(a["student_number"], a["student_number"]))
    additions = [
        {
            "reference": by_id[sid]["reference"] if sid in by_id else sid,
            "when": local_time(settings, by_id[sid]["starts_at"]) if sid in by_id else "",
            "leaders": who,
        }
        for sid, who in planned.items()
    ]
    return render(
        request,
        c,
        "console/sessions_rota_preview.html",
        {
            "title": f"Rota preview: {scheme['title']}",
            "scheme": scheme,
            "result": result,
            "additions": additions,
            "names": names,
            "body": body,
            "crumbs": [
                ("/console/sessions", "Sessions"),
                (_href_scheme(scheme_id), scheme["title"]),
                (back, "Rota"),
            ],
        },
    )


# -- one session: its leaders, and reschedule, move, cancel ------------------------------------


async def _session(c: Console, session_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    session = await c.get_one(
        "sessions",
        f"/sessions/{quote(session_id)}",
        PageError(
            "No such session",
            "There is no session at this address.",
            status=404,
            next_href="/console/sessions",
            next_label="Back to the schemes",
        ),
    )
    return session, await _scheme(c, session["scheme_id"])


@router.get("/console/sessions/sessions/{session_id}")
async def session_page(request: Request, session_id: str) -> Response:
    c = await console(request, AREA)
    session, scheme = await _session(c, session_id)
    settings = settings_of(request)
    candidates = await c.call("sessions", "GET", f"/sessions/{quote(session_id)}/candidates")
    history = await c.call("sessions", "GET", f"/sessions/{quote(session_id)}/history")
    for h in history:
        h["when"] = local_time(settings, h["occurred_at"])
        h["what"] = str(h["event"]).replace("_", " ")
    starts = datetime.fromisoformat(session["starts_at"]).astimezone(settings.tz)
    ends = datetime.fromisoformat(session["ends_at"]).astimezone(settings.tz)
    return render(
        request,
        c,
        "console/sessions_session.html",
        {
            "title": f"Session {session['reference']}",
            "session": session,
            "scheme": scheme,
            "when": f"{starts:%A %d %B %Y, %H:%M} to {ends:%H:%M}",
            "date": starts.date().isoformat(),
            "starts": f"{starts:%H:%M}",
            "ends": f"{ends:%H:%M}",
            "candidates": candidates,
            "free": [x for x in candidates["candidates"] if x["free"] and not x["rostered"]],
            "picked": request.query_params.get("pick", "")[:40],
            "history": history,
            "crumbs": [
                ("/console/sessions", "Sessions"),
                (_href_scheme(scheme["scheme_id"]), scheme["title"]),
                (f"{_href_scheme(scheme['scheme_id'])}/rota", "Rota"),
            ],
        },
    )


@router.post("/console/sessions/sessions/{session_id}/leaders")
async def change_leaders(request: Request, session_id: str) -> Response:
    """Put a picked leader on the session, take one off, or swap one for another: the
    service checks the incoming leader as the generator does (the page showed why not)."""
    form = await posted(request)
    c = await console(request, AREA)
    await _session(c, session_id)
    back = _href_session(session_id)
    action = text(form, "action")
    reason = text(form, "reason", 500)
    path = f"/sessions/{quote(session_id)}"
    try:
        if action == "add":
            number = text(form, "student_number", 40)
            await c.call("sessions", "POST", f"{path}/leaders", json={"student_number": number})
            message = f"{number} is on the session."
        elif action == "remove":
            number = text(form, "student_number", 40)
            await c.call(
                "sessions",
                "POST",
                f"{path}/leaders/{quote(number)}/unroster",
                json={"reason": reason},
            )
            message = f"{number} is off the session."
        elif action == "swap":
            out, incoming = text(form, "out", 40), text(form, "incoming", 40)
            await c.call(
                "sessions",
                "POST",
                f"{path}/swap",
                json={"out": out, "incoming": incoming, "reason": reason},
            )
            message = f"{incoming} replaces {out}."
        else:
            raise PageError(
                "Choose what to change",
                "Pick a leader to add, take off or swap. Nothing was changed.",
                status=422,
                next_href=back,
                next_label="Back to the session",
            )
    except ServiceError as error:
        refused(error, back, "Back to the session")
    flash(request, message)
    return RedirectResponse(back, status_code=303)


CHANGES = ("reschedule", "move", "cancel")


def _change_body(kind: str, form: Any) -> dict[str, Any]:
    reason = text(form, "reason", 500)
    if kind == "cancel":
        return {"reason": reason}
    capacity = text(form, "capacity")
    body: dict[str, Any] = {"room": text(form, "room", 80) or None, "reason": reason}
    if capacity.isdigit():
        body["capacity"] = int(capacity)
    if kind == "reschedule":
        day, starts, ends = text(form, "date"), text(form, "starts"), text(form, "ends")
        if day and starts:
            body["starts_at"] = f"{day}T{starts}"
        if day and ends:
            body["ends_at"] = f"{day}T{ends}"
    return {k: v for k, v in body.items() if v is not None}


@router.post("/console/sessions/sessions/{session_id}/reschedule")
async def reschedule(request: Request, session_id: str) -> Response:
    return await change_session(request, session_id, "reschedule")


@router.post("/console/sessions/sessions/{session_id}/move")
async def move(request: Request, session_id: str) -> Response:
    return await change_session(request, session_id, "move")


@router.post("/console/sessions/sessions/{session_id}/cancel")
async def cancel(request: Request, session_id: str) -> Response:
    return await change_session(request, session_id, "cancel")


async def change_session(request: Request, session_id: str, kind: str) -> Response:
    """Reschedule, move room or cancel: first a preview (the service's dry run: the session as
    it would be, the leaders whose calendars change, those it no longer suits, or the clash
    that stops it), then, confirmed, the change itself."""
    if kind not in CHANGES:
        raise PageError("Page not found", "There is no page at this address.", status=404)
    form = await posted(request)
    c = await console(request, AREA)
    session, scheme = await _session(c, session_id)
    settings = settings_of(request)
    back = _href_session(session_id)
    body = _change_body(kind, form)
    if kind == "cancel" and not body["reason"]:
        raise PageError(
            "Say why the session is cancelled",
            "A cancellation needs a reason: students and leaders see it. Nothing was changed.",
            status=422,
            next_href=back,
            next_label="Back to the session",
        )
    confirm = text(form, "confirm") == "yes"
    try:
        answer = await c.call(
            "sessions",
            "POST",
            f"/sessions/{quote(session_id)}/{kind}",
            json={**body, "dry_run": not confirm},
        )
    except ServiceError as error:
        refused(error, back, "Back to the session")
    if confirm:
        done = {"reschedule": "rescheduled", "move": "moved", "cancel": "cancelled"}[kind]
        flash(request, f"Session {session['reference']} is {done}.")
        return RedirectResponse(back, status_code=303)
    after = answer["session"]
    return render(
        request,
        c,
        "console/sessions_change_preview.html",
        {
            "title": f"Check the change to {session['reference']}",
            "kind": kind,
            "session": session,
            "scheme": scheme,
            "answer": answer,
            "before": local_time(settings, session["starts_at"])
            + " to "
            + local_time(settings, session["ends_at"], "%H:%M"),
            "after": local_time(settings, after["starts_at"])
            + " to "
            + local_time(settings, after["ends_at"], "%H:%M"),
            "fields": {k: text(form, k) for k in ("date", "starts", "ends", "room", "capacity")},
            "reason": body.get("reason", ""),
            "crumbs": [
                ("/console/sessions", "Sessions"),
                (_href_scheme(scheme["scheme_id"]), scheme["title"]),
                (back, session["reference"]),
            ],
        },
    )
