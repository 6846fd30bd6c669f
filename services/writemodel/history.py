"""Reading one aggregate's recorded history back from the event store (for drill-down queries).

Nothing here writes, and nothing touches the write model's aggregate cache: events are read with
the recorder and mapped to domain events, so a reader never hands the writer a stale aggregate.

A `Ledger`'s history is its `Recorded` events (catalogue events accepted into it, each with the
envelope as relayed and its chain hashes) and its `Affected` events (the effect of an event
recorded in another aggregate, e.g. the `LeadQualified` that opened a deal). An `Affected` entry
shows the causing event as it was recorded, with the hashes of its place in *its own* aggregate's
chain (named by ``aggregate``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from services.writemodel.aggregates import EventKey, Ledger, key_id
from services.writemodel.application import WriteModel


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    position: int
    """1-based place of the entry in the aggregate's history."""
    version: int
    """The aggregate version the store recorded it at (version 1 is the aggregate's creation)."""
    recorded_at: datetime
    kind: Literal["recorded", "affected"]
    aggregate: str
    """``kind:key`` of the aggregate whose hash chain ``prev_hash`` and ``hash`` belong to."""
    event: dict[str, Any]
    """The event as published on the canonical log (the envelope's JSON)."""
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "version": self.version,
            "recorded_at": self.recorded_at.isoformat(),
            "kind": self.kind,
            "aggregate": self.aggregate,
            "event": self.event,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True, slots=True)
class AggregateHistory:
    kind: str
    key: str
    state: dict[str, Any] | None
    """The aggregate's state after its last event, as the write model decided it."""
    entries: tuple[HistoryEntry, ...]

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.key}"


class StoreHistory:
    """Histories of aggregates, read from a write model's event store (blocking: call in a thread)."""

    def __init__(self, model: WriteModel) -> None:
        self.model = model

    def history(self, kind: str, key: str) -> AggregateHistory | None:
        """Every event of the aggregate ``kind:key`` in order; None when it was never recorded."""
        return self._history(Ledger.create_id(kind, key))

    def history_of_event(self, source: str, event_id: str) -> AggregateHistory | None:
        """The history of the aggregate the event (CloudEvents ``source`` + ``id``) was recorded in."""
        ledger_id = self._ledger_of(f"{source}\n{event_id}")
        return None if ledger_id is None else self._history(ledger_id)

    def _events(self, originator_id: UUID) -> list[Any]:
        stored = self.model.recorder.select_events(originator_id)
        return [self.model.mapper.to_domain_event(event) for event in stored]

    def _ledger_of(self, event_key: str) -> UUID | None:
        created: Any = next(iter(self._events(key_id(event_key))), None)
        if not isinstance(created, EventKey.Created):
            return None
        fields: Any = created  # attributes of an eventsourcing event are dynamic
        return UUID(str(fields.ledger_id))

    def _history(self, ledger_id: UUID) -> AggregateHistory | None:
        events = self._events(ledger_id)
        created: Any = events[0] if events else None
        if not isinstance(created, Ledger.Created):
            return None
        fields: Any = created  # attributes of an eventsourcing event are dynamic
        kind, key = str(fields.kind), str(fields.key)
        entries: list[HistoryEntry] = []
        state: dict[str, Any] | None = None
        for event in events[1:]:
            if isinstance(event, Ledger.Recorded):
                recorded, aggregate = event, f"{kind}:{key}"
                entry_kind: Literal["recorded", "affected"] = "recorded"
            elif isinstance(event, Ledger.Affected):
                cause = self._recorded(event.cause)
                if cause is None:
                    continue
                recorded, aggregate = cause
                entry_kind = "affected"
            else:
                continue
            state = event.state
            entries.append(
                HistoryEntry(
                    position=len(entries) + 1,
                    version=event.originator_version,
                    recorded_at=event.timestamp,
                    kind=entry_kind,
                    aggregate=aggregate,
                    event=json.loads(recorded.envelope),
                    prev_hash=recorded.prev_hash,
                    hash=recorded.hash,
                )
            )
        return AggregateHistory(kind, key, state, tuple(entries))

    def _recorded(self, event_key: str) -> tuple[Any, str] | None:
        """The `Recorded` event of ``event_key`` in its own aggregate, and that aggregate's name."""
        ledger_id = self._ledger_of(event_key)
        if ledger_id is None:
            return None
        events = self._events(ledger_id)
        name = f"{events[0].kind}:{events[0].key}" if events else ""
        found = (e for e in events if isinstance(e, Ledger.Recorded) and e.event_key == event_key)
        recorded = next(found, None)
        return None if recorded is None else (recorded, name)
