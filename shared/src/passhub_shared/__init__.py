"""passhub's shared kit: everything the four services have in common, and no service's rules.

Grouped by concern: what is said, where a command arrives, where it is decided and stored,
how it travels to the other services; then personal data, running a service, developing.

- `contracts`: the published event contracts, the interface between services.
- `messages`: what services say: events, envelope, AsyncAPI.
- `web`: the HTTP side every service shares.
- `storage`: the write side on PostgreSQL, and the one command path.
- `messaging`: events between services on JetStream.
- `personaldata`: sealed personal fields, erasure, subject access, retention.
- `operations`: running a service: runtime, settings, logs, CLI, replay.
- `dev`: development only: local servers, `make run`, `make demo`.
"""
