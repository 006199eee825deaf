"""The demo's people, schemes and words: a fixed list, the same on every run and every machine.

The names are common given names and surnames put together by a seeded generator; nobody real
is described. Student numbers are seven digits: leaders and organisers 23xxxxx (second-years
applying to lead), students 25xxxxx (first-years), non-participants 25xxxxx too.

The people `make run` lets you log in as (`dev_logins()`, which `passhub_shared.dev.devportal`
gives its OIDC provider) are demo people: after `make demo`, `student` is a Physics first-year
with a term's attendance behind them, `leader` a Physics leader rostered on the session in
progress, `coordinator` the schemes' coordinator and `kiosk` the kiosk of that session's room.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

GIVEN = (
    "Amara", "Oliver", "Priya", "Jack", "Zainab", "Harry", "Mei", "George", "Aisha", "Noah",
    "Chloe", "Tomasz", "Sophie", "Ibrahim", "Freya", "Daniel", "Niamh", "Arjun", "Grace",
    "Kwame", "Isla", "Luca", "Hannah", "Yusuf", "Emily", "Rhys", "Fatima", "Callum", "Ella",
    "Mateo", "Lucy", "Oluwaseun", "Ava", "Ewan", "Jasmine", "Samuel", "Leah", "Connor",
    "Aaliyah", "Finn", "Sofia", "Reuben", "Maya", "Kieran", "Imogen", "Hamza", "Poppy", "Liam",
    "Anya", "Theo", "Ruby", "Adebayo", "Megan", "Ciaran", "Holly", "Jun", "Eleanor", "Dev",
    "Abigail", "Marek",
)  # fmt: skip
FAMILY = (
    "Okafor", "Smith", "Patel", "Jones", "Khan", "Williams", "Chen", "Taylor", "Hussain",
    "Brown", "Evans", "Nowak", "Wilson", "Ahmed", "Thomas", "Roberts", "O'Brien", "Sharma",
    "Johnson", "Mensah", "Walker", "Rossi", "Wright", "Ali", "Robinson", "Morgan", "Begum",
    "MacDonald", "Hughes", "Garcia", "Green", "Adeyemi", "Hall", "Campbell", "Singh", "Clarke",
    "Kelly", "Murphy", "Lewis", "Davies", "Kowalski", "Wood", "Lee", "Fraser", "Price",
    "Mahmood", "Turner", "Byrne", "Ivanova", "Baker", "Nguyen", "Scott", "Osei", "Cooper",
    "Harris", "Lin", "Bennett", "Reid", "Gupta", "Stewart",
)  # fmt: skip

#: the room of Physics' sessions today (the one in progress among them), and its kiosk's
KIOSK_ROOM = "Library Group Study 2"
#: the login group a coordinator holds at the dev OIDC provider (the portal maps it)
STAFF_GROUP = "passhub-coordinators"

COMMENTS = (
    "Going through past paper questions together really helped.",
    "Our leaders explained vectors far better than I could work out alone.",
    "Nice to meet people on my course in a relaxed setting.",
    "Could we have more practice on integration by parts?",
    "The room was a bit cramped this week but the session was great.",
    "I finally understand how to set out a lab report.",
    "Helpful for checking I was on track before the deadline.",
    "Would like the session to run a little longer before exams.",
    "Good mix of group work and explanation.",
    "",
)


@dataclass(frozen=True)
class Person:
    student_number: str
    name: str

    @property
    def email(self) -> str:
        first, last = self.name.lower().split(" ", 1)
        return f"{first}.{last.replace(' ', '').replace(chr(39), '')}@example.ac.uk"


#: the coordinator of every demo scheme (a staff number)
COORDINATOR = Person("E0000001", "Dr Helen Carter")
#: the kiosk account of KIOSK_ROOM
KIOSK = Person("KIOSK-1", "Library kiosk")


@dataclass(frozen=True)
class Series:
    weekday: str
    starts: str
    ends: str
    room: str
    capacity: int


@dataclass(frozen=True)
class Scheme:
    code: str
    title: str
    school: str
    mode: str  # opt_in or opt_out
    modules: tuple[str, ...]
    series: tuple[Series, ...]
    #: the room of the demo's sessions today (one in progress, one later)
    today_room: str
    leaders: tuple[Person, ...] = field(default=())
    students: tuple[Person, ...] = field(default=())
    #: enrolled on the modules, never attending: the evaluation's comparison group
    non_participants: tuple[Person, ...] = field(default=())


def _names(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        name = f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}"
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


_SCHEMES = (
    (
        "PHYS", "Physics PASS", "Physics", "opt_in", ("PHY1001", "PHY1002"),
        (Series("tuesday", "14:00", "15:00", "Physics 1.02", 40),
         Series("thursday", "11:00", "12:00", "Physics 2.14", 30)),
        KIOSK_ROOM,
    ),
    (
        "MATHS", "Mathematics PASS", "Mathematics", "opt_out", ("MTH1001", "MTH1004"),
        (Series("monday", "10:00", "11:00", "Maths Hub G.05", 60),),
        "Library Group Study 3",
    ),
    (
        "CHEM", "Chemistry PASS", "Chemistry", "opt_in", ("CHM1010",),
        (Series("friday", "13:00", "14:00", "Chemistry LT3", 50),),
        "Library Group Study 4",
    ),
)  # fmt: skip

LEADERS_PER_SCHEME = 6
STUDENTS_PER_SCHEME = 20
NON_PARTICIPANTS_PER_SCHEME = 20


def schemes() -> list[Scheme]:
    """The three schemes with their leaders, students and non-participants."""
    per = LEADERS_PER_SCHEME + STUDENTS_PER_SCHEME + NON_PARTICIPANTS_PER_SCHEME
    names = _names(per * len(_SCHEMES) + 4, seed=2026)
    out = []
    for i, (code, title, school, mode, modules, series, room) in enumerate(_SCHEMES):
        block = names[i * per : (i + 1) * per]
        leaders = tuple(
            Person(f"23{i + 1}{k + 1:04d}", block[k]) for k in range(LEADERS_PER_SCHEME)
        )
        students = tuple(
            Person(f"25{i + 1}{k + 1:04d}", block[LEADERS_PER_SCHEME + k])
            for k in range(STUDENTS_PER_SCHEME)
        )
        others = tuple(
            Person(f"25{i + 1}{k + 501:04d}", block[LEADERS_PER_SCHEME + STUDENTS_PER_SCHEME + k])
            for k in range(NON_PARTICIPANTS_PER_SCHEME)
        )
        out.append(
            Scheme(code, title, school, mode, modules, series, room, leaders, students, others)
        )
    return out


def extra_applicants() -> tuple[Person, Person, Person]:
    """The student organiser (of Mathematics), an applicant turned down, one still open."""
    per = LEADERS_PER_SCHEME + STUDENTS_PER_SCHEME + NON_PARTICIPANTS_PER_SCHEME
    names = _names(per * len(_SCHEMES) + 4, seed=2026)[-3:]
    return (
        Person("2390001", names[0]),
        Person("2390002", names[1]),
        Person("2390003", names[2]),
    )


def dev_student() -> Person:
    """`make run`'s `student`: Physics PASS's first student, who came to every Physics session
    so far and gave named feedback, and is left to sign in to today's session themselves."""
    return schemes()[0].students[0]


def dev_leader() -> Person:
    """`make run`'s `leader`: Physics PASS's first leader, rostered on Physics' sessions today
    and left to sign in as leader at the one in progress themselves."""
    return schemes()[0].leaders[0]


@dataclass(frozen=True)
class DevLogin:
    """Someone to log in as on `make run`'s OIDC provider: type `username` on its form."""

    username: str
    #: who they are (a `student_number` of "": a login that carries no number)
    person: Person
    #: what they find in the portal after `make demo`
    what: str
    groups: tuple[str, ...] = ()

    def claims(self) -> dict[str, object]:
        """The provider's user: its subject and the claims the portal reads."""
        claims: dict[str, object] = {"sub": self.username, "name": self.person.name}
        if self.person.student_number:
            claims["student_number"] = self.person.student_number
        if self.groups:
            claims["groups"] = list(self.groups)
        return claims


def dev_logins() -> tuple[DevLogin, ...]:
    """The dev users: the demo's own people, so that after `make demo` each sees a living
    portal."""
    phys = schemes()[0]
    student, leader = dev_student(), dev_leader()
    return (
        DevLogin(
            "student",
            student,
            f"{student.name} ({student.student_number}), a {phys.title} first-year: sessions "
            "attended, feedback given, sessions to come",
        ),
        DevLogin(
            "leader",
            leader,
            f"{leader.name} ({leader.student_number}), a {phys.title} leader: today's session "
            f"in {KIOSK_ROOM} and its QR screen, sessions led so far",
        ),
        DevLogin(
            "coordinator",
            COORDINATOR,
            f"{COORDINATOR.name} ({COORDINATOR.student_number}), the schemes' coordinator "
            "(from the provider's groups claim)",
            groups=(STAFF_GROUP,),
        ),
        DevLogin(
            "kiosk",
            KIOSK,
            f"the kiosk of room {KIOSK_ROOM}, where {phys.title} is on: type "
            f"{student.student_number} to sign the student in",
        ),
        DevLogin("nonumber", Person("", "Nell No-Number"), "a login with no student number"),
    )
