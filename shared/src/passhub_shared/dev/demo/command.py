"""`passhub demo` (and `make demo`): the demo year, loaded into the services `make run` started.

The services are reached at `PASSHUB_<SERVICE>_URL` (from the environment or `var/passhub.env`,
which `passhub dev up` writes), and otherwise at the ports `make run` uses (8001-8004).
Tokens are signed with `PASSHUB_JWT_SECRET`, as `passhub token` signs them. At the end it says
where the portal is (`PASSHUB_PORTAL_PUBLIC_URL`, else `PASSHUB_PORTAL_URL`, else port 8005) and
who to log in as there.
"""

from __future__ import annotations

import os
from contextlib import AsyncExitStack
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import httpx
import typer
from rich.console import Console
from rich.table import Table

from passhub_shared.dev.demo.people import COORDINATOR, dev_logins
from passhub_shared.dev.demo.year import SERVICES, DemoError, DemoReport, run_demo
from passhub_shared.operations import loop
from passhub_shared.operations.localtime import institution_timezone
from passhub_shared.operations.settings import ENV_FILE, load_settings

#: where `make run` puts each service, and then the portal, when no URL is set
DEFAULT_PORTS = {name: 8001 + i for i, name in enumerate((*SERVICES, "portal"))}

console = Console()


def url_variable(service: str) -> str:
    return f"PASSHUB_{service.upper()}_URL"


def _from_env_file() -> dict[str, str]:
    from_file: dict[str, str] = {}
    if ENV_FILE.exists():
        for line in ENV_FILE.read_text(encoding="utf-8").splitlines():
            name, _, value = line.partition("=")
            from_file[name.strip()] = value.strip()
    return from_file


def _setting(from_file: dict[str, str], *variables: str) -> str | None:
    """The first of `variables` set in the environment or else in the env file."""
    for variable in variables:
        value = os.environ.get(variable) or from_file.get(variable)
        if value:
            return value
    return None


def service_urls() -> dict[str, str]:
    """Each service's base URL: `PASSHUB_<SERVICE>_URL` from the environment or the env file,
    else `make run`'s port on this machine."""
    from_file = _from_env_file()
    urls = {}
    for service in SERVICES:
        url = _setting(from_file, url_variable(service))
        urls[service] = (url or f"http://127.0.0.1:{DEFAULT_PORTS[service]}").rstrip("/")
    return urls


def portal_url() -> str:
    """Where people open the portal: its public address (`PASSHUB_PORTAL_PUBLIC_URL`, which
    dev up writes; the login works there only), else `PASSHUB_PORTAL_URL`, else port 8005."""
    url = _setting(_from_env_file(), "PASSHUB_PORTAL_PUBLIC_URL", url_variable("portal"))
    return (url or f"http://127.0.0.1:{DEFAULT_PORTS['portal']}").rstrip("/")


async def _load(urls: dict[str, str]) -> DemoReport:
    settings = load_settings()
    async with AsyncExitStack() as stack:
        clients = {}
        for service, url in urls.items():
            # trust_env=False: straight to the services, whatever proxy the shell configures
            client = httpx.AsyncClient(base_url=url, timeout=60, trust_env=False)
            clients[service] = await stack.enter_async_context(client)
            try:
                health = await client.get("/healthz")
            except httpx.HTTPError as exc:
                raise DemoError(
                    f"{service} does not answer at {url} ({exc.__class__.__name__}): "
                    "start passhub first with `make run`, or set "
                    f"{url_variable(service)}"
                ) from None
            if health.status_code != 200:
                raise DemoError(f"{service} at {url} is not healthy: {health.status_code}")
        return await run_demo(clients, settings, log=lambda line: console.print(f"[dim]{line}[/]"))


def demo(
    quiet: Annotated[bool, typer.Option(help="print only the summary")] = False,
) -> None:
    """Load a realistic year into the running services (again: changes nothing).

    Through the services' HTTP APIs: a campaign, leaders appointed, three schemes with weekly
    sessions and a rota, past attendance and feedback, a session in progress today, results
    for the evaluation, a recognition policy.
    """
    urls = service_urls()
    if not quiet:
        console.print("loading the demo year into " + ", ".join(urls.values()))
    try:
        report = loop.run(_load(urls))
    except DemoError as exc:
        console.print(f"[red]demo: {exc}")
        raise typer.Exit(1) from None
    table = Table("what", "made now", "already there", title=f"demo year {report.academic_year}")
    for what in sorted(set(report.created) | set(report.existing)):
        table.add_row(what, str(report.created.get(what, "")), str(report.existing.get(what, "")))
    console.print(table)
    console.print(
        f"{'loaded' if report.changed else 'already loaded: nothing changed'} "
        f"in {report.seconds:.1f} s"
    )
    print_logins(report, portal_url(), urls)


def print_logins(report: DemoReport, portal: str, urls: dict[str, str]) -> None:
    """Where to look now: the portal, and who to log in as there."""
    live = report.live
    if live is not None:
        tz = ZoneInfo(institution_timezone())
        starts = datetime.fromisoformat(live["starts_at"]).astimezone(tz)
        ends = datetime.fromisoformat(live["ends_at"]).astimezone(tz)
        console.print(
            f"in progress now: {live['reference']} in {live['room']}, "
            f"{starts:%H:%M} to {ends:%H:%M}; its QR screen: "
            f"[bold]{portal}/leader/sessions/{live['session_id']}[/] (log in as leader)"
        )
    console.print(f"\n[bold]Open passhub: {portal}[/] and log in as")
    for login in dev_logins():
        console.print(f"  {login.username:<12} {login.what}")
    console.print(
        "the APIs as the coordinator: [bold]passhub token --role coordinator --sub "
        f"{COORDINATOR.student_number}[/], then {urls['sessions']}/docs"
    )
