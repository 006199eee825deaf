"""The demo's plan, without servers: its people are fixed and distinct, `make run`'s dev users
are among them, its year and today's sessions follow the clock in the institution's time zone;
the command says what is missing when a service does not answer or the JWT secret is not set,
and where the portal is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from passhub_shared.dev import devportal
from passhub_shared.dev.demo import command
from passhub_shared.dev.demo.people import (
    COORDINATOR,
    KIOSK,
    KIOSK_ROOM,
    STAFF_GROUP,
    dev_leader,
    dev_logins,
    dev_student,
    extra_applicants,
    schemes,
)
from passhub_shared.dev.demo.year import Demo, academic_year
from passhub_shared.dev.devservers import free_port
from passhub_shared.operations.settings import Settings
from tests.support import SECRET_ENV

LONDON = ZoneInfo("Europe/London")


def demo_at(local: str) -> Demo:
    clients = {
        s: httpx.AsyncClient(base_url="http://unused")
        for s in ("recruitment", "sessions", "attendance", "recognition")
    }
    settings = Settings(jwt_secret=SECRET_ENV["PASSHUB_JWT_SECRET"])
    now = datetime.fromisoformat(local).replace(tzinfo=LONDON).astimezone(UTC)
    return Demo(clients, settings, now=now, tz=LONDON)


def test_the_people_are_the_same_on_every_run_and_all_distinct() -> None:
    first, again = schemes(), schemes()
    assert first == again
    people = [p for s in first for p in (*s.leaders, *s.students, *s.non_participants)]
    people += list(extra_applicants())
    assert len({p.student_number for p in people}) == len(people)
    assert len({p.name for p in people}) == len(people)
    assert all(" " in p.name and p.email.endswith("@example.ac.uk") for p in people)


def test_the_dev_users_are_the_demo_s_physics_student_leader_coordinator_and_kiosk(
    tmp_path: Path,
) -> None:
    phys = schemes()[0]
    assert dev_student() in phys.students and dev_leader() in phys.leaders
    users = {u["sub"]: u for u in devportal.DEV_USERS}
    assert set(users) == {login.username for login in dev_logins()}
    assert users["student"]["student_number"] == dev_student().student_number
    assert users["leader"]["student_number"] == dev_leader().student_number
    assert users["coordinator"]["student_number"] == COORDINATOR.student_number
    assert users["coordinator"]["groups"] == [STAFF_GROUP]
    assert "student_number" not in users["nonumber"]
    # the kiosk stands in the room of Physics' sessions today, the one in progress among them
    assert phys.today_room == KIOSK_ROOM
    env = devportal.portal_env(
        tmp_path,
        "http://idp",
        "http://portal",
        dict.fromkeys(("recruitment", "sessions", "attendance", "recognition"), "http://svc"),
    )
    assert json.loads(env["PASSHUB_PORTAL_KIOSKS"]) == {KIOSK.student_number: KIOSK_ROOM}
    assert json.loads(env["PASSHUB_PORTAL_STAFF_ROLE_MAP"]) == {STAFF_GROUP: "coordinator"}


def test_the_dev_student_came_to_every_past_session_and_is_left_to_sign_in_today() -> None:
    demo = demo_at("2026-12-05T14:22:10")
    phys = demo.schemes[0]
    for day in range(1, 30):
        came = demo._attenders(phys, {"reference": f"PHYS-2026-11-{day:02d}-14:00"})
        assert came[0] == dev_student(), "first, so theirs is the named feedback"
    others = demo._attenders(phys, {"reference": "PHYS-2026-11-03-14:00"})[1:]
    assert all(p != dev_student() for p in others)
    assert dev_student() not in demo._live_students(phys)


def test_the_portal_address_is_the_public_one_dev_up_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / "passhub.env"
    monkeypatch.setattr(command, "ENV_FILE", env_file)
    for variable in ("PASSHUB_PORTAL_PUBLIC_URL", "PASSHUB_PORTAL_URL"):
        monkeypatch.delenv(variable, raising=False)
    assert command.portal_url() == "http://127.0.0.1:8005"
    env_file.write_text("PASSHUB_PORTAL_URL=http://127.0.0.1:9005\n")
    assert command.portal_url() == "http://127.0.0.1:9005"
    env_file.write_text(
        "PASSHUB_PORTAL_URL=http://127.0.0.1:9005\n"
        "PASSHUB_PORTAL_PUBLIC_URL=http://192.168.1.20:9005/\n"
    )
    assert command.portal_url() == "http://192.168.1.20:9005"
    monkeypatch.setenv("PASSHUB_PORTAL_PUBLIC_URL", "https://pass.example.ac.uk")
    assert command.portal_url() == "https://pass.example.ac.uk"


def test_the_academic_year_turns_in_august() -> None:
    assert academic_year(datetime(2026, 12, 5).date()) == "2026-27"
    assert academic_year(datetime(2027, 7, 31).date()) == "2026-27"
    assert academic_year(datetime(2027, 8, 1).date()) == "2027-28"


def test_physics_has_a_session_in_progress_and_each_scheme_one_later_today() -> None:
    demo = demo_at("2026-12-05T14:22:10")
    phys, maths = demo.schemes[0], demo.schemes[1]
    live, later = demo._today_slots(phys)
    assert live[0].isoformat() == "2026-12-05T14:00:00+00:00"
    assert (live[1] - live[0]).total_seconds() == 3600
    assert later[0].isoformat() == "2026-12-05T16:00:00+00:00"
    (maths_later,) = demo._today_slots(maths)
    assert maths_later[0].hour == 17


def test_just_after_midnight_the_session_in_progress_starts_today() -> None:
    demo = demo_at("2026-12-05T00:07:00")
    live, _ = demo._today_slots(demo.schemes[0])
    assert live[0].isoformat() == "2026-12-05T00:00:00+00:00"


def test_late_in_the_evening_no_session_is_put_on_tomorrow() -> None:
    demo = demo_at("2026-12-05T21:40:00")
    (live,) = demo._today_slots(demo.schemes[0])
    assert live[0].hour == 21
    assert demo._today_slots(demo.schemes[2]) == []


def test_in_summer_time_the_times_are_local() -> None:
    demo = demo_at("2026-10-06T14:22:00")
    live, _ = demo._today_slots(demo.schemes[0])
    assert live[0].isoformat() == "2026-10-06T14:00:00+01:00"


def test_the_command_says_to_start_passhub_when_a_service_does_not_answer(
    tmp_path: Path,
) -> None:
    closed = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSHUB_")}
    env |= {
        "PASSHUB_ENV_FILE": str(tmp_path / "none.env"),
        "PASSHUB_JWT_SECRET": SECRET_ENV["PASSHUB_JWT_SECRET"],
        # every passhub command's settings require the personal data's keys too
        "PASSHUB_PRIVACY_MASTER_KEY": SECRET_ENV["PASSHUB_PRIVACY_MASTER_KEY"],
        "PASSHUB_STREAM_KEY": SECRET_ENV["PASSHUB_STREAM_KEY"],
        "PASSHUB_RECRUITMENT_URL": f"http://127.0.0.1:{closed}",
        "COLUMNS": "200",
    }
    done = subprocess.run(
        [str(Path(sys.executable).with_name("passhub")), "demo", "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert f"recruitment does not answer at http://127.0.0.1:{closed}" in done.stdout
    assert "make run" in done.stdout and "Traceback" not in done.stdout + done.stderr


def test_without_a_jwt_secret_the_command_names_it() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSHUB_")}
    env |= {"PASSHUB_ENV_FILE": "/nonexistent/passhub.env", "COLUMNS": "200"}
    done = subprocess.run(
        [str(Path(sys.executable).with_name("passhub")), "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "PASSHUB_JWT_SECRET" in done.stdout and "Traceback" not in done.stderr
