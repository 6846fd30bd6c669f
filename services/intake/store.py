"""The intake store: accepted events, in acceptance order, unique by event id.

SQLite by default (one file, WAL mode: readers never block the writer); the interface is small so
a PostgreSQL implementation can sit beside it. Writes are batched: one transaction per HTTP batch
or per Kafka poll, which is what makes tens of thousands of events per second possible on SQLite.

Durability: ``synchronous=FULL`` (the default) syncs every commit to disk, so an accepted event
survives power loss too; ``NORMAL`` in WAL mode survives a killed process but may lose the last
commits on power loss (``SALESLEDGER_DATABASE_SYNCHRONOUS``). Commits are per batch, so the cost
of FULL falls on single-event requests.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from events import Envelope, serialize_event

SCHEMA = """
CREATE TABLE IF NOT EXISTS intake (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_key TEXT NOT NULL UNIQUE,
    event_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    event_type TEXT NOT NULL,
    partition_key TEXT NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS positions (
    name TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
);
"""


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    """Same id as an accepted event but different content: a publisher bug, never silently merged."""


@dataclass(frozen=True, slots=True)
class Appended:
    event_id: str
    outcome: Outcome
    seq: int


@dataclass(frozen=True, slots=True)
class IntakeRow:
    seq: int
    event_id: str
    partition_key: str
    body: bytes


def event_key(event: Envelope) -> str:
    """The idempotency key: CloudEvents makes ``source`` + ``id`` unique, so two tools may reuse ids."""
    return f"{event.source}\n{event.id}"


def fingerprint(event: Envelope) -> str:
    """Content hash of the fact as the publisher stated it.

    Our recorded time is excluded and the occurrence time is compared as an instant (UTC), so a
    retry from a tool that restarted in another time zone is a duplicate, not a conflict.
    """
    normalised = event.model_copy(update={"recordedtime": None, "time": event.time.astimezone(UTC)})
    payload = normalised.model_dump_json(exclude_none=True)
    return hashlib.sha256(payload.encode()).hexdigest()


class IntakeStore(Protocol):
    store_id: str
    """Random identity of this store, so the relay never mistakes another store's records for its own."""

    def append(self, events: Sequence[Envelope]) -> list[Appended]: ...
    def read_after(self, seq: int, limit: int) -> list[IntakeRow]: ...
    def last_seq(self) -> int: ...
    def position(self, name: str) -> int: ...
    def save_position(self, name: str, seq: int) -> None: ...
    def close(self) -> None: ...


class SqliteIntake:
    """`IntakeStore` on one SQLite file, shared safely by the threads of one process."""

    def __init__(self, path: Path, synchronous: str = "FULL") -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._db.executescript(SCHEMA)
        self._db.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('store_id', ?)", (uuid.uuid4().hex,)
        )
        (self.store_id,) = self._db.execute("SELECT value FROM meta WHERE key = 'store_id'").fetchone()

    def append(self, events: Sequence[Envelope]) -> list[Appended]:
        """Insert a batch in one transaction; each event is accepted, a duplicate or a conflict."""
        results: list[Appended] = []
        with self._lock:
            cursor = self._db.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                for event in events:
                    results.append(self._append_one(cursor, event))
                cursor.execute("COMMIT")
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
        return results

    def _append_one(self, cursor: sqlite3.Cursor, event: Envelope) -> Appended:
        print_ = fingerprint(event)
        cursor.execute(
            "INSERT INTO intake (event_key, event_id, fingerprint, event_type, partition_key, body)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(event_key) DO NOTHING",
            (event_key(event), event.id, print_, event.type, event.partition_key, serialize_event(event)),  # type: ignore[attr-defined]
        )
        if cursor.rowcount == 1:
            return Appended(event.id, Outcome.ACCEPTED, int(cursor.lastrowid or 0))
        seq, stored = cursor.execute(
            "SELECT seq, fingerprint FROM intake WHERE event_key = ?", (event_key(event),)
        ).fetchone()
        return Appended(event.id, Outcome.DUPLICATE if stored == print_ else Outcome.CONFLICT, int(seq))

    def read_after(self, seq: int, limit: int) -> list[IntakeRow]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, event_id, partition_key, body FROM intake WHERE seq > ? ORDER BY seq LIMIT ?",
                (seq, limit),
            ).fetchall()
        return [IntakeRow(int(s), str(i), str(k), bytes(b)) for s, i, k, b in rows]

    def last_seq(self) -> int:
        with self._lock:
            (seq,) = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM intake").fetchone()
        return int(seq)

    def position(self, name: str) -> int:
        with self._lock:
            row = self._db.execute("SELECT seq FROM positions WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def save_position(self, name: str, seq: int) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO positions (name, seq) VALUES (?, ?)"
                " ON CONFLICT(name) DO UPDATE SET seq = MAX(seq, excluded.seq)",
                (name, seq),
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()


def open_store(database_url: str, synchronous: str = "FULL") -> IntakeStore:
    """The intake store named by a URL: ``sqlite:///relative/path`` or ``sqlite:////absolute/path``."""
    if database_url.startswith("sqlite:///"):
        return SqliteIntake(Path(database_url.removeprefix("sqlite:///")), synchronous)
    raise ValueError(f"unsupported database URL {database_url!r}: use sqlite:///<path>")
