"""Alembic environment shared by every service.

Each service's database has the kit's tables (branch `kit`, in `migrations/versions` here) and
the service's own tables (its package's `migrations/versions`, whose first revision depends on
`kit_0001`). `migrate()` upgrades both to `heads`, under an advisory lock so replicas starting
together do not race.
"""
