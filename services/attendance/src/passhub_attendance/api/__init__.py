"""HTTP entry points (thin: parse, authorise, open the transaction, call a handler or a query).
The evaluation and the annual report have their own (`evaluation/api.py`, `annual/api.py`)."""

from passhub_attendance.api import (
    audit,
    engagement,
    exports,
    feedback,
    headcounts,
    histories,
    imports,
    sessions,
    sheets,
    sign_ins,
)

ROUTERS = [
    sign_ins.router,
    imports.router,
    feedback.router,
    sessions.router,
    audit.router,
    histories.router,
    exports.router,
    headcounts.router,
    engagement.router,
    sheets.router,
]
