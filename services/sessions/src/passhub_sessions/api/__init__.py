"""HTTP entry points (thin: parse, authorise, call a handler or a query): one router, with one
`include_router` per area."""

from fastapi import APIRouter

from passhub_sessions.api import availability, feeds, rota, schemes, sessions, swaps

router = APIRouter()
router.include_router(schemes.router)
router.include_router(sessions.router)
router.include_router(rota.router)
router.include_router(availability.router)
router.include_router(feeds.router)
router.include_router(swaps.router)

ROUTERS = [router]
