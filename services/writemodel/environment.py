"""The eventsourcing environment of the write model, from Salesledger settings."""

from __future__ import annotations

from services.db import eventsourcing_env, parse_database_url, prepare_database
from services.settings import Settings


def write_model_env(settings: Settings) -> dict[str, str]:
    """SQLite (WAL) or PostgreSQL by `database_url`; the database is prepared (folder or schema).

    The aggregate cache is trusted only by this process's writer, so it does not fast-forward: a
    stale copy makes the save collide and the batch is redone with fresh aggregates.
    """
    config = parse_database_url(settings.database_url)
    prepare_database(config)
    return eventsourcing_env(
        config,
        {
            "AGGREGATE_CACHE_MAXSIZE": str(settings.aggregate_cache_size),
            "AGGREGATE_CACHE_FASTFORWARD": "n",
            # The cache hands out the cached object itself (no deep copy); `WriteModel.record`
            # evicts everything a failed batch touched, so a half-applied copy never survives.
            "DEEPCOPY_FROM_AGGREGATE_CACHE": "n",
        },
    )
