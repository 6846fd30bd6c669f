"""The eventsourcing environment of the write model, from Salesledger settings."""

from __future__ import annotations

from services.settings import Settings


def write_model_env(settings: Settings) -> dict[str, str]:
    """SQLite file (WAL) by default; the aggregate cache is trusted only by this process's writer,
    so it does not fast-forward: a stale copy makes the save collide and the batch is redone."""
    path = settings.database_path
    path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(path),
        "SQLITE_LOCK_TIMEOUT": "30",
        "AGGREGATE_CACHE_MAXSIZE": str(settings.aggregate_cache_size),
        "AGGREGATE_CACHE_FASTFORWARD": "n",
        "CREATE_TABLE": "y",
    }
