"""passhub's shared kit: everything the four services have in common, and no service's rules.

- `events`, `envelope`, `contracts`: typed events, the CloudEvents envelope, published contracts.
- `store`: the PostgreSQL event store, outbox and dead-letter tables.
- `projections`, `replay`: read models updated in the append transaction, and rebuilt from the log.
- `relay`: outbox -> JetStream publisher.
- `subscriptions`: durable JetStream consumers that record and apply other services' events.
- `service`, `app`: how a service declares itself and becomes a FastAPI application.
- `auth`, `settings`, `logs`, `metrics`: cross-cutting plumbing.
"""
