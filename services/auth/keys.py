"""Publisher API keys: one or more per source, stored hashed, created and revoked with the CLI.

A key looks like ``sl_<key id>_<secret>``. Only the SHA-256 of the secret is stored (the secret
is 32 random bytes, so a plain hash is enough; no password stretching needed). A key publishes
only as its own source: an event whose ``source`` differs is refused.

Keys live in the configured database: the SQLite file by default, or PostgreSQL when
``SALESLEDGER_DATABASE_URL`` names one, so that every worker of a multi-machine deployment sees
the same keys. The statements are the same on both; only the placeholder style differs (written
with ``?`` here, turned into ``%s`` for psycopg).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from services.db import (
    DatabaseConfig,
    PostgresConfig,
    SqliteConfig,
    parse_database_url,
    prepare_database,
    run_ddl,
)

if TYPE_CHECKING:
    from psycopg import Connection
    from psycopg.rows import TupleRow
    from psycopg_pool import ConnectionPool

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
"""


@dataclass(frozen=True, slots=True)
class ApiKey:
    key_id: str
    source: str
    created_at: str
    revoked_at: str | None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


Rows = list[tuple[Any, ...]]


class _Database(Protocol):
    """Runs one autocommitted statement (``?`` placeholders); returns (rowcount, rows)."""

    def run(self, statement: str, params: Sequence[object] = ()) -> tuple[int, Rows]: ...

    def close(self) -> None: ...


class _Sqlite:
    """One shared connection, serialised by a lock (sqlite3 objects are not thread-safe)."""

    def __init__(self, path: Path) -> None:
        prepare_database(SqliteConfig(path))  # the file 0600: it holds every key's hash
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)

    def run(self, statement: str, params: Sequence[object] = ()) -> tuple[int, Rows]:
        with self._lock:
            cursor = self._db.execute(statement, params)
            return cursor.rowcount, cursor.fetchall()

    def close(self) -> None:
        self._db.close()


class _Postgres:
    """A small pool: thread-safe, and it replaces connections a server restart has broken."""

    def __init__(self, config: PostgresConfig) -> None:
        from psycopg_pool import ConnectionPool

        prepare_database(config)
        self._pool: ConnectionPool[Connection[TupleRow]] = ConnectionPool(
            config.conninfo(application_name="salesledger-api-keys"),
            kwargs={"autocommit": True},
            min_size=1,
            max_size=4,
            timeout=config.connect_timeout,
            check=ConnectionPool.check_connection,
            name="salesledger-api-keys",
            num_workers=1,
            open=True,
        )
        try:
            with self._pool.connection() as conn:
                run_ddl(conn, SCHEMA)
        except BaseException:
            self._pool.close()
            raise

    def run(self, statement: str, params: Sequence[object] = ()) -> tuple[int, Rows]:
        with self._pool.connection() as conn:
            cursor = conn.execute(statement.replace("?", "%s"), params)
            return cursor.rowcount, cursor.fetchall() if cursor.description else []

    def close(self) -> None:
        self._pool.close()


class ApiKeys:
    """Keys in the database; verified keys are cached for `cache_seconds` (revocation delay).

    `database` is a SQLite file path (the original form, still used by most callers) or a parsed
    `DatabaseConfig`; `ApiKeys.from_url(settings.database_url)` picks the backend from the URL.
    """

    def __init__(self, database: Path | DatabaseConfig, cache_seconds: float = 5.0) -> None:
        self._cache: dict[str, tuple[str, float]] = {}
        self._cache_seconds = cache_seconds
        if isinstance(database, Path):
            database = SqliteConfig(database)
        self._db: _Database = (
            _Sqlite(database.path) if isinstance(database, SqliteConfig) else _Postgres(database)
        )

    @classmethod
    def from_url(cls, database_url: str, cache_seconds: float = 5.0) -> ApiKeys:
        """Keys in the database `database_url` names (``SALESLEDGER_DATABASE_URL`` syntax)."""
        return cls(parse_database_url(database_url), cache_seconds)

    def create(self, source: str) -> str:
        """A new key for `source`; the full key is returned once and never stored."""
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        now = datetime.now(UTC).isoformat()
        self._db.run(
            "INSERT INTO api_keys (key_id, source, secret_sha256, created_at) VALUES (?, ?, ?, ?)",
            (key_id, source, _digest(secret), now),
        )
        return f"sl_{key_id}_{secret}"

    def revoke(self, key_id: str) -> bool:
        """Revoke a key (workers that verified it recently notice within their cache time)."""
        self._cache.clear()
        count, _ = self._db.run(
            "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
            (datetime.now(UTC).isoformat(), key_id),
        )
        return count == 1

    def list(self) -> list[ApiKey]:
        _, rows = self._db.run(
            "SELECT key_id, source, created_at, revoked_at FROM api_keys ORDER BY created_at"
        )
        return [ApiKey(*row) for row in rows]

    def source_of(self, key: str) -> str | None:
        """The source a valid, unrevoked key publishes as; None for anything else."""
        cached = self._cache.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        source = self._lookup(key)
        if source is not None:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = (source, time.monotonic() + self._cache_seconds)
        return source

    def _lookup(self, key: str) -> str | None:
        prefix, _, rest = key.partition("_")
        key_id, _, secret = rest.partition("_")
        if prefix != "sl" or not key_id or not secret:
            return None
        _, rows = self._db.run(
            "SELECT source, secret_sha256 FROM api_keys WHERE key_id = ? AND revoked_at IS NULL", (key_id,)
        )
        row = rows[0] if rows else None
        if row is None or not hmac.compare_digest(row[1], _digest(secret)):
            return None
        return str(row[0])

    def close(self) -> None:
        self._db.close()
