"""`passhub erase`, `passhub subject-access`, `passhub retention run` and `passhub keys rotate`:
the privacy operations over every installed service's database; `passhub privacy erase` and
`passhub privacy subject-access`: the same across every service through their HTTP APIs
(docs/privacy.md)."""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
import html
import json
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import httpx
import nats
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from passhub_shared.dev.natscluster import nats_servers
from passhub_shared.operations import loop
from passhub_shared.operations.secretkeys import InsecureSecret
from passhub_shared.operations.service import Runtime, installed_services, load_service
from passhub_shared.operations.settings import load_settings
from passhub_shared.personaldata import retention as retention_rules
from passhub_shared.personaldata.keyshare import KeyPublisher, stream_keys_of
from passhub_shared.personaldata.privacy import audit, erase, last_activity_by_kind, subject_access
from passhub_shared.personaldata.privacy_fanout import (
    ServiceOutcome,
    erase_everywhere,
    subject_access_everywhere,
)
from passhub_shared.personaldata.retention import Due, Policy

console = Console()
retention = typer.Typer(help="Retention: erase people past the retention period.")
keys = typer.Typer(help="The key tables' master keys.")

ActorOpt = Annotated[
    str | None, typer.Option(help="who runs it, for the audit (default: the system user)")
]
ServicesOpt = Annotated[
    list[str] | None,
    typer.Option("--service", help="only these services (default: every installed service)"),
]


def _actor(actor: str | None) -> str:
    return actor or f"cli:{getpass.getuser()}"


def _runtimes(services: Sequence[str] | None) -> list[Runtime]:
    names = list(services or installed_services())
    try:
        return [Runtime(load_service(n), load_settings(n)) for n in names]
    except LookupError as exc:
        raise typer.BadParameter(str(exc)) from None
    except InsecureSecret as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(1) from None
    except ValidationError as exc:
        console.print(f"[red]the settings are wrong: {exc}", highlight=False)
        raise typer.Exit(2) from None


def _each(runtimes: Sequence[Runtime], work: Callable[[Runtime], Awaitable[Any]]) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        out: dict[str, Any] = {}
        try:
            for runtime in runtimes:
                out[runtime.name] = await work(runtime)
        finally:
            for runtime in runtimes:
                await runtime.engine.dispose()
        return out

    return loop.run(run())


async def _purge_bucket(runtime: Runtime) -> None:
    """Take erased keys out of the key bucket now, if NATS answers (the service's relay does it
    anyway before it publishes again)."""
    try:
        nc = await nats.connect(
            nats_servers(runtime.settings.nats_url), connect_timeout=2, max_reconnect_attempts=0
        )
    except Exception:
        console.print(f"[yellow]{runtime.name}: NATS not reachable; its relay will purge the keys")
        return
    try:
        publisher = KeyPublisher(
            runtime.name,
            runtime.privacy.keys.masters,
            stream_keys_of(runtime.settings),
            runtime.settings.stream_replicas,
        )
        raw = await runtime.engine.raw_connection()
        try:
            driver = raw.driver_connection
            assert driver is not None
            await asyncio.wait_for(publisher.sync(driver, nc.jetstream()), timeout=30)
        finally:
            raw.close()
    except Exception as exc:  # the relay retries; the erasure itself is done
        console.print(f"[yellow]{runtime.name}: key bucket not updated now ({exc})")
    finally:
        await nc.close()


def erase_command(
    student_numbers: Annotated[list[str], typer.Argument(help="the people to erase")],
    reason: Annotated[str, typer.Option(help="why (recorded in the audit)")],
    actor: ActorOpt = None,
    services: ServicesOpt = None,
) -> None:
    """Erase people from every service: keys deleted, awards withdrawn, projections rebuilt,
    keys taken out of the published bucket. Safe to repeat."""
    if not reason.strip():
        raise typer.BadParameter("a reason is required", param_hint="--reason")
    who = _actor(actor)

    async def one(runtime: Runtime) -> Any:
        report = await erase(runtime, student_numbers, reason=reason.strip(), actor=who)
        await _purge_bucket(runtime)
        return report

    reports = _each(_runtimes(services), one)
    table = Table("service", "people", "keys deleted", "events in log", "seconds")
    for name, r in reports.items():
        table.add_row(
            name, str(r.people), str(r.keys_deleted), str(r.events_in_log), f"{r.seconds:.2f}"
        )
    console.print(table)


def subject_access_command(
    student_number: Annotated[str, typer.Argument(help="the person")],
    reason: Annotated[
        str, typer.Option(help="the request (recorded in the audit)")
    ] = "subject access request",
    out: Annotated[Path, typer.Option(help="directory for the archive")] = Path("."),
    actor: ActorOpt = None,
    services: ServicesOpt = None,
) -> None:
    """Everything every service holds about a person: a JSON archive and an HTML summary."""
    who = _actor(actor)
    found = _each(
        _runtimes(services),
        lambda rt: subject_access(rt, student_number, actor=who, reason=reason),
    )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out.mkdir(parents=True, exist_ok=True)
    archive = {
        "student_number": student_number,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(),
        "services": found,
    }
    json_path = out / f"subject-access-{stamp}.json"
    json_path.write_text(json.dumps(archive, indent=2, ensure_ascii=False))
    html_path = out / f"subject-access-{stamp}.html"
    html_path.write_text(render_html(archive))
    console.print(f"[green]{json_path}\n{html_path}")


def render_html(archive: dict[str, Any]) -> str:
    """A readable summary of a subject access archive."""
    e = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Subject access: {e(archive['student_number'])}</title>",
        "<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2rem .4rem;"
        "vertical-align:top;text-align:left}</style></head><body>",
        f"<h1>What passhub holds about {e(archive['student_number'])}</h1>",
        f"<p>Generated {e(archive['generated_at'])}.</p>",
    ]
    for service, held in archive["services"].items():
        parts.append(f"<h2>{e(service)}</h2>")
        if held["status"] != "held":
            parts.append(f"<p>Nothing held ({e(held['status'])}).</p>")
            continue
        parts.append(
            f"<h3>Events ({len(held['events'])})</h3><table><tr><th>when</th>"
            "<th>what</th><th>from</th><th>details</th></tr>"
        )
        for ev in held["events"]:
            name = ev["type"].split(".")[2].replace("_", " ")
            details = "; ".join(f"{k}: {v}" for k, v in ev["data"].items())
            parts.append(
                f"<tr><td>{e(str(ev['time']))}</td><td>{e(name)}</td><td>{e(ev['from'])}</td>"
                f"<td>{e(details)}</td></tr>"
            )
        parts.append("</table>")
        for table_name, rows in held["tables"].items():
            parts.append(f"<h3>{e(table_name)} ({len(rows)})</h3><ul>")
            for row in rows:
                parts.append("<li>" + e("; ".join(f"{k}: {v}" for k, v in row.items())) + "</li>")
            parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


@retention.command("run")
def retention_run(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="list who would be erased, and why")
    ] = False,
    today: Annotated[
        str | None, typer.Option(help="the day to measure from (YYYY-MM-DD; default today)")
    ] = None,
    actor: ActorOpt = None,
    services: ServicesOpt = None,
) -> None:
    """Erase everyone all of whose data, kind by kind, is past its retention period
    (`PASSHUB_RETENTION_YEARS_BY_KIND`, e.g. {"feedback": 2}; other kinds
    `PASSHUB_RETENTION_YEARS`, default 6: the end of the student relationship plus six
    years). Idempotent: an erased person is not found again."""
    runtimes = _runtimes(services)
    day = dt.date.fromisoformat(today) if today else dt.datetime.now(dt.UTC).date()
    due = retention_due(_each(runtimes, last_activity_by_kind), runtimes, day)
    table = Table("student number", "kept longest for", "last of it", "kept until")
    for subject, d in sorted(due.items()):
        table.add_row(subject, d.kind, d.last.date().isoformat(), d.until.isoformat())
    console.print(table)
    console.print(f"{len(due)} to erase" + (" (dry run: nothing changed)" if dry_run else ""))
    who = _actor(actor)
    reason = f"retention: every kind of their data past its period on {day.isoformat()}"

    async def one(runtime: Runtime) -> Any:
        if due:
            await erase(runtime, sorted(due), reason=reason, actor=who, action="retention")
            await _purge_bucket(runtime)
        else:
            async with runtime.engine.begin() as conn:
                await audit(conn, "retention", who, reason, 0, {"dry_run": dry_run})
        return None

    if not dry_run:
        _each(runtimes, one)


def retention_policy(runtimes: Sequence[Runtime]) -> Policy:
    """The longest period any service is given, kind by kind (a person's data is erased from
    every service at once)."""
    by_kind: dict[str, int] = {}
    for rt in runtimes:
        for kind, years in rt.settings.retention_years_by_kind.items():
            by_kind[kind] = max(years, by_kind.get(kind, 0))
    default = max(rt.settings.retention_years for rt in runtimes)
    return Policy(default, by_kind)


def retention_due(
    found: dict[str, dict[str, dict[str, dt.datetime]]],
    runtimes: Sequence[Runtime],
    day: dt.date,
) -> dict[str, Due]:
    """subject -> when and why their data is kept until, for those due before `day`."""
    return retention_rules.due(found, retention_policy(runtimes), day)


@keys.command("rotate")
def rotate(
    services: ServicesOpt = None,
) -> None:
    """Re-wrap every data key under the current master key (PASSHUB_PRIVACY_MASTER_KEY); the
    old master stays in PASSHUB_PRIVACY_PREVIOUS_MASTER_KEYS until this has run everywhere."""

    async def one(runtime: Runtime) -> int:
        async with runtime.engine.begin() as conn:
            return await runtime.privacy.keys.rotate(conn)

    for name, count in _each(_runtimes(services), one).items():
        console.print(f"{name}: {count} data keys re-wrapped")


# -- through the services' HTTP APIs -----------------------------------------------------------

api = typer.Typer(
    help="Erasure and subject access across every service through their HTTP APIs "
    "(a coordinator's token; no database access needed)."
)

TokenOpt = Annotated[
    str,
    typer.Option(
        envvar="PASSHUB_TOKEN",
        help="a coordinator's bearer token (or PASSHUB_TOKEN)",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print the per-service report as JSON")]


def _clients(services: Sequence[str] | None, timeout: float) -> dict[str, httpx.AsyncClient]:
    from passhub_shared.dev.demo.command import service_urls

    urls = service_urls()
    names = list(services or urls)
    unknown = [n for n in names if n not in urls]
    if unknown:
        raise typer.BadParameter(
            f"unknown service(s): {', '.join(unknown)}", param_hint="--service"
        )
    return {n: httpx.AsyncClient(base_url=urls[n], timeout=timeout) for n in names}


def _with_clients(
    services: Sequence[str] | None,
    timeout: float,
    work: Callable[[dict[str, httpx.AsyncClient]], Awaitable[Any]],
) -> Any:
    async def run() -> Any:
        clients = _clients(services, timeout)
        try:
            return await work(clients)
        finally:
            for client in clients.values():
                await client.aclose()

    return loop.run(run())


def _outcome_table(outcomes: Sequence[ServiceOutcome], columns: Sequence[str]) -> Table:
    table = Table("service", "outcome", *columns, "seconds")
    for o in outcomes:
        if o.done:
            cells = [str(o.report.get(c.replace(" ", "_"), "")) for c in columns]
            table.add_row(o.service, "[green]done", *cells, f"{o.seconds:.2f}")
        else:
            what = f"HTTP {o.status}: {o.error}" if o.status else o.error
            table.add_row(o.service, f"[red]{what}", *["" for _ in columns], f"{o.seconds:.2f}")
    return table


def _finish(outcomes: Sequence[ServiceOutcome], as_json: bool, columns: Sequence[str]) -> None:
    if as_json:
        typer.echo(json.dumps([o.as_dict() for o in outcomes], indent=2))
    else:
        console.print(_outcome_table(outcomes, columns))
    failed = [o.service for o in outcomes if not o.done]
    if failed:
        console.print(
            f"[red]not done in: {', '.join(failed)}[/red] (safe to repeat: run it again once "
            "they answer)",
            highlight=False,
        )
        raise typer.Exit(1)


@api.command("erase")
def api_erase(
    student_numbers: Annotated[list[str], typer.Argument(help="the people to erase")],
    reason: Annotated[str, typer.Option(help="why (recorded in each service's audit)")],
    token: TokenOpt,
    services: ServicesOpt = None,
    as_json: JsonOpt = False,
    timeout: Annotated[float, typer.Option(help="seconds each service may take")] = 120.0,
) -> None:
    """Erase people from every service at once through `POST /privacy/erasures`; reports
    per service what was done (people, keys deleted) or why not. Exits 1 if a service did not
    do it; safe to repeat."""
    if len(reason.strip()) < 3:
        raise typer.BadParameter(
            "a reason of at least 3 characters is required", param_hint="--reason"
        )
    outcomes = _with_clients(
        services,
        timeout,
        lambda clients: erase_everywhere(clients, token, student_numbers, reason.strip()),
    )
    _finish(outcomes, as_json, ["people", "keys deleted"])


@api.command("subject-access")
def api_subject_access(
    student_number: Annotated[str, typer.Argument(help="the person")],
    token: TokenOpt,
    reason: Annotated[
        str, typer.Option(help="the request (recorded in each service's audit)")
    ] = "subject access request",
    out: Annotated[Path, typer.Option(help="directory for the archive")] = Path("."),
    services: ServicesOpt = None,
    as_json: JsonOpt = False,
    timeout: Annotated[float, typer.Option(help="seconds each service may take")] = 120.0,
) -> None:
    """Everything every service holds about a person, through `GET
    /privacy/subject-access/{number}`: one JSON archive and an HTML summary, and per service
    what was found. Exits 1 if a service could not export."""
    archive, outcomes = _with_clients(
        services,
        timeout,
        lambda clients: subject_access_everywhere(clients, token, student_number, reason),
    )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / f"subject-access-{stamp}.json"
    json_path.write_text(json.dumps(archive, indent=2, ensure_ascii=False))
    html_path = out / f"subject-access-{stamp}.html"
    html_path.write_text(render_html(archive))
    for o in outcomes:  # what was found, for the table
        if o.done:
            o.report = {
                "status": o.report.get("status", ""),
                "events": len(o.report.get("events") or []),
                "rows": sum(len(rows) for rows in (o.report.get("tables") or {}).values()),
            }
    if not as_json:
        console.print(f"[green]{json_path}\n{html_path}")
    _finish(outcomes, as_json, ["status", "events", "rows"])
