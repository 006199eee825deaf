"""HTTP entry points (thin: parse, authorise, open the transaction, call a handler or a query).

The reads (`queries.py`) answer in the response models of `api/schemas.py`, so importing them
imports this package: the areas, which import the use cases and the reads, are imported when
the routers are asked for, not with the package."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    """The router of each area, in the order the API document lists them."""
    from passhub_recruitment.api import applications, campaigns, leaders, records, training

    return [
        campaigns.router,
        records.router,
        applications.router,
        training.router,
        leaders.router,
    ]
