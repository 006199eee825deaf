"""Fixtures of the portal's browser tests: a real OIDC provider for the whole run, the stack
(four processes' worth, over real HTTP) for each module, and headless Chromium."""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from passhub_shared.dev.oidcserver import OidcProvider
from tests.portal.stack import Stack, running_stack
from tests.servers import PostgresHandle, ServerHandle

CHROMIUM = Path("/usr/bin/chromium")
OUTPUT = Path(__file__).resolve().parents[1] / "output" / "portal"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 780},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}}


@pytest.fixture(scope="session")
def oidc() -> Iterator[OidcProvider]:
    with (
        tempfile.TemporaryDirectory(prefix="passhub-test-oidc-") as root,
        OidcProvider(Path(root)) as provider,
    ):
        yield provider


def _stack_key(module: Any) -> str:
    """The stack a test module runs on: the one it shares (`SHARED_STACK`), or its own."""
    return str(getattr(module, "SHARED_STACK", None) or module.__name__)


def _item_key(item: pytest.Item) -> str:
    module = getattr(item, "module", None)
    return _stack_key(module) if module is not None else str(item.path)


class StackPool:
    """The stack of the modules that share one: started for the first of them, stopped after
    the last. One stack runs at a time (they share the NATS server's streams)."""

    def __init__(self, pg: PostgresHandle, nats: ServerHandle, oidc: OidcProvider) -> None:
        self.pg, self.nats, self.oidc = pg, nats, oidc
        #: modules still to run on each stack (counted once the run's tests are known)
        self.users: Counter[str] = Counter()
        self.key = ""
        self.running: contextlib.ExitStack | None = None
        self.stack: Stack | None = None

    def take(self, key: str, seeded: bool = True) -> Stack:
        if self.stack is None or self.key != key:
            self.close()
            with contextlib.ExitStack() as running:
                self.stack = running.enter_context(
                    running_stack(self.pg, self.nats, self.oidc, seeded=seeded)
                )
                self.running, self.key = running.pop_all(), key
        return self.stack

    def release(self, key: str) -> None:
        self.users[key] -= 1
        if self.users[key] <= 0 and self.key == key:
            self.close()

    def close(self) -> None:
        running, self.running, self.stack, self.key = self.running, None, None, ""
        if running is not None:
            running.close()


_users: Counter[str] = Counter()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The modules that share a stack run one after the other (in their order otherwise), and
    the pool learns how many modules each stack serves in this run."""
    here = Path(__file__).parent
    slots = [i for i, item in enumerate(items) if here in item.path.parents]
    if not slots:
        return
    mine = [items[i] for i in slots]
    first: dict[str, int] = {}
    for n, item in enumerate(mine):
        first.setdefault(_item_key(item), n)
    ordered = sorted(enumerate(mine), key=lambda p: (first[_item_key(p[1])], p[0]))
    for slot, (_, item) in zip(slots, ordered, strict=True):
        items[slot] = item
    modules = {getattr(item, "module", None) for item in mine} - {None}
    _users.clear()
    _users.update(_stack_key(m) for m in modules)


@pytest.fixture(scope="session")
def stack_pool(
    pg_server: PostgresHandle, nats_server: ServerHandle, oidc: OidcProvider
) -> Iterator[StackPool]:
    pool = StackPool(pg_server, nats_server, oidc)
    pool.users = _users
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest, stack_pool: StackPool) -> Iterator[Stack]:
    key = _stack_key(request.module)
    try:
        # a module with `SEEDED = False` makes its own year from nothing
        yield stack_pool.take(key, seeded=getattr(request.module, "SEEDED", True))
    finally:
        stack_pool.release(key)


class WatchedBrowser:
    """Chromium whose every context notes what a strict Content-Security-Policy blocked, and
    scripts' uncaught errors: `shoot` fails a page that has any."""

    def __init__(self, chromium: Any) -> None:
        self.chromium = chromium

    def new_context(self, **options: Any) -> Any:
        context = self.chromium.new_context(**options)
        problems: list[str] = []
        context.on(
            "console",
            lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
        )
        context.on("weberror", lambda e: problems.append(str(e.error)))
        context.passhub_problems = problems
        return context

    def __getattr__(self, name: str) -> Any:
        return getattr(self.chromium, name)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for a module (Playwright's sync API keeps its own event loop running in this
    thread while it is open, which the async tests of other modules could not start beside)."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield WatchedBrowser(chromium)
        finally:
            chromium.close()


class Axe:
    """axe-core (from axe-playwright-python) run in the page, for WCAG 2.2 AA."""

    TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]

    def __init__(self) -> None:
        from axe_playwright_python.sync_playwright import Axe as AxeRunner

        self.runner = AxeRunner()
        self.report: dict[str, Any] = {}

    def check(self, page: Any, name: str) -> None:
        results = self.runner.run(page, options={"runOnly": {"type": "tag", "values": self.TAGS}})
        violations = results.response["violations"]
        self.report[name] = [
            {"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"]), "help": v["help"]}
            for v in violations
        ]
        serious = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert not serious, f"{name}: " + "; ".join(
            f"{v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(str(n["target"]) for n in v["nodes"][:3])
            for v in serious
        )


@pytest.fixture(scope="session")
def axe() -> Iterator[Axe]:
    checker = Axe()
    yield checker
    OUTPUT.mkdir(parents=True, exist_ok=True)
    report = OUTPUT / "axe-report.json"
    existing = json.loads(report.read_text()) if report.exists() else {}
    report.write_text(json.dumps({**existing, **checker.report}, indent=2, sort_keys=True) + "\n")


@pytest.fixture
def shoot(axe: Axe) -> Any:
    """Check a page with axe-core and save screenshots of it at 360 and 1280 px wide (or at
    the `widths` given)."""
    OUTPUT.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str, widths: tuple[int, ...] = (360, 1280)) -> None:
        problems = getattr(page.context, "passhub_problems", [])
        assert not problems, f"{name}: the browser reported {problems}"
        axe.check(page, name)
        size = page.viewport_size
        for width, height in ((360, 780), (1280, 900)):
            if width not in widths:
                continue
            page.set_viewport_size({"width": width, "height": height})
            page.screenshot(path=OUTPUT / f"{name}-{width}.png", full_page=True)
        page.set_viewport_size(size)

    return take


@pytest.fixture
def shoot_console(shoot: Any) -> Any:
    """`shoot`, and the page reflows at 360 px: nothing makes the page itself wider than the
    screen (a wide table scrolls in its own box)."""

    def take(page: Any, name: str, widths: tuple[int, ...] = (360, 1280)) -> None:
        size = page.viewport_size
        page.set_viewport_size({"width": 360, "height": 780})
        try:
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, f"{name}: the page is {width} px wide on a 360 px screen"
        finally:
            page.set_viewport_size(size)
        shoot(page, name, widths)

    return take
