"""The coordinators' console: the pages PASS staff use to run the year. One router gathers
each area's own (`frame.NAV` lists the areas, `frame.console` is the role gate every page
passes)."""

from fastapi import APIRouter

from passhub_portal.console import (
    attendance,
    evaluation,
    home,
    recognition,
    recruitment,
    sessions,
)

router = APIRouter()
router.include_router(home.router)
router.include_router(recruitment.router)
router.include_router(recognition.router)
router.include_router(sessions.router)
router.include_router(attendance.router)
router.include_router(evaluation.router)
