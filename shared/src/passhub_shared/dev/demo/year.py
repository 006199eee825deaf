"""`passhub demo`: a realistic year loaded through the four services' public HTTP APIs.

Nothing here imports a service: each step is an HTTP call with a token made as `passhub token`
makes them. Every step looks before it writes (or sends something the service answers with
"already" for), so a second run changes nothing:

* recruitment: the year's campaign, the student records, applications (assessed, one rejected,
  one still open), core training, leaders appointed to each scheme and a student organiser;
* sessions: three schemes (opt-in and opt-out) with weekly series through the teaching weeks,
  today's sessions in a library room (one in progress now, one later), the leaders'
  availability and a generated rota, past sessions filled too (`"backfill": true`);
* attendance: every ended session's paper sheet imported (naming sessions by reference),
  and at the session in progress: leaders signing themselves in, students scanning the QR
  code (a fresh code from `GET /sessions/{id}/qr-code`), the kiosk, a leader adding students,
  and one attendance corrected; feedback (named and anonymous); enrolments and results for
  the evaluation;
* recognition: the year's policy.

The people `make run` lets you log in as are demo people (`people.dev_logins()`): the student
comes to every Physics session and gives named feedback, the leader is rostered on Physics'
sessions today; both are left to sign in to the session in progress themselves, in the portal.

Services learn from each other through events, so some steps wait for an event to arrive (a
scheme's launch in recruitment, appointments in sessions, the rota in attendance).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from passhub_shared.dev.demo.people import (
    COMMENTS,
    COORDINATOR,
    KIOSK,
    Person,
    Scheme,
    dev_leader,
    dev_student,
    extra_applicants,
    schemes,
)
from passhub_shared.operations.localtime import institution_timezone
from passhub_shared.operations.settings import Settings
from passhub_shared.web.auth import make_token

SERVICES = ("recruitment", "sessions", "attendance", "recognition")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: how long the demo waits for one service to learn something from another's events
EVENT_WAIT_SECONDS = 60.0
#: attempts of a call answered "a concurrent change got in the way"
RETRIES = 5


class DemoError(Exception):
    """A call the demo needed was refused; the message says which and why."""


@dataclass
class DemoReport:
    """What the run did: per step, how many things it made and how many it found made."""

    created: dict[str, int] = field(default_factory=dict)
    existing: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    academic_year: str = ""
    live_session: str | None = None
    #: the leaders rostered on the session in progress
    leaders_on_duty: list[str] = field(default_factory=list)
    #: the session in progress as the sessions service lists it (room, times, leaders)
    live: dict[str, Any] | None = None

    def made(self, what: str, n: int = 1) -> None:
        self.created[what] = self.created.get(what, 0) + n

    def found(self, what: str, n: int = 1) -> None:
        self.existing[what] = self.existing.get(what, 0) + n

    @property
    def changed(self) -> bool:
        return any(self.created.values())


def academic_year(today: date) -> str:
    start = today.year if today.month >= 8 else today.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


class Api:
    """One service's HTTP API, called as a given person."""

    def __init__(self, name: str, client: httpx.AsyncClient, settings: Settings) -> None:
        self.name = name
        self.client = client
        self.settings = settings
        self._tokens: dict[tuple[str, tuple[str, ...]], str] = {}

    def auth(self, sub: str, role: str, name: str | None = None) -> dict[str, str]:
        key = (sub, (role,))
        if key not in self._tokens:
            self._tokens[key] = make_token(self.settings, sub, [role], name)
        return {"Authorization": f"Bearer {self._tokens[key]}"}

    async def call(
        self,
        method: str,
        path: str,
        who: dict[str, str],
        *,
        ok: tuple[int, ...] = (200, 201),
        **kwargs: Any,
    ) -> httpx.Response:
        headers = {**who, **kwargs.pop("headers", {})}
        for attempt in range(RETRIES):
            response = await self.client.request(method, path, headers=headers, **kwargs)
            if not _transient(response) or attempt == RETRIES - 1:
                break
            await asyncio.sleep(0.1 * (attempt + 1))  # a concurrent change: the same again
        if response.status_code not in ok:
            raise DemoError(
                f"{self.name}: {method} {path} answered {response.status_code}: "
                f"{response.text[:600]}"
            )
        return response


def _transient(response: httpx.Response) -> bool:
    """A 409 that asks to be retried (a concurrent change, a deadlock) or a 503."""
    if response.status_code == 503:
        return True
    if response.status_code != 409:
        return False
    try:
        code = response.json().get("code")
    except ValueError:
        return False
    return code in ("retry", "concurrent_change")


async def _until(
    what: str, check: Callable[[], Awaitable[bool]], timeout: float = EVENT_WAIT_SECONDS
) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.05
    while not await check():
        if time.monotonic() > deadline:
            raise DemoError(f"gave up waiting after {timeout:.0f} s for {what}")
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, 1.0)


class Demo:
    def __init__(
        self,
        clients: Mapping[str, httpx.AsyncClient],
        settings: Settings,
        *,
        now: datetime | None = None,
        tz: tzinfo | None = None,
        log: Callable[[str], None] = lambda _: None,
    ) -> None:
        missing = [s for s in SERVICES if s not in clients]
        if missing:
            raise ValueError(f"no client for {', '.join(missing)}")
        self.rec, self.ses, self.att, self.rcg = (Api(s, clients[s], settings) for s in SERVICES)
        self.tz = tz or ZoneInfo(institution_timezone())
        self.now = (now or datetime.now(UTC)).astimezone(self.tz)
        self.year = academic_year(self.now.date())
        self.schemes = schemes()
        self.organiser, self.rejected, self.pending = extra_applicants()
        self.report = DemoReport(academic_year=self.year)
        self.log = log
        self.coordinator = self.rec.auth(
            COORDINATOR.student_number, "coordinator", COORDINATOR.name
        )
        self.dev_student, self.dev_leader = dev_student(), dev_leader()
        #: scheme code -> its sessions as the sessions service lists them
        self.sessions: dict[str, list[dict[str, Any]]] = {}
        self.live: dict[str, Any] | None = None
        self.applications: dict[str, dict[str, Any]] = {}

    def scheme_id(self, scheme: Scheme) -> str:
        return f"{self.year}-{scheme.code}"

    def student(self, person: Person, role: str = "student") -> dict[str, str]:
        return self.rec.auth(person.student_number, role, person.name)

    # ------------------------------------------------------------------------------- the year

    async def run(self) -> DemoReport:
        started = time.monotonic()
        await self.term_dates()
        steps: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            ("campaign and student records", self.campaign),
            ("schemes", self.launch_schemes),
            ("applications and assessments", self.applications_assessed),
            ("core training", self.training),
            ("appointments", self.appointments),
            ("weekly series and today's sessions", self.timetable),
            ("availability and the rota", self.rota),
            ("paper sheets of past sessions", self.paper_sheets),
            ("today's session: QR, kiosk, leaders", self.live_session),
            ("feedback", self.feedback),
            ("enrolments and results", self.evaluation),
            ("recognition policy", self.policy),
        ]
        for title, step in steps:
            t0 = time.monotonic()
            await step()
            self.log(f"{title}: done in {time.monotonic() - t0:.1f} s")
        self.report.seconds = time.monotonic() - started
        return self.report

    # ----------------------------------------------------------------------------- recruitment

    def _record_rows(self) -> list[str]:
        rows = []
        everyone = [(p, s.school, 2) for s in self.schemes for p in s.leaders] + [
            (self.organiser, "Mathematics", 2),
            (self.rejected, "Physics", 2),
            (self.pending, "Chemistry", 2),
        ]
        for i, (p, school, year_of_study) in enumerate(everyone):
            mark = "55.5" if p == self.rejected else f"{62 + (i * 7) % 24}.{i % 10}"
            rows.append(
                f"{p.student_number},{p.name},{p.email},{school},BSc {school},UG,"
                f"{year_of_study},{mark},"
            )
        return rows

    async def campaign(self) -> None:
        r = await self.rec.call("GET", f"/campaigns/{self.year}", self.coordinator, ok=(200, 404))
        if r.status_code == 404:
            await self.rec.call(
                "POST",
                "/campaigns",
                self.coordinator,
                json={
                    "academic_year": self.year,
                    "participating_schools": sorted({s.school for s in self.schemes}),
                },
            )
            self.report.made("campaign")
        else:
            self.report.found("campaign")
        imports = (await self.rec.call("GET", "/records/imports", self.coordinator)).json()
        if any(i.get("source") == "passhub-demo" for i in imports):
            self.report.found("student records import")
            return
        header = (
            "student_number,name,email,school,programme,level,year_of_study,year1_mark,year2_mark\n"
        )
        await self.rec.call(
            "POST",
            "/records/imports",
            self.coordinator,
            params={"source": "passhub-demo"},
            content=(header + "\n".join(self._record_rows()) + "\n").encode(),
            headers={"Content-Type": "text/csv"},
        )
        self.report.made("student records import")

    async def launch_schemes(self) -> None:
        for scheme in self.schemes:
            sid = self.scheme_id(scheme)
            r = await self.ses.call("GET", f"/schemes/{sid}", self.coordinator, ok=(200, 404))
            if r.status_code == 200:
                self.report.found("scheme")
                continue
            await self.ses.call(
                "POST",
                "/schemes",
                self.coordinator,
                json={
                    "code": scheme.code,
                    "title": scheme.title,
                    "school": scheme.school,
                    "academic_year": self.year,
                    "mode": scheme.mode,
                    "modules": list(scheme.modules),
                    "coordinator": COORDINATOR.student_number,
                },
            )
            self.report.made("scheme")

    def _applicants(self) -> list[tuple[Person, Scheme, str]]:
        maths = next(s for s in self.schemes if s.code == "MATHS")
        phys = next(s for s in self.schemes if s.code == "PHYS")
        chem = next(s for s in self.schemes if s.code == "CHEM")
        return [
            *((p, s, "leader") for s in self.schemes for p in s.leaders),
            (self.organiser, maths, "organiser"),
            (self.rejected, phys, "leader"),
            (self.pending, chem, "leader"),
        ]

    async def applications_assessed(self) -> None:
        for person, scheme, role in self._applicants():
            me = self.student(person)
            mine = (await self.rec.call("GET", "/me/applications", me)).json()
            found = [a for a in mine if a["campaign_id"] == self.year]
            if found:
                application = found[0]
                self.report.found("application")
            else:
                application = (
                    await self.rec.call(
                        "POST",
                        f"/campaigns/{self.year}/applications",
                        me,
                        json={
                            "name": person.name,
                            "email": person.email,
                            "school": scheme.school,
                            "programme": f"BSc {scheme.school}",
                            "level": "undergraduate",
                            "year_of_study": 2,
                            "role_sought": role,
                            "preferred_schemes": [self.scheme_id(scheme)],
                            "statement": (
                                f"PASS in {scheme.school} helped me settle into first year; "
                                "I would like to do the same for the new first-years."
                            ),
                        },
                    )
                ).json()
                self.report.made("application")
            self.applications[person.student_number] = application
            if person == self.pending:
                continue  # still open: assessed at the next training day
            if person == self.rejected:
                if application["status"] == "submitted":
                    await self.rec.call(
                        "POST",
                        f"/applications/{application['application_id']}/reject",
                        self.coordinator,
                        json={
                            "reasons": [
                                "Exam marks below the 60% the role asks for: you are welcome "
                                "to apply again next year."
                            ]
                        },
                    )
                    self.report.made("rejection")
                continue
            pending = [c["code"] for c in application["criteria"] if c["met"] is None]
            if pending and application["status"] == "submitted":
                await self.rec.call(
                    "POST",
                    f"/applications/{application['application_id']}/assessments",
                    self.coordinator,
                    json={
                        "outcomes": [
                            {"code": c, "met": True, "note": "seen at the selection day"}
                            for c in pending
                        ]
                    },
                )
                self.report.made("assessment")

    def _training_day(self) -> date:
        start = int(self.year[:4])
        return date(start, 9, 10)

    async def training(self) -> None:
        sessions = (
            await self.rec.call(
                "GET",
                "/training-sessions",
                self.coordinator,
                params={"academic_year": self.year},
            )
        ).json()
        tid = f"{self.year}-demo-core"
        if any(t["training_id"] == tid for t in sessions):
            self.report.found("training session")
        else:
            await self.rec.call(
                "POST",
                "/training-sessions",
                self.coordinator,
                json={
                    "training_id": tid,
                    "academic_year": self.year,
                    "title": "Core leader training day",
                    "held_on": self._training_day().isoformat(),
                    "hours": "6",
                },
            )
            self.report.made("training session")
        trained = [p for p, _, _ in self._applicants() if p not in (self.rejected, self.pending)]
        todo = []
        for person in trained:
            summary = (
                await self.rec.call(
                    "GET",
                    f"/training/{person.student_number}",
                    self.coordinator,
                    params={"academic_year": self.year},
                )
            ).json()
            if _core_hours(summary) >= 6:
                self.report.found("training completion")
            else:
                todo.append({"student_number": person.student_number})
        if todo:
            await self.rec.call(
                "POST",
                f"/training-sessions/{tid}/completions",
                self.coordinator,
                json={"completions": todo},
            )
            self.report.made("training completion", len(todo))

    async def appointments(self) -> None:
        appointed_on = self._training_day() + timedelta(days=4)
        for person, scheme, role in self._applicants():
            if person in (self.rejected, self.pending):
                continue
            sid = self.scheme_id(scheme)
            application = self.applications[person.student_number]
            if any(a["scheme_id"] == sid for a in application.get("appointments", [])):
                self.report.found("appointment")
                continue
            path = f"/applications/{application['application_id']}/appointments"
            body = {"role": role, "schemes": [sid], "appointed_on": appointed_on.isoformat()}

            async def appointed(path: str = path, body: dict[str, Any] = body) -> bool:
                r = await self.rec.call(
                    "POST", path, self.coordinator, ok=(200, 409, 422), json=body
                )
                if r.status_code == 422 and r.json().get("code") == "unknown_scheme":
                    return False  # the launch has not reached recruitment yet
                if r.status_code == 422:
                    raise DemoError(f"recruitment: appointment refused: {r.text[:400]}")
                return True

            await _until(f"recruitment to learn that {sid} was launched", appointed)
            self.report.made("appointment")

    # -------------------------------------------------------------------------------- sessions

    async def term_dates(self) -> None:
        """Weekly series need the year's teaching weeks: without them, stop before making
        anything."""
        weeks = await self.ses.call(
            "GET", f"/term-dates/{self.year}", self.coordinator, ok=(200, 404)
        )
        if weeks.status_code == 404:
            raise DemoError(
                f"the sessions service has no term dates for {self.year}, so no weekly series: "
                f"add {self.year}.json to PASSHUB_SESSIONS_TERM_DATES_DIR (docs/sessions.md, "
                "Term dates) and run the demo again"
            )

    async def timetable(self) -> None:
        for scheme in self.schemes:
            sid = self.scheme_id(scheme)
            existing = (
                await self.ses.call("GET", f"/schemes/{sid}/series", self.coordinator)
            ).json()
            for series in scheme.series:
                if any(
                    s["weekday"] == series.weekday and s["room"] == series.room for s in existing
                ):
                    self.report.found("series")
                    continue
                await self.ses.call(
                    "POST",
                    f"/schemes/{sid}/series",
                    self.coordinator,
                    json={
                        "weekday": series.weekday,
                        "starts": series.starts,
                        "ends": series.ends,
                        "room": series.room,
                        "capacity": series.capacity,
                    },
                )
                self.report.made("series")
            await self._today(scheme)
            self.sessions[scheme.code] = (
                await self.ses.call("GET", f"/schemes/{sid}/sessions", self.coordinator)
            ).json()

    def _today_slots(self, scheme: Scheme) -> list[tuple[datetime, datetime]]:
        """Today's sessions of a scheme: Physics has the one in progress now (started 20 to
        25 minutes ago on a five-minute mark, or at midnight just after it); each scheme has one
        later today when the day leaves room for it."""
        index = [s.code for s in self.schemes].index(scheme.code)
        local = self.now
        slots = []
        if index == 0:
            mark = local.replace(minute=local.minute - local.minute % 5, second=0, microsecond=0)
            midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
            start = max(mark - timedelta(minutes=20), midnight)  # it must start today
            slots.append((start, start + timedelta(hours=1)))
        later = local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=2 + index)
        if later.date() == local.date() and later.hour <= 22:
            slots.append((later, later + timedelta(hours=1)))
        return slots

    async def _today(self, scheme: Scheme) -> None:
        sid = self.scheme_id(scheme)
        midnight = self.now.replace(hour=0, minute=0, second=0, microsecond=0)
        today = (
            await self.ses.call(
                "GET",
                f"/schemes/{sid}/sessions",
                self.coordinator,
                params={
                    "from": (midnight - timedelta(seconds=1)).isoformat(),
                    "until": (midnight + timedelta(days=1)).isoformat(),
                },
            )
        ).json()
        mine = [s for s in today if s["room"] == scheme.today_room]
        if mine:  # made by an earlier run today, whatever the time it ran
            self.report.found("session today", len(mine))
            return
        for starts, ends in self._today_slots(scheme):
            await self.ses.call(
                "POST",
                f"/schemes/{sid}/sessions",
                self.coordinator,
                json={
                    "starts_at": starts.isoformat(),
                    "ends_at": ends.isoformat(),
                    "room": scheme.today_room,
                    "capacity": 25,
                },
            )
            self.report.made("session today")

    def _availability(self, scheme: Scheme, k: int) -> dict[str, Any]:
        """Two leaders of each scheme can do any time (they cover today's sessions); the others
        state a few weekday afternoons or mornings, always including their series' times."""
        if k < 2:
            return {
                "slots": [{"weekday": d, "starts": "00:00", "ends": "23:59"} for d in WEEKDAYS],
                "unavailable_dates": [],
            }
        days = {s.weekday for s in scheme.series}
        days |= {WEEKDAYS[(k * 2 + j) % 5] for j in range(2)}
        return {
            "slots": [{"weekday": d, "starts": "09:00", "ends": "18:00"} for d in sorted(days)],
            "unavailable_dates": [],
        }

    async def rota(self) -> None:
        for scheme in self.schemes:
            sid = self.scheme_id(scheme)
            wanted = {p.student_number for p in scheme.leaders}

            async def leaders_known(sid: str = sid, wanted: set[str] = wanted) -> bool:
                r = await self.ses.call("GET", f"/schemes/{sid}/leaders", self.coordinator)
                return wanted <= {x["student_number"] for x in r.json()}

            await _until(f"the sessions service to learn {sid}'s leaders", leaders_known)
            for k, leader in enumerate(scheme.leaders):
                r = await self.ses.call(
                    "PUT",
                    f"/leaders/{leader.student_number}/availability/{self.year}",
                    self.coordinator,
                    json=self._availability(scheme, k),
                )
                if r.json().get("changed", True):
                    self.report.made("availability")
                else:
                    self.report.found("availability")
            sessions = self.sessions[scheme.code]
            await self._dev_leader_today(scheme, sessions)
            first = min((s["starts_at"] for s in sessions), default=None)
            body: dict[str, Any] = {}
            if first is not None:
                body = {"from": first[:10], "backfill": True}
            result = (
                await self.ses.call("POST", f"/schemes/{sid}/rota", self.coordinator, json=body)
            ).json()
            if result["rostered"]:
                self.report.made("leader rostered", len(result["rostered"]))
            else:
                self.report.found("rota")
            self.sessions[scheme.code] = (
                await self.ses.call("GET", f"/schemes/{sid}/sessions", self.coordinator)
            ).json()

    async def _dev_leader_today(self, scheme: Scheme, sessions: list[dict[str, Any]]) -> None:
        """The dev leader leads their scheme's sessions today (the one in progress and the
        later one), rostered before the rota fills the rest."""
        number = self.dev_leader.student_number
        if number not in {p.student_number for p in scheme.leaders}:
            return
        for s in sessions:
            if (
                s["room"] != scheme.today_room
                or s["status"] != "scheduled"
                or datetime.fromisoformat(s["ends_at"]) <= self.now
            ):
                continue
            if any(x["student_number"] == number for x in s.get("leaders", [])):
                self.report.found("dev leader rostered")
                continue
            r = await self.ses.call(
                "POST",
                f"/sessions/{s['session_id']}/leaders",
                self.coordinator,
                ok=(201, 409),
                json={"student_number": number},
            )
            if r.status_code == 201:
                self.report.made("dev leader rostered")
            else:  # already booked then (a day's run after the rota filled the term): as it is
                self.log(f"{number} not rostered on {s['reference']}: {r.json().get('detail')}")

    # ------------------------------------------------------------------------------ attendance

    def _ended(self, scheme: Scheme) -> list[dict[str, Any]]:
        return [
            s
            for s in self.sessions[scheme.code]
            if s["status"] == "scheduled"
            and s["room"] != scheme.today_room
            and datetime.fromisoformat(s["ends_at"]) <= self.now
        ]

    def _attenders(self, scheme: Scheme, session: dict[str, Any]) -> list[Person]:
        """Who came to a past session: opt-out schemes (in the timetable) draw more; the dev
        student comes every time (first, so theirs is the first, named, feedback)."""
        rng = random.Random(f"{session['reference']}")
        share = 0.6 if scheme.mode == "opt_out" else 0.35
        return [p for p in scheme.students if rng.random() < share or p == self.dev_student]

    async def _attendance_knows(self, scheme: Scheme) -> None:
        sid = self.scheme_id(scheme)
        expected = {
            s["session_id"]: sorted(x["student_number"] for x in s.get("leaders", []))
            for s in self.sessions[scheme.code]
        }

        async def known() -> bool:
            r = await self.att.call("GET", "/sessions", self.coordinator, params={"scheme_id": sid})
            seen = {s["session_id"]: s["leaders"] for s in r.json()}
            return all(seen.get(k) == v for k, v in expected.items())

        await _until(f"the attendance service to learn {sid}'s sessions and rota", known)

    async def paper_sheets(self) -> None:
        for scheme in self.schemes:
            await self._attendance_knows(scheme)
            lines = ["session,student_number,signed_in_at,role,room,name"]
            for session in self._ended(scheme):
                starts = datetime.fromisoformat(session["starts_at"]).astimezone(self.tz)
                for leader in session.get("leaders", []):
                    lines.append(
                        f"{session['reference']},{leader['student_number']},"
                        f"{starts:%Y-%m-%d %H:%M},leader,{session['room']},"
                    )
                for k, person in enumerate(self._attenders(scheme, session)):
                    at = starts + timedelta(minutes=(k * 3) % 12)
                    lines.append(
                        f"{session['reference']},{person.student_number},"
                        f"{at:%Y-%m-%d %H:%M},,{session['room']},{person.name}"
                    )
            if len(lines) == 1:
                continue
            result = (
                await self.att.call(
                    "POST",
                    "/imports",
                    self.coordinator,
                    content=("\n".join(lines) + "\n").encode(),
                    headers={"Content-Type": "text/csv"},
                )
            ).json()
            if result["imported"]:
                self.report.made("attendance (paper sheet)", result["imported"])
            if result["already_recorded"]:
                self.report.found("attendance (paper sheet)", result["already_recorded"])

    async def live_session(self) -> None:
        phys = self.schemes[0]
        now_utc = self.now.astimezone(UTC)
        live = [
            s
            for s in self.sessions[phys.code]
            if s["room"] == phys.today_room
            and s["status"] == "scheduled"
            and datetime.fromisoformat(s["starts_at"]) - timedelta(minutes=15)
            <= now_utc
            <= datetime.fromisoformat(s["ends_at"])
        ]
        if not live:
            self.log("no session is open for sign-in now (made by an earlier run): skipped")
            return
        session = live[0]
        self.live = session
        self.report.live_session = session["session_id"]
        self.report.live = session
        sid = session["session_id"]
        leaders = [x["student_number"] for x in session.get("leaders", [])]
        if not leaders:
            raise DemoError(f"today's session {session['reference']} has no leader rostered")
        self.report.leaders_on_duty = leaders
        names = {p.student_number: p.name for p in phys.leaders}
        # the dev leader signs in themselves, in the portal; another rostered leader runs it
        others = [n for n in leaders if n != self.dev_leader.student_number]
        runner = (others or leaders)[0]
        leader = self.rec.auth(runner, "leader", names.get(runner))
        present = {
            a["student_number"]
            for a in (
                await self.att.call("GET", f"/sessions/{sid}/attendances", self.coordinator)
            ).json()["attendances"]
        }
        for number in others:
            if number in present:
                self.report.found("attendance (leader)")
                continue
            who = self.rec.auth(number, "leader", names.get(number))
            await self.att.call("POST", f"/sessions/{sid}/leader-sign-in", who)
            self.report.made("attendance (leader)")
        students = self._live_students(phys)
        by_qr, by_kiosk, by_leader, mistaken = (
            students[:6],
            students[6:8],
            students[8:10],
            students[10],
        )
        for person in by_qr:
            if person.student_number in present:
                self.report.found("attendance (QR)")
                continue
            code = (await self.att.call("GET", f"/sessions/{sid}/qr-code", leader)).json()["code"]
            await self.att.call(
                "POST", f"/sessions/{sid}/sign-in", self.student(person), json={"code": code}
            )
            self.report.made("attendance (QR)")
        kiosk = self.rec.auth(KIOSK.student_number, "integration", KIOSK.name)
        for person in by_kiosk:
            if person.student_number in present:
                self.report.found("attendance (kiosk)")
                continue
            await self.att.call(
                "POST",
                f"/sessions/{sid}/kiosk",
                kiosk,
                json={"student_number": person.student_number},
            )
            self.report.made("attendance (kiosk)")
        for person in [*by_leader, mistaken]:
            if person.student_number in present:
                self.report.found("attendance (added by a leader)")
                continue
            await self.att.call(
                "POST",
                f"/sessions/{sid}/attendances",
                leader,
                json={"student_number": person.student_number},
            )
            self.report.made("attendance (added by a leader)")
            if person == mistaken:  # the correction: added to the wrong session
                await self.att.call(
                    "POST",
                    f"/sessions/{sid}/attendances/{person.student_number}/revoke",
                    leader,
                    json={"reason": "added by mistake: they came to the Chemistry session"},
                )
                self.report.made("correction")

    def _live_students(self, scheme: Scheme) -> list[Person]:
        """Who comes to the session in progress, in order: not the dev student, who is left to
        sign in themselves (a QR code from the leader's screen, or the kiosk)."""
        return [p for p in scheme.students if p != self.dev_student]

    async def feedback(self) -> None:
        sent = 0
        for scheme in self.schemes:
            sessions = self._ended(scheme)
            if scheme.code == self.schemes[0].code and self.live is not None:
                sessions = [*sessions, self.live]
            for session in sessions:
                if session is self.live:
                    came = self._live_students(scheme)[:6]
                else:
                    came = self._attenders(scheme, session)
                rng = random.Random(f"feedback {session['reference']}")
                for k, person in enumerate(came[:3]):
                    score = rng.choice((3, 4, 4, 5, 5))
                    body = {
                        "understanding": score,
                        "enjoyable": max(1, min(5, score + rng.choice((-1, 0, 0, 1)))),
                        "recommend": max(1, min(5, score + rng.choice((0, 0, 1)))),
                        "comment": rng.choice(COMMENTS),
                        "anonymous": k % 2 == 1,
                    }
                    r = await self.att.call(
                        "POST",
                        f"/sessions/{session['session_id']}/feedback",
                        self.student(person),
                        ok=(201, 409),
                        json=body,
                    )
                    if r.status_code == 201:
                        sent += 1
                    else:
                        self.report.found("feedback")
        if sent:
            self.report.made("feedback", sent)

    async def evaluation(self) -> None:
        enrolments = ["student_number,module,academic_year,prior_attainment"]
        results = ["student_number,module,academic_year,mark"]
        modules: list[str] = []
        for scheme in self.schemes:
            came = {
                p.student_number: len(
                    [s for s in self._ended(scheme) if p in self._attenders(scheme, s)]
                )
                for p in scheme.students
            }
            for m, module in enumerate(scheme.modules):
                modules.append(module)
                for k, person in enumerate([*scheme.students, *scheme.non_participants]):
                    if m > 0 and k % 3 == 0:
                        continue  # not everyone takes the second module
                    rng = random.Random(f"{module} {person.student_number}")
                    prior = rng.randint(96, 160)
                    enrolments.append(f"{person.student_number},{module},{self.year},{prior}")
                    sessions = came.get(person.student_number, 0)
                    mark = 38 + (prior - 96) / 4 + min(sessions, 10) * 1.2 + rng.gauss(0, 8)
                    mark = max(5, min(95, round(mark)))
                    results.append(f"{person.student_number},{module},{self.year},{mark}")
        report = (
            await self.att.call(
                "GET",
                "/evaluation/outcomes",
                self.coordinator,
                params={"year": self.year, "module": modules},
            )
        ).json()
        rows = {m["id"]: m for m in report.get("modules", [])}
        for kind, csv, field_name in (
            ("enrolments", enrolments, "enrolled"),
            ("results", results, "with_result"),
        ):
            if modules and all(rows.get(m, {}).get(field_name) for m in modules):
                self.report.found(f"{kind} import")
                continue
            await self.att.call(
                "POST",
                f"/evaluation/{kind}",
                self.coordinator,
                params={"prior_measure": "UCAS tariff"} if kind == "enrolments" else {},
                content=("\n".join(csv) + "\n").encode(),
                headers={"Content-Type": "text/csv"},
            )
            self.report.made(f"{kind} import")

    # ----------------------------------------------------------------------------- recognition

    async def policy(self) -> None:
        current = (await self.rcg.call("GET", f"/policies/{self.year}", self.coordinator)).json()
        policy = current["policy"]
        awards = policy["awards"]
        awards["certificate"]["requirements"]["min_sessions"] = 6
        awards["psa"]["requirements"]["min_sessions"] = 8
        awards["hear"]["requirements"]["min_sessions"] = 10
        put = (
            await self.rcg.call("PUT", f"/policies/{self.year}", self.coordinator, json=policy)
        ).json()
        if put["version"] != current["version"]:
            self.report.made("recognition policy")
        else:
            self.report.found("recognition policy")


def _core_hours(summary: dict[str, Any]) -> float:
    return float(summary.get("core_hours") or 0)


async def run_demo(
    clients: Mapping[str, httpx.AsyncClient],
    settings: Settings,
    *,
    now: datetime | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> DemoReport:
    """Load the demo year through `clients` (one per service, with its base URL); tokens are
    signed with `settings`' JWT secret."""
    return await Demo(clients, settings, now=now, log=log).run()
