"""`passhub-xapi`: run the bridge, re-send the stream, and look after parked statements."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from datetime import UTC, date, datetime
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from passhub_xapi.bridge import Bridge
from passhub_xapi.settings import BridgeSettings
from passhub_xapi.store import Store

app = typer.Typer(help="passhub attendance → xAPI statements in a Learning Record Store")
parked_app = typer.Typer(help="statements the LRS rejected, kept with the reason")
app.add_typer(parked_app, name="parked")
console = Console()


def _settings() -> BridgeSettings:
    try:
        return BridgeSettings()
    except ValidationError as error:
        console.print(f"[red]settings incomplete:[/red]\n{error}")
        raise typer.Exit(2) from None


@app.command()
def run() -> None:
    """Follow the attendance stream and post each attendance to the LRS (until stopped)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = _settings()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        bridge = Bridge(settings)
        try:
            await bridge.run(stop)
        finally:
            await bridge.close()

    asyncio.run(main())


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        try:
            moment = datetime.combine(date.fromisoformat(value), datetime.min.time())
        except ValueError:
            raise typer.BadParameter(f"{value!r} is not a date (2026-10-01) or time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command()
def resend(
    since: Annotated[
        str | None, typer.Option(help="only events published from this date or time (UTC)")
    ] = None,
    scheme: Annotated[str | None, typer.Option(help="only this scheme, e.g. 2026-27-PHYS")] = None,
) -> None:
    """Post again the statements of the attendance stream: from the start, since a date, or
    of one scheme. The LRS keeps one statement per id, so nothing is doubled."""
    logging.basicConfig(level=logging.WARNING)
    settings = _settings()
    start = _since(since)

    async def main() -> None:
        bridge = Bridge(settings)
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("events", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            try:
                totals = await bridge.resend(start, scheme, progress)
            finally:
                await bridge.close()
        console.print(
            f"{totals.events} events, {totals.statements} statements posted"
            f" ({totals.conflicts} the LRS held differently), {totals.parked} parked"
        )

    asyncio.run(main())


@parked_app.command("list")
def parked_list(
    as_json: Annotated[bool, typer.Option("--json", help="as JSON lines")] = False,
) -> None:
    """Statements the LRS rejected (or the bridge could not map), oldest first."""
    store = Store(_settings().store_path)
    rows = store.parked()
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row.__dict__))
        return
    table = Table("statement id", "event", "parked at", "tries", "HTTP", "reason")
    for row in rows:
        table.add_row(
            row.statement_id,
            str(row.event.get("type", "")).removeprefix("passhub.attendance."),
            row.parked_at,
            str(row.attempts),
            "" if row.status is None else str(row.status),
            row.reason[:200],
        )
    console.print(table)
    console.print(f"{len(rows)} parked")


@parked_app.command("retry")
def parked_retry(
    statement_id: Annotated[
        str | None, typer.Argument(help="one statement; all if omitted")
    ] = None,
) -> None:
    """Map and post parked statements again; those the LRS accepts leave the list."""
    settings = _settings()

    async def main() -> tuple[int, int]:
        bridge = Bridge(settings)
        try:
            return await bridge.retry_parked(statement_id)
        finally:
            await bridge.close()

    delivered, still = asyncio.run(main())
    console.print(f"{delivered} delivered, {still} still parked")
    if still:
        raise typer.Exit(1)


def main() -> None:
    app()
