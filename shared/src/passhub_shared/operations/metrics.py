"""Prometheus metrics, served at `/metrics` by every service."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_APPENDED = Counter("passhub_events_appended_total", "Events appended", ["service"])
EVENTS_PUBLISHED = Counter(
    "passhub_events_published_total", "Events the relay published to JetStream", ["service"]
)
EVENTS_CONSUMED = Counter(
    "passhub_events_consumed_total", "Consumed events recorded and applied", ["service", "origin"]
)
EVENTS_REDELIVERED = Counter(
    "passhub_events_duplicate_total", "Consumed events already recorded (redeliveries)", ["service"]
)
EVENTS_PARKED = Counter(
    "passhub_events_parked_total", "Consumed events parked as dead letters", ["service"]
)
OUTBOX_PENDING = Gauge("passhub_outbox_pending", "Events waiting in the outbox", ["service"])
HTTP_LATENCY = Histogram(
    "passhub_http_request_seconds", "HTTP request latency", ["service", "method", "route", "status"]
)
GROUP_COMMIT_BATCH = Histogram(
    "passhub_group_commit_batch_size",
    "Requests written together in one group-commit transaction",
    ["use_case"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
