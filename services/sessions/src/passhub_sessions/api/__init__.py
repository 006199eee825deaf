"""HTTP entry points (thin: parse, authorise, call a handler or a query)."""

from passhub_sessions.api import availability, feeds, rota, schemes, sessions, swaps

ROUTERS = [
    schemes.router,
    sessions.router,
    rota.router,
    availability.router,
    feeds.router,
    swaps.router,
]
