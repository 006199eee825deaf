"""`passhub recognition ...`: operator commands of the recognition service.

The command line is an entrypoint, as the routes are: it opens the transaction and calls the
same use cases (`handlers.py`); registered as the `passhub.commands` entry point `recognition`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from passhub_recognition.domain.awards import RoleTitles
from passhub_recognition.handlers import UnderWay, context, run_summary, start_run
from passhub_recognition.jobs import Jobs
from passhub_recognition.settings import RecognitionSettings
from passhub_recognition.signing import private_pem
from passhub_shared.messages.events import Metadata
from passhub_shared.operations import loop
from passhub_shared.storage import retrying
from passhub_shared.web.errors import Rejected

app = typer.Typer(
    help="Recognition: awards runs and the credential signing key.", no_args_is_help=True
)


@app.command()
def keygen(
    path: Annotated[Path, typer.Argument(help="where to write the PEM file")],
    force: Annotated[bool, typer.Option(help="overwrite an existing file")] = False,
) -> None:
    """Write a new Ed25519 signing key (PEM, readable by its owner only), for
    PASSHUB_RECOGNITION_SIGNING_KEY_PATH."""
    if path.exists() and not force:
        raise typer.BadParameter(f"{path} exists (use --force to replace it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(private_pem(Ed25519PrivateKey.generate()))
    typer.echo(f"wrote {path}")


@app.command()
def run(
    academic_year: Annotated[str, typer.Argument(help="e.g. 2026-27")],
    actor: Annotated[str, typer.Option(help="recorded as who ran it")] = "operator",
) -> None:
    """The end-of-year awards run (as POST /awards/runs), waiting until it is done. A run of
    the year already under way (started from the console, say) is worked to its end with the
    service instead of a second one."""
    from passhub_shared.operations.service import Runtime, load_service
    from passhub_shared.operations.settings import load_settings

    runtime = Runtime(load_service("recognition"), load_settings("recognition"))

    titles = RoleTitles(runtime.settings.leader_title, runtime.settings.organiser_title)
    jobs = Jobs(runtime, titles, RecognitionSettings().run_batch_size)

    async def start() -> str:
        async with runtime.transaction() as conn:
            ctx = context(runtime.store, titles, Metadata(actor=actor))
            try:
                return await start_run(conn, ctx, academic_year)
            except UnderWay as under_way:
                typer.echo(f"an awards run of {academic_year} is under way: waiting for it")
                return under_way.job_id

    async def go() -> None:
        try:
            run_id = await retrying.on_conflict(start)
            summary = run_summary(await jobs.run_to_end(run_id))
        finally:
            await runtime.engine.dispose()
        typer.echo(
            f"{academic_year} (policy version {summary.policy_version}): "
            f"{summary.leaders} leaders, {summary.granted} granted, "
            f"{summary.withheld} withheld, {summary.unchanged} unchanged"
        )

    try:
        loop.run(go())
    except Rejected as exc:
        raise typer.BadParameter(exc.message) from None
