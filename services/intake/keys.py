"""Publisher API keys: one or more per source, stored hashed, created and revoked with the CLI.

A key looks like ``sl_<key id>_<secret>``. Only the SHA-256 of the secret is stored (the secret
is 32 random bytes, so a plain hash is enough; no password stretching needed). A key publishes
only as its own source: an event whose ``source`` differs is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

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


class ApiKeys:
    """Keys in the SQLite database; verified keys are cached for `cache_seconds` (revocation delay)."""

    def __init__(self, path: Path, cache_seconds: float = 5.0) -> None:
        self._cache: dict[str, tuple[str, float]] = {}
        self._cache_seconds = cache_seconds
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)

    def create(self, source: str) -> str:
        """A new key for `source`; the full key is returned once and never stored."""
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        now = datetime.now(UTC).isoformat()
        with self._lock:
            self._db.execute(
                "INSERT INTO api_keys (key_id, source, secret_sha256, created_at) VALUES (?, ?, ?, ?)",
                (key_id, source, _digest(secret), now),
            )
        return f"sl_{key_id}_{secret}"

    def revoke(self, key_id: str) -> bool:
        """Revoke a key (workers that verified it recently notice within their cache time)."""
        self._cache.clear()
        with self._lock:
            cursor = self._db.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
                (datetime.now(UTC).isoformat(), key_id),
            )
        return cursor.rowcount == 1

    def list(self) -> list[ApiKey]:
        with self._lock:
            rows = self._db.execute(
                "SELECT key_id, source, created_at, revoked_at FROM api_keys ORDER BY created_at"
            ).fetchall()
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
        with self._lock:
            row = self._db.execute(
                "SELECT source, secret_sha256 FROM api_keys WHERE key_id = ? AND revoked_at IS NULL",
                (key_id,),
            ).fetchone()
        if row is None or not hmac.compare_digest(row[1], _digest(secret)):
            return None
        return str(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
