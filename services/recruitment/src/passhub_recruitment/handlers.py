"""Use cases: each reads what its decision needs, runs the decider and appends the result,
inside the caller's transaction (so a refused command writes nothing). The route, or the command
line, opens the transaction and runs it again on a `ConcurrencyConflict`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_recruitment import queries
from passhub_recruitment.domain import records_csv
from passhub_recruitment.domain.application import (
    Application,
    ApplicationCommand,
    Appoint,
    AssessorOutcome,
    Reassess,
    RecordOutcomes,
    RejectApplication,
    StandDown,
    SubmitApplication,
    WithdrawApplication,
    application_decider,
)
from passhub_recruitment.domain.campaign import (
    AmendCampaign,
    Campaign,
    CloseCampaign,
    OpenCampaign,
    campaign_decider,
)
from passhub_recruitment.domain.events import StudentRecordRow, StudentRecordsImported
from passhub_recruitment.domain.identifiers import (
    RECORDS_STREAM,
    application_id_for,
    application_stream,
    campaign_stream,
    training_stream,
)
from passhub_recruitment.domain.records import import_events, record_from_row
from passhub_recruitment.domain.training import (
    Completion,
    RecordCompletions,
    RecordTrainingSession,
    training_decider,
)
from passhub_recruitment.settings import RecruitmentSettings
from passhub_shared.contracts.recruitment import Criterion, Role
from passhub_shared.messages.events import Metadata, new_event_id
from passhub_shared.storage.decider import Authorise, Decider, Handled, handle
from passhub_shared.storage.store import EventStore
from passhub_shared.web.errors import NotFound, Rejected
from passhub_shared.web.offload import off_loop

C = TypeVar("C")
S = TypeVar("S")


@dataclass(frozen=True)
class Context:
    """What every use case is given besides its connection: where to append, the service's
    settings, the time of the request and on whose behalf it runs."""

    store: EventStore
    settings: RecruitmentSettings
    now: datetime
    metadata: Metadata

    @property
    def today(self) -> date:
        """The institution's date (closing dates, default appointment dates)."""
        return self.now.astimezone(ZoneInfo(self.settings.timezone)).date()


async def load_campaign(conn: AsyncConnection, store: EventStore, campaign_id: str) -> Campaign:
    history = await store.load(conn, campaign_stream(campaign_id))
    campaign = campaign_decider.fold(r.decode() for r in history)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id!r}")
    return campaign


async def load_application(
    conn: AsyncConnection, store: EventStore, application_id: str
) -> Application:
    history = await store.load(conn, application_stream(application_id))
    state = application_decider.fold(r.decode() for r in history)
    if state.status == "new":
        raise NotFound(f"no application {application_id!r}")
    return state


async def _handle(
    conn: AsyncConnection,
    ctx: Context,
    decider: Decider[C, S],
    stream_id: str,
    command: C,
    *,
    authorise: Authorise | None = None,
) -> Handled[S]:
    """Run one command on its stream, on behalf of the context's caller (`authorise`: the
    caller's scope, checked once the stream is loaded)."""
    return await handle(
        conn, ctx.store, decider, stream_id, command, ctx.metadata, authorise=authorise
    )


# -- campaigns ------------------------------------------------------------------------------


async def open_campaign(conn: AsyncConnection, ctx: Context, command: OpenCampaign) -> str:
    await _handle(conn, ctx, campaign_decider, campaign_stream(command.academic_year), command)
    return command.academic_year


async def close_campaign(conn: AsyncConnection, ctx: Context, campaign_id: str) -> None:
    await _handle(
        conn, ctx, campaign_decider, campaign_stream(campaign_id), CloseCampaign(today=ctx.today)
    )


async def amend_campaign(
    conn: AsyncConnection,
    ctx: Context,
    campaign_id: str,
    *,
    participating_schools: Sequence[str] | None,
    criteria: Sequence[Criterion] | None,
    min_exam_mark: Decimal | None,
    core_training_hours: Decimal | None,
    closes_on: date | None,
    no_closing_date: bool,
) -> None:
    await _handle(
        conn,
        ctx,
        campaign_decider,
        campaign_stream(campaign_id),
        AmendCampaign(
            today=ctx.today,
            applications=await queries.application_count(conn, campaign_id),
            participating_schools=participating_schools,
            criteria=criteria,
            min_exam_mark=min_exam_mark,
            core_training_hours=core_training_hours,
            closes_on=closes_on,
            no_closing_date=no_closing_date,
        ),
    )


# -- student records ------------------------------------------------------------------------


#: events appended per statement by an import (each holds `import_chunk_rows` records)
APPEND_EVENTS = 4


@dataclass
class RecordsRead:
    """A student-records file read and checked, as the events its import appends."""

    import_id: str
    parsed: records_csv.Parsed
    events: list[StudentRecordsImported]
    by_number: dict[str, StudentRecordRow]


@dataclass(frozen=True)
class Imported:
    import_id: str
    rows: int
    ignored_columns: list[str]
    reassessed: list[str]


async def read_records(raw: bytes, source: str, settings: RecruitmentSettings) -> RecordsRead:
    """Parse the whole file (any bad row refuses it all, `CsvRejected`) on a worker thread
    (`passhub_shared.web.offload`): the service goes on answering meanwhile. No I/O but the
    file's: call it before the transaction."""
    if len(raw) > settings.max_import_bytes:
        raise records_csv.CsvRejected(
            [records_csv.LineError(1, f"the file is larger than {settings.max_import_bytes} bytes")]
        )
    import_id = str(new_event_id())

    def read() -> RecordsRead:
        parsed = records_csv.parse(raw, max_rows=settings.max_import_rows)
        return RecordsRead(
            import_id,
            parsed,
            import_events(import_id, source, parsed.rows, settings.import_chunk_rows),
            {r.student_number: r for r in parsed.rows},
        )

    return await off_loop(read)


async def import_records(conn: AsyncConnection, ctx: Context, read: RecordsRead) -> Imported:
    """Append the import read by `read_records`, then re-run the automatic checks of the open
    applications of the students imported. The import is written a few events at a time (as
    large appends): each part takes the event loop for tens of milliseconds, and other requests
    are answered in between."""
    version = await ctx.store.version(conn, RECORDS_STREAM)
    for start in range(0, len(read.events), APPEND_EVENTS):
        part = read.events[start : start + APPEND_EVENTS]
        await ctx.store.append(
            conn, RECORDS_STREAM, version + start, part, ctx.metadata, large=True
        )
    reassessed: list[str] = []
    campaigns: dict[str, Campaign] = {}
    for application_id, campaign_id, student_number in await queries.open_applications(conn):
        row = read.by_number.get(student_number)
        if row is None:
            continue
        if campaign_id not in campaigns:
            campaigns[campaign_id] = await load_campaign(conn, ctx.store, campaign_id)
        decided = await _handle(
            conn,
            ctx,
            application_decider,
            application_stream(application_id),
            Reassess(campaign=campaigns[campaign_id], record=record_from_row(row, read.import_id)),
        )
        if decided:
            reassessed.append(application_id)
    return Imported(
        import_id=read.import_id,
        rows=len(read.parsed.rows),
        ignored_columns=read.parsed.ignored_columns,
        reassessed=reassessed,
    )


# -- applications ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationForm:
    name: str
    email: str
    school: str
    programme: str = ""
    level: str = ""
    year_of_study: int | None = None
    exam_marks: dict[int, Decimal] | None = None
    role_sought: Role = "leader"
    preferred_schemes: Sequence[str] = ()
    statement: str = ""


async def submit_application(
    conn: AsyncConnection,
    ctx: Context,
    campaign_id: str,
    student_number: str,
    form: ApplicationForm,
) -> str:
    # named by the applicant's pseudonym (their key id), never their student number: an
    # application id is published and shown, and is not sealed
    application_id = application_id_for(
        campaign_id, await ctx.store.pseudonym(conn, student_number)
    )
    campaign = await load_campaign(conn, ctx.store, campaign_id)
    record = await queries.student_record(conn, student_number)
    command = SubmitApplication(
        application_id=application_id,
        campaign=campaign,
        student_number=student_number,
        name=form.name,
        email=form.email,
        school=form.school,
        today=ctx.today,
        record=record,
        programme=form.programme,
        level=form.level,
        year_of_study=form.year_of_study,
        exam_marks=form.exam_marks or {},
        role_sought=form.role_sought,
        preferred_schemes=form.preferred_schemes,
        statement=form.statement,
    )
    await _decide(conn, ctx, application_id, command)
    return application_id


async def _decide(
    conn: AsyncConnection, ctx: Context, application_id: str, command: ApplicationCommand
) -> bool:
    """Run one command on an application's stream; whether it decided anything."""
    decided = await _handle(
        conn, ctx, application_decider, application_stream(application_id), command
    )
    return bool(decided)


async def withdraw(
    conn: AsyncConnection, ctx: Context, application_id: str, own_only: str | None
) -> None:
    """`own_only`: the student number the caller is limited to (a student or leader acts on
    their own application only; another's is not found), None for a coordinator."""
    owner = None if own_only is None else await queries.application_owner(conn, application_id)

    def authorise() -> None:
        if own_only is not None and owner != own_only:
            raise NotFound(f"no application {application_id!r}")

    await _handle(
        conn,
        ctx,
        application_decider,
        application_stream(application_id),
        WithdrawApplication(),
        authorise=authorise,
    )


async def _campaign_of(conn: AsyncConnection, store: EventStore, application_id: str) -> Campaign:
    state = await load_application(conn, store, application_id)
    return await load_campaign(conn, store, state.campaign_id)


async def record_outcomes(
    conn: AsyncConnection,
    ctx: Context,
    application_id: str,
    assessor: str,
    outcomes: Sequence[AssessorOutcome],
) -> None:
    campaign = await _campaign_of(conn, ctx.store, application_id)
    await _decide(
        conn,
        ctx,
        application_id,
        RecordOutcomes(campaign=campaign, assessor=assessor, outcomes=outcomes, at=ctx.now),
    )


@dataclass(frozen=True)
class BulkOutcome:
    application_id: str
    met: bool
    note: str


async def record_criterion(
    conn: AsyncConnection,
    ctx: Context,
    campaign_id: str,
    code: str,
    assessor: str,
    outcomes: Sequence[BulkOutcome],
) -> None:
    """One criterion (the training day, the presentation) recorded for many applicants of a
    campaign at once: one refused outcome refuses them all (the caller's transaction rolls
    back), naming the applicant."""
    seen: set[str] = set()
    campaign = await load_campaign(conn, ctx.store, campaign_id)
    if code not in {c.code for c in campaign.criteria}:
        raise Rejected(
            f"the campaign's person specification has no criterion {code!r}",
            code="unknown_criterion",
        )
    for outcome in outcomes:
        if outcome.application_id in seen:
            raise Rejected(f"application {outcome.application_id} is listed twice", code="repeated")
        seen.add(outcome.application_id)
        state = await load_application(conn, ctx.store, outcome.application_id)
        if state.campaign_id != campaign_id:
            raise NotFound(f"no application {outcome.application_id!r} in {campaign_id}")
        try:
            await _decide(
                conn,
                ctx,
                outcome.application_id,
                RecordOutcomes(
                    campaign=campaign,
                    assessor=assessor,
                    outcomes=[AssessorOutcome(code=code, met=outcome.met, note=outcome.note)],
                    at=ctx.now,
                ),
            )
        except Rejected as refused:
            named = Rejected(
                f"{state.name or outcome.application_id}: {refused.message}; nothing was recorded",
                code=refused.code,
            )
            named.status_code = refused.status_code
            raise named from None


async def reassess(conn: AsyncConnection, ctx: Context, application_id: str) -> bool:
    state = await load_application(conn, ctx.store, application_id)
    campaign = await load_campaign(conn, ctx.store, state.campaign_id)
    record = await queries.student_record(conn, state.student_number)
    return await _decide(conn, ctx, application_id, Reassess(campaign=campaign, record=record))


async def reject(
    conn: AsyncConnection, ctx: Context, application_id: str, reasons: Sequence[str]
) -> None:
    await load_application(conn, ctx.store, application_id)
    await _decide(conn, ctx, application_id, RejectApplication(reasons=reasons))


async def appoint(
    conn: AsyncConnection,
    ctx: Context,
    application_id: str,
    role: Role,
    schemes: Sequence[str],
    appointed_on: date,
) -> None:
    state = await load_application(conn, ctx.store, application_id)
    campaign = await load_campaign(conn, ctx.store, state.campaign_id)
    hours = await queries.core_training_hours(conn, state.student_number, campaign.academic_year)
    launched = await queries.launched_schemes(conn, schemes)
    await _decide(
        conn,
        ctx,
        application_id,
        Appoint(
            campaign=campaign,
            role=role,
            schemes=schemes,
            appointed_on=appointed_on,
            core_training_hours=hours,
            launched=launched,
        ),
    )


async def stand_down(
    conn: AsyncConnection,
    ctx: Context,
    application_id: str,
    schemes: Sequence[str],
    effective_from: date,
    reason: str,
) -> None:
    await load_application(conn, ctx.store, application_id)
    await _decide(
        conn,
        ctx,
        application_id,
        StandDown(effective_from=effective_from, reason=reason, schemes=schemes),
    )


# -- training -------------------------------------------------------------------------------


async def record_training_session(
    conn: AsyncConnection, ctx: Context, command: RecordTrainingSession
) -> str:
    await _handle(conn, ctx, training_decider, training_stream(command.training_id), command)
    return command.training_id


async def record_completions(
    conn: AsyncConnection, ctx: Context, training_id: str, completions: Sequence[Completion]
) -> int:
    decided = await _handle(
        conn,
        ctx,
        training_decider,
        training_stream(training_id),
        RecordCompletions(completions=completions),
    )
    return len(decided)
