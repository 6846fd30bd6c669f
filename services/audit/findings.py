"""What an audit can find, and where: the vocabulary shared by the checks and the report.

A finding names the record it is about by its place in its source (a Kafka partition and offset,
or the store's notification sequence number), because that is where an auditor goes to look.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

Source = Literal["kafka", "store", "both"]
"""Which check found it: the chain of the Kafka log, the chain of the store, or the two compared."""


class Kind(StrEnum):
    ALTERED = "altered"
    """The content no longer hashes to the hash it carries (or to the other source's copy)."""
    MISSING = "missing"
    """An event is gone: a chain names a predecessor that is nowhere, or one source lacks it."""
    REORDERED = "reordered"
    """An event comes before the event its chain says precedes it."""
    DUPLICATED = "duplicated"
    """A second, different event claims a place or an event id already taken."""
    REPUBLISHED = "republished"
    """An exact copy of an earlier Kafka record: the relay's at-least-once resend, harmless."""
    PENDING = "pending"
    """In the store, not yet relayed (after the relay's saved position): harmless lag."""


HARMLESS = frozenset({Kind.REPUBLISHED, Kind.PENDING})


@dataclass(frozen=True, slots=True)
class Position:
    """A record's place: ``partition``/``offset`` on Kafka, or the store's sequence (no partition)."""

    partition: int | None
    offset: int

    @staticmethod
    def seq(seq: int) -> Position:
        return Position(None, seq)

    @property
    def sort_key(self) -> tuple[int, int]:
        return (-1 if self.partition is None else self.partition, self.offset)

    def as_json(self) -> dict[str, int]:
        if self.partition is None:
            return {"seq": self.offset}
        return {"partition": self.partition, "offset": self.offset}

    def __str__(self) -> str:
        if self.partition is None:
            return f"seq {self.offset}"
        return f"partition {self.partition} offset {self.offset}"


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong (or, for the harmless kinds, worth knowing) about one record."""

    kind: Kind
    source: Source
    position: Position
    aggregate: str
    """The aggregate's id (its eventsourcing originator id, as the relay's header carries it)."""
    key: str
    """The aggregate's key as Kafka keys it (``lead-7``): readable where the id is not."""
    event: str
    """The event as ``<id> from <source>`` (CloudEvents), or empty when the content is unreadable."""
    expected: str
    actual: str
    detail: str

    @property
    def harmless(self) -> bool:
        return self.kind in HARMLESS

    def as_json(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "source": self.source,
            "position": self.position.as_json(),
            "aggregate": self.aggregate,
            "key": self.key,
            "event": self.event,
            "expected": self.expected,
            "actual": self.actual,
            "detail": self.detail,
            "harmless": self.harmless,
        }
