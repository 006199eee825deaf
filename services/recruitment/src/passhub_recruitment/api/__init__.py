"""HTTP entry points (thin: parse, authorise, open the transaction, call a handler or a query)."""

from passhub_recruitment.api import applications, campaigns, leaders, records, training

ROUTERS = [
    campaigns.router,
    records.router,
    applications.router,
    training.router,
    leaders.router,
]
