"""The write side on PostgreSQL: the event store and its outbox, the kit's tables and
migrations, the kit's fixed statements on asyncpg, deciders and the one command path
(group commit, retry after a conflict, named advisory locks), and the projections kept in
the append's transaction.
"""
