"""What the write model and the relay share: outcomes, relayed rows, the idempotency key.

The idempotency key is CloudEvents' ``source`` + ``id``; a repeat is recognised by a fingerprint of
the content that ignores how the publisher wrote the time zone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from events import Envelope


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    """Same id as an accepted event but different content: a publisher bug, never silently merged."""
    VIOLATION = "violation"
    """The sales process forbids it in the aggregate's current state (`rule` names the rule)."""


@dataclass(frozen=True, slots=True)
class Appended:
    event_id: str
    outcome: Outcome
    rule: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class IntakeRow:
    seq: int
    event_id: str
    partition_key: str
    body: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


def event_key(event: Envelope) -> str:
    """The idempotency key: CloudEvents makes ``source`` + ``id`` unique, so two tools may reuse ids."""
    return f"{event.source}\n{event.id}"


def fingerprint(event: Envelope) -> str:
    """Content hash of the fact as the publisher stated it.

    Our recorded time is excluded and the occurrence time is compared as an instant (UTC), so a
    retry from a tool that restarted in another time zone is a duplicate, not a conflict.
    """
    offset = event.time.utcoffset() or timedelta(0)
    instant = (event.time.replace(tzinfo=None) - datetime.min) - offset  # no overflow near year 1
    payload = event.model_dump_json(exclude={"recordedtime", "time"}, exclude_none=True)
    return hashlib.sha256(f"{instant}\n{payload}".encode()).hexdigest()


class IntakeStore(Protocol):
    """What the relay reads: recorded events in order, and where it got to."""

    store_id: str
    """Random identity of this store, so the relay never mistakes another store's records for its own."""

    def read_after(self, seq: int, limit: int) -> list[IntakeRow]: ...
    def position(self, name: str) -> int: ...
    def save_position(self, name: str, seq: int) -> None: ...
    def last_seq(self) -> int:
        """The highest sequence number the store has given out (0 when empty)."""
        ...
