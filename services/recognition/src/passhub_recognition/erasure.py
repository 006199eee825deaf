"""Recognition's step of an erasure: the person's standing awards are withdrawn first, so that
their verification codes answer "withdrawn" (a certificate must not stand for someone passhub
no longer knows), and a later awards run does not grant them again."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_recognition import tables
from passhub_recognition.domain.awards import WithdrawAward
from passhub_recognition.handlers import decide_for_leader
from passhub_shared.events import Metadata
from passhub_shared.service import Runtime

#: the withdrawal reason, which is all a verification of the code then says
ERASED = "personal data erased"


async def withdraw_awards(conn: AsyncConnection, runtime: Runtime, people: Sequence[str]) -> None:
    t = tables.awards
    rows = await conn.execute(
        select(t.c.award_id, t.c.academic_year, t.c.student_number)
        .where(t.c.student_number.in_(list(people)), t.c.status != "withdrawn")
        .order_by(t.c.academic_year, t.c.award_id)
    )
    for award_id, year, student in rows.all():
        await decide_for_leader(
            conn,
            runtime.store,
            year,
            student,
            WithdrawAward(year, student, award_id, ERASED),
            Metadata(),
        )
