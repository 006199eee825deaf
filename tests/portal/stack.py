"""Everything the portal's browser tests run against, over real HTTP on free ports: the OIDC
provider (a real one from PyPI), recruitment, sessions and attendance (each with its own
PostgreSQL database, on the test NATS), and the portal; and a year's data made through the
services' APIs, as a coordinator would."""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import uvicorn

from passhub_attendance.service import service as attendance_service
from passhub_portal.app import create_portal
from passhub_portal.settings import PortalSettings
from passhub_portal.tokens import generate_private_key_pem
from passhub_recognition.service import service as recognition_service
from passhub_recruitment.service import service as recruitment_service
from passhub_sessions.service import service as sessions_service
from passhub_shared.dev.devservers import free_port
from passhub_shared.dev.oidcserver import OidcProvider
from passhub_shared.operations.settings import Settings
from passhub_shared.web.app import create_app
from passhub_shared.web.auth import make_token
from tests import support
from tests.servers import PostgresHandle, ServerHandle, delete_all_streams

CAMPUS = ZoneInfo("Europe/London")
ROOM_A = "Physics 1.02"
ROOM_B = "Maths 2.10"
KIOSK_ROOM = "Library 0.01"

LEADER = "S2400042"
LEADER_2 = "S2400043"
STUDENTS = {
    "ada": ("S2500001", "Ada Byron"),
    "bo": ("S2500002", "Bo Chen"),
    "cy": ("S2500003", "Cy Okafor"),
}
LEADERS = {"lee": (LEADER, "Lee Leader"), "max": (LEADER_2, "Max Mentor")}
#: staff logins (provider user -> staff number, name, the groups claim that maps to the role)
STAFF = {
    "coord": ("E0000001", "Cora Coordinator", "pass-coordinators"),
    "org": ("E0000002", "Orla Organiser", "pass-organisers"),
    "acad": ("E0000003", "Abe Academic", "academics"),
}
STAFF_ROLE_MAP = {
    "pass-coordinators": "coordinator",
    "pass-organisers": "organiser",
    "academics": "academic",
    "academic-staff": "academic",
}
ORGANISER = STAFF["org"][0]
KIOSK = ("kiosk-library", "KIOSK-LIB-1")
#: a kiosk account with no room of its own: the device chooses one
ROAMING_KIOSK = ("kiosk-roaming", "KIOSK-ANY-1")

RECORDS_HEADER = (
    "student_number,name,email,school,programme,level,year_of_study,year1_mark,year2_mark\n"
)


@dataclass
class Stack:
    oidc: OidcProvider
    portal: str
    recruitment: str
    sessions: str
    attendance: str
    recognition: str
    kit: Settings
    year: str = ""
    scheme: str = ""
    #: a scheme the organiser does not organise
    other_scheme: str = ""
    session_a: str = ""
    #: session A's local start and end as the pages show them ("14:50 to 15:40")
    session_a_times: str = ""
    session_b: str = ""
    session_later: str = ""
    session_kiosk: str = ""
    applications: dict[str, str] = field(default_factory=dict)
    #: values of console routes' placeholders a test module made (an award's id, ...)
    console_samples: dict[str, str] = field(default_factory=dict)

    def staff(self, role: str = "coordinator") -> dict[str, str]:
        return {"Authorization": f"Bearer {make_token(self.kit, 'coord-1', [role])}"}

    def attendances(self, session_id: str) -> list[dict[str, Any]]:
        r = httpx.get(f"{self.attendance}/sessions/{session_id}/attendances", headers=self.staff())
        r.raise_for_status()
        return list(r.json()["attendances"])


class Threaded:
    """An ASGI app under uvicorn on a port, in a thread of its own."""

    def __init__(self, app: Any, port: int) -> None:
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
        )
        self.thread = threading.Thread(target=self.server.run, name=f"uvicorn-{port}", daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(30)


def wait_until(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def academic_year(now: datetime) -> str:
    start = now.year if now.month >= 8 else now.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def portal_settings(stack_urls: dict[str, str], oidc: OidcProvider) -> PortalSettings:
    return PortalSettings(
        oidc_issuer=oidc.url,
        oidc_client_id="passhub-portal",
        oidc_client_secret="test-client-secret",  # type: ignore[arg-type]
        session_secret=secrets.token_urlsafe(32),  # type: ignore[arg-type]
        signing_key=generate_private_key_pem(),  # type: ignore[arg-type]
        public_url=stack_urls["portal"],
        recruitment_url=stack_urls["recruitment"],
        sessions_url=stack_urls["sessions"],
        attendance_url=stack_urls["attendance"],
        recognition_url=stack_urls["recognition"],
        kiosks={KIOSK[1]: KIOSK_ROOM, ROAMING_KIOSK[1]: ""},
        staff_role_map=STAFF_ROLE_MAP,
        poll_seconds=1,
        # a new code on almost every poll, so the tests see the screen refresh it
        code_refresh_margin_seconds=58,
    )


@contextlib.contextmanager
def running_stack(
    pg: PostgresHandle, nats: ServerHandle, oidc: OidcProvider, seeded: bool = True
) -> Iterator[Stack]:
    """The stack, with the year `seed` makes (or, not `seeded`, with no data at all: only the
    provider's users)."""
    nats.ensure_running()
    pg.ensure_running()
    delete_all_streams(nats.url)
    ports = {
        name: free_port()
        for name in ("portal", "recruitment", "sessions", "attendance", "recognition")
    }
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    jwks = f"{urls['portal']}/.well-known/jwks.json"
    env = {
        # sign-in open all day around the sessions the tests make today
        "PASSHUB_ATTENDANCE_OPEN_BEFORE_MINUTES": str(24 * 60),
        "PASSHUB_ATTENDANCE_LATE_MINUTES": str(24 * 60),
        # the codes attendance issues point at the portal's sign-in page
        "PASSHUB_ATTENDANCE_PUBLIC_URL": urls["portal"],
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    servers: list[Threaded] = []
    databases: list[str] = []
    try:
        for name, definition in (
            ("recruitment", recruitment_service),
            ("sessions", sessions_service),
            ("attendance", attendance_service),
            ("recognition", recognition_service),
        ):
            db = f"portal_{name}_{uuid.uuid4().hex[:8]}"
            databases.append(db)
            settings = support.service_settings(pg.create_database(db), nats.url, jwt_jwks_url=jwks)
            servers.append(Threaded(create_app(definition, settings), ports[name]))
        kit = support.service_settings("", nats.url, jwt_jwks_url=jwks)
        servers.append(Threaded(create_portal(portal_settings(urls, oidc), kit), ports["portal"]))
        # one after the other: started side by side, the services' startups trip over each
        # other in this one process
        for server in servers:
            server.start()
        stack = Stack(oidc=oidc, kit=kit, **urls)
        for key, (sub_number, name) in {**STUDENTS, **LEADERS}.items():
            oidc.set_user(key, {"student_number": sub_number, "name": name})
        for key, (staff_number, name, group) in STAFF.items():
            oidc.set_user(key, {"student_number": staff_number, "name": name, "groups": [group]})
        oidc.set_user(KIOSK[0], {"student_number": KIOSK[1], "name": "Library kiosk"})
        oidc.set_user(ROAMING_KIOSK[0], {"student_number": ROAMING_KIOSK[1], "name": "Kiosk"})
        oidc.set_user("visitor", {"name": "Val Visitor", "email": "val@example.org"})
        if seeded:
            seed(stack)
        yield stack
    finally:
        for server in reversed(servers):
            server.stop()
        for db in databases:
            with contextlib.suppress(Exception):
                pg.drop_database(db)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def seed(s: Stack) -> None:
    """A scheme with two appointed leaders, today's sessions in two rooms and the kiosk's room,
    and one tomorrow, made through the services' APIs."""
    now = datetime.now(UTC)
    s.year = year = academic_year(now)
    s.scheme = scheme = f"{year}-PHYS"
    s.other_scheme = f"{year}-CHEM"
    staff = s.staff()
    rec, ses = httpx.Client(base_url=s.recruitment), httpx.Client(base_url=s.sessions)
    ok(
        rec.post(
            "/campaigns",
            json={"academic_year": year, "participating_schools": ["Physics"]},
            headers=staff,
        ),
        201,
    )
    rows = "".join(
        f"{number},{name},{number}@example.ac.uk,Physics,BSc Physics,UG,2,71.5,\n"
        for number, name in LEADERS.values()
    )
    ok(
        rec.post(
            "/records/imports",
            content=(RECORDS_HEADER + rows).encode(),
            headers={**staff, "Content-Type": "text/csv"},
        ),
        201,
    )
    ok(
        ses.post(
            "/schemes",
            json={
                "code": "PHYS",
                "title": "Physics PASS",
                "school": "Physics",
                "academic_year": year,
                "mode": "opt_in",
                "modules": ["PHY1001"],
                "organisers": [ORGANISER],
            },
            headers=staff,
        ),
        201,
    )
    # a scheme the organiser does not organise (the console's scope)
    ok(
        ses.post(
            "/schemes",
            json={
                "code": "CHEM",
                "title": "Chemistry PASS",
                "school": "Chemistry",
                "academic_year": year,
                "mode": "opt_in",
                "modules": ["CHE1001"],
            },
            headers=staff,
        ),
        201,
    )
    ok(
        rec.post(
            "/training-sessions",
            json={
                "training_id": "core-1",
                "academic_year": year,
                "title": "Core training",
                "held_on": (now - timedelta(days=30)).date().isoformat(),
                "hours": "6",
            },
            headers=staff,
        ),
        201,
    )
    for number, name in LEADERS.values():
        student = {"Authorization": f"Bearer {make_token(s.kit, number, ['student'])}"}
        application = ok(
            rec.post(
                f"/campaigns/{year}/applications",
                json={
                    "name": name,
                    "email": f"{number}@example.ac.uk",
                    "school": "Physics",
                    "level": "undergraduate",
                    "year_of_study": 2,
                    "preferred_schemes": [scheme],
                    "statement": "PASS got me through first year; I want to give that back.",
                },
                headers=student,
            ),
            201,
        )
        application_id = application["application_id"]
        s.applications[number] = application_id
        detail = ok(rec.get(f"/applications/{application_id}", headers=staff))
        pending = [c["code"] for c in detail["criteria"] if c["met"] is None]
        ok(
            rec.post(
                f"/applications/{application_id}/assessments",
                json={
                    "outcomes": [{"code": c, "met": True, "note": "training day"} for c in pending]
                },
                headers=staff,
            )
        )
        ok(
            rec.post(
                "/training-sessions/core-1/completions",
                json={"completions": [{"student_number": number}]},
                headers=staff,
            )
        )
        appointment = {
            "role": "leader",
            "schemes": [scheme],
            "appointed_on": (now - timedelta(days=60)).date().isoformat(),
        }

        def appoints(
            application_id: str = application_id, appointment: dict[str, Any] = appointment
        ) -> bool:
            """Recruitment appoints only to a scheme it heard launched (an event away)."""
            r = rec.post(
                f"/applications/{application_id}/appointments", json=appointment, headers=staff
            )
            if r.status_code == 422 and r.json().get("code") == "unknown_scheme":
                return False
            ok(r)
            return True

        wait_until(appoints)

    def appointed() -> bool:
        r = ses.get(f"/schemes/{scheme}/leaders", headers=staff)
        known = {x["student_number"] for x in r.json()} if r.status_code == 200 else set()
        return {LEADER, LEADER_2} <= known

    wait_until(appointed)
    days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    for number in (LEADER, LEADER_2):
        ok(
            ses.put(
                f"/leaders/{number}/availability/{year}",
                json={"slots": [{"weekday": d, "starts": "00:00", "ends": "23:59"} for d in days]},
                headers=staff,
            )
        )

    # session A is under way now (ten minutes in), so it is today's, open for sign-in, whatever
    # the hour the tests run at; B starts when A ends, and the later one is tomorrow
    under_way = now.astimezone(CAMPUS).replace(second=0, microsecond=0) - timedelta(minutes=10)
    s.session_a_times = f"{under_way:%H:%M} to {under_way + timedelta(minutes=50):%H:%M}"

    def make(starts: datetime, room: str, leader: str | None) -> str:
        created = ok(
            ses.post(
                f"/schemes/{scheme}/sessions",
                json={
                    "starts_at": starts.isoformat(),
                    "ends_at": (starts + timedelta(minutes=50)).isoformat(),
                    "room": room,
                    "capacity": 40,
                },
                headers=staff,
            ),
            201,
        )
        if leader:
            ok(
                ses.post(
                    f"/sessions/{created['session_id']}/leaders",
                    json={"student_number": leader},
                    headers=staff,
                ),
                201,
            )
        return str(created["session_id"])

    s.session_a = make(under_way, ROOM_A, LEADER)
    s.session_b = make(under_way + timedelta(minutes=50), ROOM_B, LEADER_2)
    s.session_later = make(under_way + timedelta(days=1), ROOM_A, LEADER)
    # the kiosk's room: a session under way now (it shows the one that ends next)
    starts = now.astimezone(CAMPUS).replace(second=0, microsecond=0) - timedelta(minutes=5)
    kiosk = ok(
        ses.post(
            f"/schemes/{scheme}/sessions",
            json={
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(minutes=20)).isoformat(),
                "room": KIOSK_ROOM,
                "capacity": 40,
            },
            headers=staff,
        ),
        201,
    )
    s.session_kiosk = str(kiosk["session_id"])

    def attendance_knows_the_rota() -> bool:
        r = httpx.get(f"{s.attendance}/sessions", headers=staff)
        rostered = {x["session_id"]: x["leaders"] for x in r.json()} if r.is_success else {}
        return (
            rostered.get(s.session_a) == [LEADER]
            and rostered.get(s.session_b) == [LEADER_2]
            and s.session_later in rostered
            and s.session_kiosk in rostered
        )

    wait_until(attendance_knows_the_rota)
