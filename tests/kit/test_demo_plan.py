"""The demo's plan, without servers: its people are fixed and distinct, its year and today's
sessions follow the clock in the institution's time zone; the command says what is missing
when a service does not answer or the JWT secret is not set."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from passhub_shared.demo.people import extra_applicants, schemes
from passhub_shared.demo.year import Demo, academic_year
from passhub_shared.devservers import free_port
from passhub_shared.settings import Settings
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
