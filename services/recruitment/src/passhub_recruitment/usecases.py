"""The service layer: each use case reads what its decision needs, runs the decider and
appends the result, in one transaction (so a refused command writes nothing)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_recruitment import queries, records_csv
from passhub_recruitment.domain.application import (
    Application,
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
from passhub_recruitment.domain.identifiers import (
    RECORDS_STREAM,
    application_id_for,
    application_stream,
    campaign_stream,
    training_stream,
)
from passhub_recruitment.domain.internal_events import StudentRecordRow, StudentRecordsImported
from passhub_recruitment.domain.records import import_events, record_from_row
from passhub_recruitment.domain.training import (
    Completion,
    RecordCompletions,
    RecordTrainingSession,
    training_decider,
)
from passhub_recruitment.settings import RecruitmentSettings
from passhub_recruitment.views import ImportResult
from passhub_shared.contracts.recruitment import Criterion, Role
from passhub_shared.decider import handle
from passhub_shared.errors import Forbidden, NotFound, Rejected
from passhub_shared.events import Metadata, new_event_id, utcnow
from passhub_shared.offload import collector_paused, off_loop, release
from passhub_shared.service import Runtime
from passhub_shared.store import EventStore


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


# -- campaigns ------------------------------------------------------------------------------


async def open_campaign(
    runtime: Runtime,
    *,
    academic_year: str,
    leader_title: str,
    organiser_title: str,
    participating_schools: Sequence[str],
    criteria: Sequence[Criterion],
    min_exam_mark: Decimal,
    core_training_hours: Decimal,
    closes_on: date | None,
    today: date,
    metadata: Metadata,
) -> str:
    command = OpenCampaign(
        academic_year=academic_year,
        leader_title=leader_title,
        organiser_title=organiser_title,
        participating_schools=participating_schools,
        criteria=criteria,
        min_exam_mark=min_exam_mark,
        core_training_hours=core_training_hours,
        today=today,
        closes_on=closes_on,
    )
    async with runtime.transaction() as conn:
        await handle(
            conn, runtime.store, campaign_decider, campaign_stream(academic_year), command, metadata
        )
    return academic_year


async def close_campaign(
    runtime: Runtime, campaign_id: str, today: date, metadata: Metadata
) -> None:
    async with runtime.transaction() as conn:
        await handle(
            conn,
            runtime.store,
            campaign_decider,
            campaign_stream(campaign_id),
            CloseCampaign(today=today),
            metadata,
        )


async def amend_campaign(
    runtime: Runtime,
    campaign_id: str,
    *,
    participating_schools: Sequence[str] | None,
    criteria: Sequence[Criterion] | None,
    min_exam_mark: Decimal | None,
    core_training_hours: Decimal | None,
    closes_on: date | None,
    no_closing_date: bool,
    today: date,
    metadata: Metadata,
) -> None:
    async with runtime.transaction() as conn:
        await handle(
            conn,
            runtime.store,
            campaign_decider,
            campaign_stream(campaign_id),
            AmendCampaign(
                today=today,
                applications=await queries.application_count(conn, campaign_id),
                participating_schools=participating_schools,
                criteria=criteria,
                min_exam_mark=min_exam_mark,
                core_training_hours=core_training_hours,
                closes_on=closes_on,
                no_closing_date=no_closing_date,
            ),
            metadata,
        )


# -- student records ------------------------------------------------------------------------


#: events appended per statement by an import (each holds `import_chunk_rows` records)
APPEND_EVENTS = 4


async def import_records(
    runtime: Runtime,
    raw: bytes,
    source: str,
    settings: RecruitmentSettings,
    metadata: Metadata,
) -> ImportResult:
    """Parse the whole file first (any bad row refuses it all), append the import, then
    re-run the automatic checks of the open applications of the students imported. The file
    is read on a worker thread and written a few events at a time (`passhub_shared.offload`):
    the service goes on answering meanwhile."""
    with collector_paused():
        return await _import_records(runtime, raw, source, settings, metadata)


async def _import_records(
    runtime: Runtime,
    raw: bytes,
    source: str,
    settings: RecruitmentSettings,
    metadata: Metadata,
) -> ImportResult:
    if len(raw) > settings.max_import_bytes:
        raise records_csv.CsvRejected(
            [records_csv.LineError(1, f"the file is larger than {settings.max_import_bytes} bytes")]
        )
    import_id = str(new_event_id())

    def read() -> _Read:
        parsed = records_csv.parse(raw, max_rows=settings.max_import_rows)
        return _Read(
            parsed,
            import_events(import_id, source, parsed.rows, settings.import_chunk_rows),
            {r.student_number: r for r in parsed.rows},
        )

    # the only reference to what was read, so that `release` frees it off the event loop
    box = [await off_loop(read)]
    reassessed: list[str] = []
    async with runtime.transaction() as conn:
        version = await runtime.store.version(conn, RECORDS_STREAM)
        # a few events per statement: writing each part (and projecting it) takes the event
        # loop for tens of milliseconds, and other requests are answered in between
        for start in range(0, len(box[0].events), APPEND_EVENTS):
            part = box[0].events[start : start + APPEND_EVENTS]
            await runtime.store.append(
                conn, RECORDS_STREAM, version + start, part, metadata, large=True
            )
        campaigns: dict[str, Campaign] = {}
        for application_id, campaign_id, student_number in await queries.open_applications(conn):
            row = box[0].by_number.get(student_number)
            if row is None:
                continue
            if campaign_id not in campaigns:
                campaigns[campaign_id] = await load_campaign(conn, runtime.store, campaign_id)
            decided = await handle(
                conn,
                runtime.store,
                application_decider,
                application_stream(application_id),
                Reassess(campaign=campaigns[campaign_id], record=record_from_row(row, import_id)),
                metadata,
            )
            if decided:
                reassessed.append(application_id)
    result = ImportResult(
        import_id=import_id,
        rows=len(box[0].parsed.rows),
        ignored_columns=box[0].parsed.ignored_columns,
        reassessed=reassessed,
    )
    await release(box)
    return result


@dataclass
class _Read:
    parsed: records_csv.Parsed
    events: list[StudentRecordsImported]
    by_number: dict[str, StudentRecordRow]


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
    runtime: Runtime,
    campaign_id: str,
    student_number: str,
    form: ApplicationForm,
    today: date,
    metadata: Metadata,
) -> str:
    async with runtime.transaction() as conn:
        # named by the applicant's pseudonym (their key id), never their student number: an
        # application id is published and shown, and is not sealed
        application_id = application_id_for(
            campaign_id, await runtime.store.pseudonym(conn, student_number)
        )
        campaign = await load_campaign(conn, runtime.store, campaign_id)
        record = await queries.student_record(conn, student_number)
        command = SubmitApplication(
            application_id=application_id,
            campaign=campaign,
            student_number=student_number,
            name=form.name,
            email=form.email,
            school=form.school,
            today=today,
            record=record,
            programme=form.programme,
            level=form.level,
            year_of_study=form.year_of_study,
            exam_marks=form.exam_marks or {},
            role_sought=form.role_sought,
            preferred_schemes=form.preferred_schemes,
            statement=form.statement,
        )
        await handle(
            conn,
            runtime.store,
            application_decider,
            application_stream(application_id),
            command,
            metadata,
        )
    return application_id


async def check_owner(conn: AsyncConnection, application_id: str, student_number: str) -> None:
    """A student may act on and see only their own application (others are 'not found')."""
    owner = await queries.application_owner(conn, application_id)
    if owner is None or owner != student_number:
        raise NotFound(f"no application {application_id!r}")


async def withdraw(
    runtime: Runtime, application_id: str, own_only: str | None, metadata: Metadata
) -> None:
    async with runtime.transaction() as conn:
        if own_only is not None:
            await check_owner(conn, application_id, own_only)
        await handle(
            conn,
            runtime.store,
            application_decider,
            application_stream(application_id),
            WithdrawApplication(),
            metadata,
        )


async def _campaign_of(conn: AsyncConnection, store: EventStore, application_id: str) -> Campaign:
    state = await load_application(conn, store, application_id)
    return await load_campaign(conn, store, state.campaign_id)


async def record_outcomes(
    runtime: Runtime,
    application_id: str,
    assessor: str,
    outcomes: Sequence[AssessorOutcome],
    metadata: Metadata,
) -> None:
    async with runtime.transaction() as conn:
        campaign = await _campaign_of(conn, runtime.store, application_id)
        await handle(
            conn,
            runtime.store,
            application_decider,
            application_stream(application_id),
            RecordOutcomes(campaign=campaign, assessor=assessor, outcomes=outcomes, at=utcnow()),
            metadata,
        )


@dataclass(frozen=True)
class BulkOutcome:
    application_id: str
    met: bool
    note: str


async def record_criterion(
    runtime: Runtime,
    campaign_id: str,
    code: str,
    assessor: str,
    outcomes: Sequence[BulkOutcome],
    metadata: Metadata,
) -> None:
    """One criterion (the training day, the presentation) recorded for many applicants of a
    campaign at once, in one transaction: one refused outcome refuses them all, naming the
    applicant."""
    seen: set[str] = set()
    async with runtime.transaction() as conn:
        campaign = await load_campaign(conn, runtime.store, campaign_id)
        if code not in {c.code for c in campaign.criteria}:
            raise Rejected(
                f"the campaign's person specification has no criterion {code!r}",
                code="unknown_criterion",
            )
        at = utcnow()
        for outcome in outcomes:
            if outcome.application_id in seen:
                raise Rejected(
                    f"application {outcome.application_id} is listed twice", code="repeated"
                )
            seen.add(outcome.application_id)
            state = await load_application(conn, runtime.store, outcome.application_id)
            if state.campaign_id != campaign_id:
                raise NotFound(f"no application {outcome.application_id!r} in {campaign_id}")
            try:
                await handle(
                    conn,
                    runtime.store,
                    application_decider,
                    application_stream(outcome.application_id),
                    RecordOutcomes(
                        campaign=campaign,
                        assessor=assessor,
                        outcomes=[AssessorOutcome(code=code, met=outcome.met, note=outcome.note)],
                        at=at,
                    ),
                    metadata,
                )
            except Rejected as refused:
                named = Rejected(
                    f"{state.name or outcome.application_id}: {refused.message}; nothing was "
                    "recorded",
                    code=refused.code,
                )
                named.status_code = refused.status_code
                raise named from None


async def reassess(runtime: Runtime, application_id: str, metadata: Metadata) -> bool:
    async with runtime.transaction() as conn:
        state = await load_application(conn, runtime.store, application_id)
        campaign = await load_campaign(conn, runtime.store, state.campaign_id)
        record = await queries.student_record(conn, state.student_number)
        decided = await handle(
            conn,
            runtime.store,
            application_decider,
            application_stream(application_id),
            Reassess(campaign=campaign, record=record),
            metadata,
        )
    return bool(decided)


async def reject(
    runtime: Runtime, application_id: str, reasons: Sequence[str], metadata: Metadata
) -> None:
    async with runtime.transaction() as conn:
        await load_application(conn, runtime.store, application_id)
        await handle(
            conn,
            runtime.store,
            application_decider,
            application_stream(application_id),
            RejectApplication(reasons=reasons),
            metadata,
        )


async def appoint(
    runtime: Runtime,
    application_id: str,
    role: Role,
    schemes: Sequence[str],
    appointed_on: date,
    metadata: Metadata,
) -> None:
    async with runtime.transaction() as conn:
        state = await load_application(conn, runtime.store, application_id)
        campaign = await load_campaign(conn, runtime.store, state.campaign_id)
        hours = await queries.core_training_hours(
            conn, state.student_number, campaign.academic_year
        )
        launched = await queries.launched_schemes(conn, schemes)
        await handle(
            conn,
            runtime.store,
            application_decider,
            application_stream(application_id),
            Appoint(
                campaign=campaign,
                role=role,
                schemes=schemes,
                appointed_on=appointed_on,
                core_training_hours=hours,
                launched=launched,
            ),
            metadata,
        )


async def stand_down(
    runtime: Runtime,
    application_id: str,
    schemes: Sequence[str],
    effective_from: date,
    reason: str,
    metadata: Metadata,
) -> None:
    async with runtime.transaction() as conn:
        await load_application(conn, runtime.store, application_id)
        await handle(
            conn,
            runtime.store,
            application_decider,
            application_stream(application_id),
            StandDown(effective_from=effective_from, reason=reason, schemes=schemes),
            metadata,
        )


# -- training -------------------------------------------------------------------------------


async def record_training_session(
    runtime: Runtime, command: RecordTrainingSession, metadata: Metadata
) -> str:
    async with runtime.transaction() as conn:
        await handle(
            conn,
            runtime.store,
            training_decider,
            training_stream(command.training_id),
            command,
            metadata,
        )
    return command.training_id


async def record_completions(
    runtime: Runtime, training_id: str, completions: Sequence[Completion], metadata: Metadata
) -> int:
    async with runtime.transaction() as conn:
        decided = await handle(
            conn,
            runtime.store,
            training_decider,
            training_stream(training_id),
            RecordCompletions(completions=completions),
            metadata,
        )
    return len(decided)


def require_self(student_number: str, sub: str) -> None:
    if student_number != sub:
        raise Forbidden("students apply only as themselves (student number = your login)")
