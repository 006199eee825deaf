"""The console's Attendance area: today's sessions with their live headcounts and whether their
leaders signed in; a session's roster with corrections (add or revoke, with a reason) and its
audit trail; the paper fallback (a printable sign-in sheet, and the import of a typed-up sheet,
checked first with every error at once); and engagement (who stopped coming), exportable."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from passhub_portal.clients import ServiceError
from passhub_portal.console.actions import local_time, posted, refused, text
from passhub_portal.console.frame import Column, Console, console, listing, render
from passhub_portal.web import PageError, flash, settings_of

router = APIRouter()

AREA = "attendance"
PER_PAGE = 25
#: the largest sheet the import page takes (the attendance service's own limit)
MAX_SHEET_BYTES = 5_000_000


async def _visible_schemes(c: Console) -> list[dict[str, Any]]:
    """The schemes this person sees: every one for a coordinator, their own for an organiser."""
    listed: list[dict[str, Any]] = await c.call("sessions", "GET", "/schemes")
    if c.organiser:
        own = await c.own_schemes()
        listed = [s for s in listed if s["scheme_id"] in own]
    return sorted(listed, key=lambda s: (s["academic_year"], str(s["title"])), reverse=True)


def _staff_only(c: Console) -> None:
    """Rosters, corrections, paper sheets and engagement name students: for coordinators and
    organisers. An academic sees today's headcounts and the evaluation's reports."""
    if c.academic:
        raise PageError(
            "This page is for coordinators and organisers",
            "It names students. As an academic you see today's headcounts and the evaluation "
            "reports.",
            status=403,
            next_href="/console/evaluation",
            next_label="Go to the reports",
        )


def _page_number(request: Request) -> int:
    wanted = request.query_params.get("page", "1")
    return max(1, int(wanted)) if wanted.isdigit() else 1


def _pages(total: int, per_page: int = PER_PAGE) -> int:
    return max(1, -(-total // per_page))


# -- today ---------------------------------------------------------------------------------------


@router.get("/console/attendance")
async def today(request: Request) -> Response:
    c = await console(request, AREA)
    settings = settings_of(request)
    schemes = await _visible_schemes(c)
    scheme = request.query_params.get("scheme", "")
    if scheme and scheme not in {s["scheme_id"] for s in schemes}:
        scheme = ""
    number = _page_number(request)
    params: dict[str, Any] = {"offset": (number - 1) * PER_PAGE, "limit": PER_PAGE}
    if scheme:
        params["scheme_id"] = scheme
    live = await c.call("attendance", "GET", "/headcounts", params=params)
    names = {s["scheme_id"]: s["title"] for s in schemes}
    for s in live["sessions"]:
        s["when"] = (
            local_time(settings, s["starts_at"], "%H:%M")
            + " to "
            + local_time(settings, s["ends_at"], "%H:%M")
        )
        s["title"] = s["scheme_title"] or names.get(s["scheme_id"], s["scheme_id"])
        s["missing_leaders"] = [n for n in s["rostered_leaders"] if n not in s["leaders_signed_in"]]
    pages = _pages(live["total"])
    return render(
        request,
        c,
        "console/attendance_today.html",
        {
            "title": "Attendance today",
            "live": live,
            "schemes": schemes,
            "scheme": scheme,
            "page_number": min(number, pages),
            "pages": pages,
            "at": local_time(settings, live["at"], "%H:%M"),
        },
    )


# -- one session ---------------------------------------------------------------------------------

ROSTER_COLUMNS = (
    Column("time", "Signed in", lambda r: r.get("signed_in_at")),
    Column("number", "Student number", lambda r: r.get("student_number")),
    Column("name", "Name", lambda r: r.get("name")),
    Column("role", "Role", lambda r: r.get("role")),
    Column("method", "Method", lambda r: r.get("method")),
    Column("status", "Status", lambda r: "revoked" if not r.get("active") else "present"),
)
METHODS = {"qr": "QR code", "kiosk": "kiosk", "leader": "by a leader", "import": "by hand or paper"}


async def _session(c: Console, session_id: str) -> dict[str, Any]:
    session = await c.get_one(
        "sessions",
        f"/sessions/{quote(session_id)}",
        PageError(
            "No such session",
            "There is no session at this address.",
            status=404,
            next_href="/console/attendance",
            next_label="Back to today",
        ),
    )
    await c.require_scheme(session["scheme_id"])
    return session


#: the most student numbers recruitment names in one call
NAMES_PER_CALL = 1_000
#: a number recruitment can hold a record of (letters and digits); it refuses any other
RECORD_NUMBER = re.compile(r"^[A-Za-z0-9]{1,32}$")


async def _student_names(c: Console, numbers: Iterable[str]) -> dict[str, str]:
    """The names of these students from recruitment's student records, for a coordinator
    (whose records they are to read; an organiser sees the leaders' names only). The numbers
    whose names were not found in the last ten minutes (`Services.student_names`) are asked in
    one call (`POST /records/names`, a thousand a call); a student with no record has no
    name."""
    if not c.coordinator:
        return {}
    known = c.person.services.student_names
    wanted = sorted(set(numbers))
    asked = [n for n in wanted if n not in known and RECORD_NUMBER.fullmatch(n)]
    for start in range(0, len(asked), NAMES_PER_CALL):
        try:
            found = await c.call(
                "recruitment",
                "POST",
                "/records/names",
                json={"student_numbers": asked[start : start + NAMES_PER_CALL]},
            )
        except ServiceError:
            break
        for number, name in (found.get("names") or {}).items():
            if name:
                known[number] = str(name)
    return {n: known[n] for n in wanted if n in known}


@router.get("/console/attendance/sessions/{session_id}")
async def session_page(request: Request, session_id: str) -> Response:
    c = await console(request, AREA)
    _staff_only(c)
    session = await _session(c, session_id)
    settings = settings_of(request)
    attended = await c.call("attendance", "GET", f"/sessions/{quote(session_id)}/attendances")
    audit = await c.call("attendance", "GET", f"/sessions/{quote(session_id)}/audit")
    names = {x["student_number"]: x.get("name") for x in session.get("leaders") or []}
    q = request.query_params
    by_name = q.get("sort", "").lstrip("-") == "name"
    if by_name:
        # sorted by name: every row's name first; else only the rows of the page shown
        names |= await _student_names(
            c,
            (
                a["student_number"]
                for a in attended["attendances"]
                if not names.get(a["student_number"])
            ),
        )
    rows = []
    for a in attended["attendances"]:
        rows.append(
            {
                **a,
                "name": names.get(a["student_number"]),
                "when": local_time(settings, a["signed_in_at"], "%d %b %H:%M"),
                "how": METHODS.get(a["method"], a["method"]),
            }
        )
    roster = listing(
        rows,
        ROSTER_COLUMNS,
        base=f"/console/attendance/sessions/{quote(session_id)}",
        sort=q.get("sort", ""),
        page=q.get("page", "1"),
    )
    if not by_name:
        shown = await _student_names(c, (r["student_number"] for r in roster.rows if not r["name"]))
        for r in roster.rows:
            r["name"] = r["name"] or shown.get(r["student_number"])
    trail = [
        {
            "when": local_time(settings, str(e["occurred_at"])),
            "what": str(e["type"]).split(".")[2].replace("_", " "),
            "actor": e.get("actor") or "",
            "who": (e.get("data") or {}).get("student_number") or "",
            "reason": (e.get("data") or {}).get("reason") or "",
        }
        for e in audit
    ]
    return render(
        request,
        c,
        "console/attendance_session.html",
        {
            "title": f"Attendance {session['reference']}",
            "session": session,
            "when": local_time(settings, session["starts_at"], "%A %d %B %Y, %H:%M")
            + " to "
            + local_time(settings, session["ends_at"], "%H:%M"),
            "counts": attended,
            "roster": roster,
            "trail": trail,
            "crumbs": [("/console/attendance", "Attendance")],
        },
    )


@router.post("/console/attendance/sessions/{session_id}/attendances")
async def correct(request: Request, session_id: str) -> Response:
    """Add a student by hand or revoke an attendance: either needs a reason."""
    form = await posted(request)
    c = await console(request, AREA)
    _staff_only(c)
    await _session(c, session_id)
    back = f"/console/attendance/sessions/{quote(session_id)}"
    number, reason = text(form, "student_number", 64), text(form, "reason", 1000)
    if not number or not reason:
        raise PageError(
            "A student number and a reason are needed",
            "Give the student's number and say why. Nothing was changed.",
            status=422,
            next_href=back,
            next_label="Back to the session",
        )
    try:
        if text(form, "action") == "revoke":
            await c.call(
                "attendance",
                "POST",
                f"/sessions/{quote(session_id)}/attendances/{quote(number)}/revoke",
                json={"reason": reason},
            )
            flash(request, f"The attendance of {number} is revoked.")
        else:
            added = await c.call(
                "attendance",
                "POST",
                f"/sessions/{quote(session_id)}/attendances",
                json={"student_number": number, "reason": reason},
            )
            flash(
                request,
                f"{number} is added." if added.get("created") else f"{number} was already in.",
            )
    except ServiceError as error:
        refused(error, back, "Back to the session")
    return RedirectResponse(back, status_code=303)


@router.get("/console/attendance/sessions/{session_id}/sign-in-sheet.pdf")
async def sign_in_sheet(request: Request, session_id: str) -> Response:
    c = await console(request, AREA)
    _staff_only(c)
    await _session(c, session_id)
    body, kind = await c.person.services.download(
        "attendance", f"/sessions/{quote(session_id)}/sign-in-sheet.pdf", c.token()
    )
    return Response(
        body,
        media_type=kind,
        headers={"Content-Disposition": f'inline; filename="sign-in-sheet-{session_id}.pdf"'},
    )


# -- paper sheets --------------------------------------------------------------------------------


@router.get("/console/attendance/import")
async def import_form(request: Request) -> Response:
    c = await console(request, AREA)
    _staff_only(c)
    return render(
        request,
        c,
        "console/attendance_import.html",
        {
            "title": "Import a paper sign-in sheet",
            "crumbs": [("/console/attendance", "Attendance")],
        },
    )


async def _sheet_of(request: Request, form: Any) -> str:
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read(MAX_SHEET_BYTES + 1)
    else:
        value = form.get("sheet")
        raw = value.encode() if isinstance(value, str) else b""
    if len(raw) > MAX_SHEET_BYTES:
        raise PageError(
            "The sheet is too large",
            "A sheet is at most 5 MB: split it. Nothing was imported.",
            status=422,
            next_href="/console/attendance/import",
            next_label="Back to the import",
        )
    try:
        sheet = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PageError(
            "The sheet is not UTF-8 text",
            "Save the sheet as CSV (UTF-8) and try again. Nothing was imported.",
            status=422,
            next_href="/console/attendance/import",
            next_label="Back to the import",
        ) from None
    if not sheet.strip():
        raise PageError(
            "No sheet was given",
            "Choose a CSV file or paste the sheet. Nothing was imported.",
            status=422,
            next_href="/console/attendance/import",
            next_label="Back to the import",
        )
    return sheet


@router.post("/console/attendance/import")
async def import_sheet(request: Request) -> Response:
    """First the check (the service's dry run: what it would record, or every error at once),
    then, confirmed, the import itself."""
    form = await posted(request)
    c = await console(request, AREA)
    _staff_only(c)
    sheet = await _sheet_of(request, form)
    confirm = text(form, "confirm") == "yes"
    try:
        answer = await c.call(
            "attendance",
            "POST",
            "/imports",
            params={"dry_run": "false" if confirm else "true"},
            content=sheet.encode(),
        )
    except ServiceError as error:
        if error.status == 422 and isinstance(error.body, dict) and error.body.get("errors"):
            return render(
                request,
                c,
                "console/attendance_import.html",
                {
                    "title": "The sheet has errors",
                    "errors": error.body["errors"],
                    "detail": error.detail,
                    "sheet": sheet,
                    "crumbs": [("/console/attendance", "Attendance")],
                },
                status_code=422,
            )
        refused(error, "/console/attendance/import", "Back to the import")
    if confirm:
        flash(
            request,
            f"Imported {answer['imported']} sign-ins; {answer['already_recorded']} were "
            "already recorded.",
        )
        return RedirectResponse("/console/attendance", status_code=303)
    references: dict[str, str] = {}
    for session_id in answer["sessions"][:50]:
        try:
            found = await c.call("sessions", "GET", f"/sessions/{quote(session_id)}")
            references[session_id] = found["reference"]
        except ServiceError:
            references[session_id] = session_id
    return render(
        request,
        c,
        "console/attendance_import.html",
        {
            "title": "Check the sheet before importing it",
            "preview": answer,
            "references": references,
            "sheet": sheet,
            "crumbs": [("/console/attendance", "Attendance")],
        },
    )


# -- engagement ---------------------------------------------------------------------------------

ENGAGEMENT_SORTS = {"student_number", "sessions", "last_attended", "missed"}


@router.get("/console/attendance/engagement")
async def engagement(request: Request) -> Response:
    c = await console(request, AREA)
    _staff_only(c)
    settings = settings_of(request)
    schemes = await _visible_schemes(c)
    q = request.query_params
    scheme = q.get("scheme", "") or (schemes[0]["scheme_id"] if schemes else "")
    if scheme and scheme not in {s["scheme_id"] for s in schemes}:
        await c.require_scheme(scheme)
    kind = q.get("kind", "")
    kind = kind if kind in ("stopped", "lapsed") else ""
    weeks = q.get("weeks", "3")
    weeks = weeks if weeks.isdigit() and 1 <= int(weeks) <= 52 else "3"
    wanted = q.get("sort", "last_attended")
    descending = wanted.startswith("-")
    sort = wanted.lstrip("-")
    if sort not in ENGAGEMENT_SORTS:
        sort, descending = "last_attended", False
    number = _page_number(request)
    found = None
    if scheme:
        params: dict[str, Any] = {
            "weeks": weeks,
            "sort": sort,
            "order": "desc" if descending else "asc",
            "offset": (number - 1) * PER_PAGE,
            "limit": PER_PAGE,
        }
        if kind:
            params["kind"] = kind
        found = await c.call(
            "attendance", "GET", f"/schemes/{quote(scheme)}/engagement", params=params
        )
        for s in found["students"]:
            s["first"] = local_time(settings, s["first_attended"], "%d %b %Y")
            s["last"] = local_time(settings, s["last_attended"], "%d %b %Y")
    pages = _pages(found["total"]) if found else 1
    keep = {"scheme": scheme, "kind": kind, "weeks": weeks}
    return render(
        request,
        c,
        "console/attendance_engagement.html",
        {
            "title": "Engagement",
            "schemes": schemes,
            "scheme": scheme,
            "kind": kind,
            "weeks": weeks,
            "found": found,
            "sort": sort,
            "descending": descending,
            "page_number": min(number, pages),
            "pages": pages,
            "keep": keep,
            "crumbs": [("/console/attendance", "Attendance")],
        },
    )


@router.get("/console/attendance/engagement.csv")
async def engagement_csv(request: Request) -> Response:
    c = await console(request, AREA)
    _staff_only(c)
    q = request.query_params
    schemes = await _visible_schemes(c)
    scheme = q.get("scheme", "") or (schemes[0]["scheme_id"] if schemes else "")
    await c.require_scheme(scheme)
    params: list[tuple[str, str]] = [("format", "csv"), ("weeks", q.get("weeks", "3") or "3")]
    if q.get("kind") in ("stopped", "lapsed"):
        params.append(("kind", q["kind"]))
    try:
        body, kind = await c.person.services.download(
            "attendance", f"/schemes/{quote(scheme)}/engagement", c.token(), params=params
        )
    except ServiceError as error:
        refused(error, "/console/attendance/engagement", "Back to engagement")
    safe = "".join(ch for ch in scheme if ch.isalnum() or ch in "-_")
    return Response(
        body,
        media_type=kind,
        headers={"Content-Disposition": f'attachment; filename="engagement-{safe}.csv"'},
    )
