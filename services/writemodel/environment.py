"""The eventsourcing environment of the write model, from Salesledger settings."""

from __future__ import annotations

from services.db import eventsourcing_env, parse_database_url, prepare_database
from services.settings import Settings
from services.writemodel.application import HEAD_CACHE_SIZE


def write_model_env(settings: Settings) -> dict[str, str]:
    """SQLite (WAL) or PostgreSQL by `database_url`; the database is prepared (folder or schema).

    The writer keeps its own cache of ledger heads (`services.writemodel.heads`), trusted only by
    this process: a stale head makes the save collide and the batch is redone with fresh ones. The
    library's aggregate cache stays off, so a ledger read back on a miss is not kept twice.

    On PostgreSQL the writer does not pre-ping pooled connections: the ping is a round trip before
    every query (half the writer's time on a batch of new leads, docs/performance.md), and the
    library's recorders already retry a query that fails on a dropped connection (`retry` on
    `OperationalError`/`InterfaceError`, with a fresh connection); a store that stays down is
    retried by `Recorder.append_until_stored`.
    """
    config = parse_database_url(settings.database_url)
    prepare_database(config)
    extra = {HEAD_CACHE_SIZE: str(settings.aggregate_cache_size), "POSTGRES_PRE_PING": "n"}
    return eventsourcing_env(config, extra)
