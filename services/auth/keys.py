"""API keys: each with a role (`services.auth.roles`), stored hashed, revocable, with an optional
expiry; created, listed and revoked with the CLI.

A key looks like ``sl_<key id>_<secret>``. Only the SHA-256 of the secret is stored (the secret
is 32 random bytes, so a plain hash is enough; no password stretching needed). A publisher key
publishes only as its own sources: an event whose ``source`` is not one of them is refused.
Rows written before keys had roles are publisher keys of their one source.

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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from services.auth.roles import Principal, Role, check_grant
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
    revoked_at TEXT,
    label TEXT,
    role TEXT,
    subject TEXT,
    expires_at TEXT
);
"""

ADDED_COLUMNS = ("label", "role", "subject", "expires_at")
"""Columns added after the first release: older tables gain them on open."""

ADD_COLUMNS = tuple(f"ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS {name} TEXT" for name in ADDED_COLUMNS)
"""PostgreSQL's form (SQLite has no ``IF NOT EXISTS`` here and is checked by hand)."""


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key as listed: never its secret."""

    key_id: str
    source: str
    """The sources it publishes as, space-separated ("" for a key that publishes nothing)."""
    created_at: str
    revoked_at: str | None
    label: str | None = None
    role: str = Role.PUBLISHER.value
    subject: str | None = None
    expires_at: str | None = None

    def state(self, now: datetime | None = None) -> str:
        if self.revoked_at:
            return f"revoked {self.revoked_at}"
        if self.expires_at and datetime.fromisoformat(self.expires_at) <= (now or datetime.now(UTC)):
            return f"expired {self.expires_at}"
        return "active"


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
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(api_keys)")}
        for name in ADDED_COLUMNS:
            if name in columns:
                continue
            try:
                self._db.execute(f"ALTER TABLE api_keys ADD COLUMN {name} TEXT")
            except sqlite3.OperationalError as error:  # another process added it meanwhile
                if "duplicate column" not in str(error):
                    raise

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
                run_ddl(conn, SCHEMA, *ADD_COLUMNS)
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
        self._cache: dict[str, tuple[Principal, float]] = {}
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

    def create(
        self,
        source: str | Iterable[str] = (),
        label: str | None = None,
        *,
        role: Role = Role.PUBLISHER,
        subject: str | None = None,
        expires_at: datetime | None = None,
    ) -> str:
        """A new key; the full key is returned once and never stored.

        A publisher key (the default role) needs its `source` (one, or several); rep and manager
        keys need their `subject`; `services.auth.roles.check_grant` refuses any other mix.
        `label` marks keys a tool mints for itself (the demo's are labelled ``demo``), so that the
        tool can find and replace its own keys later without touching anyone else's.
        """
        sources = frozenset([source] if isinstance(source, str) else source)
        check_grant(role, sources, subject)
        if expires_at is not None and expires_at.tzinfo is None:
            raise ValueError("an expiry needs a time zone")
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        now = datetime.now(UTC).isoformat()
        self._db.run(
            "INSERT INTO api_keys (key_id, source, secret_sha256, created_at, label, role, subject,"
            " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key_id,
                " ".join(sorted(sources)),
                _digest(secret),
                now,
                label,
                role.value,
                subject,
                None if expires_at is None else expires_at.astimezone(UTC).isoformat(),
            ),
        )
        return f"sl_{key_id}_{secret}"

    def rotate_role(self, label: str, role: Role, subject: str | None = None) -> str:
        """One fresh key of `role` (and `subject`), labelled `label`, replacing every earlier key of
        that label, role and subject (as `rotate` does for publisher keys)."""
        self._cache.clear()
        self._db.run(
            "DELETE FROM api_keys WHERE label = ? AND role = ? AND coalesce(subject, '') = ?",
            (label, role.value, subject or ""),
        )
        return self.create(label=label, role=role, subject=subject)

    def rotate(self, label: str, sources: Iterable[str]) -> dict[str, str]:
        """One fresh key per source, labelled `label`, replacing every earlier key of that label and
        source (deleted, not just revoked, so that minting again and again does not grow the store).

        Keys without the label, or with the label but another source, are left alone. Only the
        hash of a secret is stored, so an old key cannot be handed out again: rotating is how a tool
        that mints keys on every start (`salesledger run`) keeps one key per source.
        """
        self._cache.clear()
        minted = {}
        for source in sorted(set(sources)):
            self._db.run(
                "DELETE FROM api_keys WHERE label = ? AND source = ? AND coalesce(role, 'publisher') = ?",
                (label, source, Role.PUBLISHER.value),
            )
            minted[source] = self.create(source, label)
        return minted

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
            "SELECT key_id, source, created_at, revoked_at, label, coalesce(role, 'publisher'), subject,"
            " expires_at FROM api_keys ORDER BY created_at"
        )
        return [ApiKey(*row) for row in rows]

    def principal_of(self, key: str) -> Principal | None:
        """What a valid, unrevoked, unexpired key may do; None for anything else.

        Verified keys are cached for `cache_seconds` (the revocation delay), never past their expiry.
        """
        cached = self._cache.get(key)
        now = time.monotonic()
        if cached is not None and cached[1] > now:
            known = cached[0]
            if known.expires_at is None or known.expires_at > datetime.now(UTC):
                return known
        found = self._lookup(key)
        if found is not None:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = (found, now + self._cache_seconds)
        return found

    def source_of(self, key: str) -> str | None:
        """The one source a valid publisher key publishes as (the first, sorted, if several); None
        for anything else, and for keys of roles that publish nothing."""
        principal = self.principal_of(key)
        if principal is None or not principal.sources:
            return None
        return min(principal.sources)

    def _lookup(self, key: str) -> Principal | None:
        prefix, _, rest = key.partition("_")
        key_id, _, secret = rest.partition("_")
        if prefix != "sl" or not key_id or not secret:
            return None
        _, rows = self._db.run(
            "SELECT source, secret_sha256, coalesce(role, 'publisher'), subject, expires_at FROM api_keys"
            " WHERE key_id = ? AND revoked_at IS NULL",
            (key_id,),
        )
        row = rows[0] if rows else None
        if row is None or not hmac.compare_digest(row[1], _digest(secret)):
            return None
        expires_at = None if row[4] is None else datetime.fromisoformat(row[4])
        if expires_at is not None and expires_at <= datetime.now(UTC):
            return None
        try:
            role = Role(row[2])
        except ValueError:  # a role this version does not know grants nothing
            return None
        sources = frozenset(str(row[0]).split())
        return Principal(key_id, role, sources, row[3], expires_at)

    def close(self) -> None:
        self._db.close()
