"""The `passhub` command line: tokens, replay, dead letters, migrations, `dev up` and `demo`.

Services add their own sub-commands (e.g. `passhub report`) through the entry point group
`passhub.commands`, each a `typer.Typer`, so this module imports no service.
"""

from __future__ import annotations

from datetime import timedelta
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from passhub_shared.dev.demo.command import demo as demo_command
from passhub_shared.messaging.deadletters import list_dead_letters, retry_dead_letters
from passhub_shared.operations import loop
from passhub_shared.operations.replay import DEFAULT_BATCH_SIZE, DEFAULT_FOLD_LIMIT, rebuild
from passhub_shared.operations.secretkeys import InsecureSecret
from passhub_shared.operations.service import Runtime, installed_services, load_service
from passhub_shared.operations.settings import load_settings
from passhub_shared.personaldata import privacy_cli
from passhub_shared.web.auth import ROLES, make_token

app = typer.Typer(help="passhub: run and operate the PASS services.", no_args_is_help=True)
dead = typer.Typer(help="Events a consumer parked after repeated failures.", no_args_is_help=True)
dev = typer.Typer(help="Local development.", no_args_is_help=True)
app.add_typer(dead, name="dead-letters")
app.add_typer(dev, name="dev")
app.command("demo")(demo_command)
app.command("erase")(privacy_cli.erase_command)
app.command("subject-access")(privacy_cli.subject_access_command)
app.add_typer(privacy_cli.retention, name="retention")
app.add_typer(privacy_cli.keys, name="keys")
app.add_typer(privacy_cli.api, name="privacy")
console = Console()

ServiceArg = Annotated[str, typer.Argument(help="recruitment, sessions, attendance or recognition")]


def _runtime(service: str) -> Runtime:
    try:
        definition = load_service(service)
    except LookupError as exc:
        raise typer.BadParameter(str(exc)) from None
    return Runtime(definition, load_settings(service))


@app.command()
def token(
    role: Annotated[list[str], typer.Option("--role", "-r", help=f"one of {', '.join(ROLES)}")],
    sub: Annotated[str, typer.Option(help="user id; a student's or leader's student number")],
    name: Annotated[str | None, typer.Option(help="display name")] = None,
    hours: Annotated[
        float | None,
        typer.Option(
            help="lifetime in hours; at most (and by default) PASSHUB_JWT_MAX_LIFETIME_SECONDS",
            min=0.0,
        ),
    ] = None,
) -> None:
    """Print a bearer token signed with the local key (PASSHUB_JWT_SECRET)."""
    try:
        settings = load_settings()
    except InsecureSecret as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(1) from None
    longest = settings.jwt_max_lifetime_seconds / 3600
    if hours is not None and not hours <= longest:
        raise typer.BadParameter(
            f"a token may last at most {longest:g} hours (PASSHUB_JWT_MAX_LIFETIME_SECONDS)",
            param_hint="--hours",
        )
    ttl = None if hours is None else timedelta(hours=hours)
    try:
        typer.echo(make_token(settings, sub, role, name, ttl))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@app.command()
def services() -> None:
    """List the installed services."""
    for name in installed_services():
        typer.echo(name)


@app.command()
def migrate(service: ServiceArg) -> None:
    """Upgrade a service's database to the newest schema."""
    runtime = _runtime(service)

    async def run() -> None:
        try:
            await runtime.migrate()
        finally:
            await runtime.engine.dispose()

    loop.run(run())
    console.print(f"[green]{service}: schema up to date")


@app.command()
def replay(
    service: ServiceArg,
    check: Annotated[
        bool, typer.Option("--check", help="rebuild, compare with the live tables, roll back")
    ] = False,
    batch_size: Annotated[int, typer.Option(help="events per batch")] = DEFAULT_BATCH_SIZE,
    fold_limit: Annotated[
        int, typer.Option(help="entries a projection may fold in memory before it is written")
    ] = DEFAULT_FOLD_LIMIT,
) -> None:
    """Rebuild a service's projections from its own event log."""
    runtime = _runtime(service)

    async def run() -> None:
        with Progress(
            TextColumn(f"[bold]{service}[/] replay"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("events"),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("replay", total=None)
            try:
                report = await rebuild(
                    runtime.engine,
                    runtime.store,
                    commit=not check,
                    batch_size=batch_size,
                    fold_limit=fold_limit,
                    progress=lambda n: bar.advance(task, n),
                    total=lambda n: bar.update(task, total=n),
                )
            finally:
                await runtime.engine.dispose()
        table = Table("projection table", "before", "after", "same")
        for name in sorted(report.after):
            before, after = report.before.get(name, ""), report.after[name]
            table.add_row(name, before[:18], after[:18], "yes" if before == after else "NO")
        console.print(table)
        console.print(
            f"{report.events} events in {report.seconds:.2f}s ({report.rate:,.0f} events/s); "
            + ("checked, rolled back" if check else "committed")
        )
        console.print(", ".join(f"{name} {s:.2f}s" for name, s in report.phases.items()))
        if check and not report.identical:
            console.print(f"[red]differs: {', '.join(report.differing_tables)}")
            raise typer.Exit(1)

    loop.run(run())


@app.command()
def republish(service: ServiceArg) -> None:
    """Rebuild the service's JetStream stream from its own event log: each of its events once,
    in order per aggregate (a lost, truncated or damaged stream)."""
    from passhub_shared.operations.republish import republish as run_republish

    try:
        load_service(service)  # registers its event types: which are public
    except LookupError as exc:
        raise typer.BadParameter(str(exc)) from None
    settings = load_settings(service)

    async def run() -> None:
        with Progress(
            TextColumn(f"[bold]{service}[/] {{task.description}}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            tasks = {
                phase: bar.add_task(label, total=None)
                for phase, label in (
                    ("stream", "reading the stream"),
                    ("log", "reading the log"),
                    ("publish", "publishing"),
                )
            }

            def progress(phase: str, total: int | None, n: int) -> None:
                if total is not None:
                    bar.reset(tasks[phase], total=total)
                if n:
                    bar.advance(tasks[phase], n)

            report = await run_republish(
                service,
                settings.database_url,
                settings.nats_url,
                replicas=settings.stream_replicas,
                duplicate_window=settings.duplicate_window_seconds,
                progress=progress,
            )
        console.print(
            f"{report.stream}: {report.messages} messages read"
            + (" (the stream was created)" if report.created else "")
            + f", {report.kept} kept, {report.deleted} deleted"
            + (
                f" ({', '.join(f'{n} {why}' for why, n in report.reasons.items())})"
                if report.deleted
                else ""
            )
            + f", {report.foreign} not events of {service} left alone; "
            f"{report.events} events in the log, {report.published} published again; "
            f"{report.outbox_cleared} outbox rows cleared; {report.seconds:.2f}s"
        )
        if report.relay_interrupted:
            console.print(
                f"the running relay was interrupted ({report.relay_interrupted} session); "
                "it resumes from the stream"
            )
        if report.window_shortened:
            console.print("the duplicate window was shortened while publishing, and restored")

    loop.run(run())


@app.command()
def asyncapi(
    service: ServiceArg,
    out: Annotated[Path | None, typer.Option(help="write to this file instead of stdout")] = None,
) -> None:
    """Print the AsyncAPI document of a service's events (CloudEvents on NATS)."""
    import json

    from passhub_shared.messages.asyncapi import document

    try:
        definition = load_service(service)
    except LookupError as exc:
        raise typer.BadParameter(str(exc)) from None
    text = json.dumps(document(definition), indent=2)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n")


@dead.command("list")
def dead_list(service: ServiceArg) -> None:
    """Show parked events with their last error."""
    runtime = _runtime(service)

    async def run() -> None:
        try:
            letters = await list_dead_letters(runtime.engine)
        finally:
            await runtime.engine.dispose()
        if not letters:
            console.print("no dead letters")
            return
        table = Table("event id", "consumer", "type", "deliveries", "parked at", "error")
        for d in letters:
            table.add_row(
                d.event_id,
                d.consumer,
                d.type or d.subject,
                str(d.deliveries),
                d.parked_at.isoformat(timespec="seconds"),
                d.error[:80],
            )
        console.print(table)

    loop.run(run())


@dead.command("retry")
def dead_retry(
    service: ServiceArg,
    event_id: Annotated[str | None, typer.Argument(help="one event id; all when omitted")] = None,
) -> None:
    """Apply parked events again (after fixing their cause); each success is removed."""
    runtime = _runtime(service)

    async def run() -> None:
        try:
            outcomes = await retry_dead_letters(runtime.engine, runtime.applier, event_id)
        finally:
            await runtime.engine.dispose()
        if not outcomes:
            console.print("nothing to retry")
        for o in outcomes:
            console.print(f"{o.event_id}: " + ("[green]applied" if o.ok else f"[red]{o.error}"))
        if any(not o.ok for o in outcomes):
            raise typer.Exit(1)

    loop.run(run())


@dev.command("up")
def dev_up(
    var: Annotated[Path, typer.Option(help="where servers keep their data")] = Path("var"),
    nats_port: int = 14222,
    pg_port: int = 15432,
    http_port: Annotated[int, typer.Option(help="first service port")] = 8001,
    host: Annotated[
        str,
        typer.Option(
            help="address the services listen on; 0.0.0.0 lets phones on the network reach them"
        ),
    ] = "127.0.0.1",
    public_url: Annotated[
        str | None,
        typer.Option(
            help="scheme and host phones and browsers reach the services at, e.g. "
            "http://192.168.1.20: QR codes, feed and verification links use it, with each "
            "service's port (default: --host, or localhost)"
        ),
    ] = None,
    oidc_port: Annotated[int, typer.Option(help="the OIDC provider's port")] = 9400,
    lrs: Annotated[
        bool, typer.Option(help="also a local LRS (Ralph) and the xAPI bridge feeding it")
    ] = False,
    lrs_port: int = 8100,
    cluster: Annotated[
        bool,
        typer.Option(
            "--cluster",
            help="three NATS nodes (--nats-port and the next two) with the streams at R3, and "
            "two replicas of each service (the second on the first's port + 10)",
        ),
    ] = False,
    nats_sync_interval: Annotated[
        str,
        typer.Option(
            help="JetStream's sync_interval on every NATS node: 'always' (flush every write to "
            "disk before acknowledging it) or a duration such as 2m (nats-server's default)"
        ),
    ] = "always",
) -> None:
    """Start NATS, PostgreSQL, the OIDC provider, the four services and the portal on this
    machine, and keep them running (a service that stops is started again); Ctrl-C stops
    all."""
    from passhub_shared.dev.devrun import run_dev

    run_dev(
        var,
        nats_port=nats_port,
        pg_port=pg_port,
        base_http_port=http_port,
        host=host,
        public_url=public_url,
        oidc_port=oidc_port,
        lrs_port=lrs_port if lrs else None,
        cluster=cluster,
        nats_sync_interval=nats_sync_interval,
    )


def _add_service_commands() -> None:
    for ep in entry_points(group="passhub.commands"):
        try:
            app.add_typer(ep.load(), name=ep.name)
        except Exception as exc:  # a broken plug-in must not take the operator tools down
            console.print(f"[yellow]could not load command {ep.name}: {exc}")


def main() -> None:
    _add_service_commands()
    try:
        app()
    except InsecureSecret as exc:  # a command that needs a secret the environment lacks
        console.print(f"[red]error: {exc}")
        raise SystemExit(1) from None
