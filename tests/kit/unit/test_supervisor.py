"""The supervisor `passhub dev up` runs: a child that stops is started again after a delay that
doubles while it keeps failing, and the others are left alone."""

from __future__ import annotations

from dataclasses import dataclass, field

from passhub_shared.operations.supervisor import Backoff, Supervisor, describe_exit


@dataclass
class FakeChild:
    name: str
    running: bool = True
    starts: int = 0
    fail_starts: int = 0

    def stopped(self) -> str | None:
        return None if self.running else "exit code 1"

    def start(self) -> None:
        self.starts += 1
        if self.fail_starts:
            self.fail_starts -= 1
            raise RuntimeError("port in use")
        self.running = True


@dataclass
class Clock:
    now: float = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Given:
    clock: Clock = field(default_factory=Clock)
    lines: list[str] = field(default_factory=list)
    a: FakeChild = field(default_factory=lambda: FakeChild("attendance"))
    b: FakeChild = field(default_factory=lambda: FakeChild("sessions"))

    def __post_init__(self) -> None:
        self.supervisor = Supervisor(
            [self.a, self.b], self.lines.append, Backoff(first=1, longest=8), self.clock
        )

    def at(self, seconds: float) -> None:
        self.clock.now = seconds
        self.supervisor.check()


def test_a_stopped_child_is_started_again_after_the_delay_and_logged() -> None:
    given = Given()
    given.at(100)
    given.a.running = False
    given.at(101)
    assert given.a.starts == 0 and "attendance stopped (exit code 1)" in given.lines[-1]
    assert "again in 1 s" in given.lines[-1]
    given.at(101.5)
    assert given.a.starts == 0
    given.at(102)
    assert given.a.starts == 1 and given.a.running
    assert given.lines[-1] == "attendance started again (restart 1)"
    assert given.b.starts == 0  # the others are left alone
    assert given.supervisor.restarts("attendance") == 1


def test_the_delay_doubles_while_it_keeps_crashing_and_resets_once_it_stays_up() -> None:
    given = Given()
    delays = []
    t = 0.0
    for _ in range(6):
        given.a.running = False
        given.at(t)
        delay = float(given.lines[-1].rsplit("in ", 1)[1].split()[0])
        delays.append(delay)
        t += delay
        given.at(t)
        t += 0.5  # crashes again half a second after each start
    assert delays == [1, 2, 4, 8, 8, 8]
    given.at(t + 61)  # up for more than a minute
    given.a.running = False
    given.at(t + 62)
    assert "again in 1 s" in given.lines[-1]


def test_a_start_that_fails_is_tried_again_later() -> None:
    given = Given()
    given.a.fail_starts = 1
    given.a.running = False
    given.at(0)
    given.at(1)
    assert given.a.starts == 1 and "could not start attendance (port in use)" in given.lines[-1]
    given.at(2)
    assert given.a.starts == 1
    given.at(3)
    assert given.a.starts == 2 and given.a.running


def test_exit_statuses_in_words() -> None:
    assert describe_exit(3) == "exit code 3"
    assert describe_exit(-9) == "killed by SIGKILL"
