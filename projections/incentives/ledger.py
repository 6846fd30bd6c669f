"""The incentive fold: the facts statements are computed from, kept as they were published.

Statements are computed at query time over the merged ledger, never incrementally: a marginal or
retroactive tier is not a sum of per-partition parts, so the fold only collects facts and the plan
is applied once, over every credit line of a rep and period (`projections.incentives.books`).

Each fact is kept as an `Entry`: its event id, type, occurrence time and its ``data`` as the
published JSON, re-read with the catalogue's own models when a statement needs it. A partial is
the set of entries under one key, ``<event type>|<partition key>`` (the deal for `DealWon`, the
plan for `CompPlanPublished`, the rep for `CompPlanAssigned`, `CommissionAdjusted` and
`PayoutApproved`, the quota, the SPIFF, the customer for `CustomerChurned`), so each key is fed
by one source partition and merging is set union: any order, any partitioning and any
redelivery give the same ledger.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from events.customers import CustomerChurned
from events.deals import DealWon
from events.envelope import Envelope
from events.incentives import (
    CommissionAdjusted,
    CompPlanAssigned,
    CompPlanPublished,
    PayoutApproved,
    SpiffAnnounced,
)
from events.objectives import QuotaAssigned

FACTS = (
    DealWon,
    CompPlanPublished,
    CompPlanAssigned,
    QuotaAssigned,
    SpiffAnnounced,
    CustomerChurned,
    CommissionAdjusted,
    PayoutApproved,
)
"""The event types statements read."""


@dataclass(frozen=True, slots=True, order=True)
class Entry:
    """One fact: ``data`` is the event's data as JSON (exactly as validated at the gate)."""

    event_id: str
    type: str
    at: str
    """Occurrence time, ISO 8601 in UTC."""
    data: str
    recorded: str = ""
    """When Salesledger accepted it (``recordedtime``, ISO 8601 in UTC; "" when unstamped): what was
    known when a payout was approved (`projections.incentives.approvals`)."""

    @property
    def known_since(self) -> str:
        """The recorded time, or the occurrence time for an unstamped fact."""
        return self.recorded or self.at


@dataclass(frozen=True, slots=True)
class Entries:
    """The entries under one key, in event-id order; merging is set union."""

    items: tuple[Entry, ...] = ()

    def merge(self, other: Entries) -> Entries:
        if not other.items:
            return self
        return Entries(tuple(sorted(set(self.items) | set(other.items))))


def key_of(event: Envelope) -> str | None:
    """Where ``event`` is kept, or None for events statements do not read."""
    if not isinstance(event, FACTS):
        return None
    return f"{event.type}|{event.partition_key}"


def entry_of(event: Envelope) -> Entry:
    data = event.data  # type: ignore[attr-defined]
    recorded = event.recordedtime.astimezone(UTC).isoformat() if event.recordedtime is not None else ""
    at = event.time.astimezone(UTC).isoformat()
    return Entry(event.id, event.type, at, data.model_dump_json(), recorded)  # type: ignore[attr-defined]


def evolve(entries: Entries, event: Envelope) -> Entries:
    """The entries after ``event`` (unchanged for an event of no interest)."""
    if key_of(event) is None:
        return entries
    return entries.merge(Entries((entry_of(event),)))


def fold(events: Iterable[Envelope]) -> dict[str, Entries]:
    """Every partial from a whole history (what a replay computes)."""
    ledger: dict[str, Entries] = {}
    for event in events:
        key = key_of(event)
        if key is not None:
            ledger[key] = evolve(ledger.get(key, Entries()), event)
    return ledger


def merge_all(partials: Iterable[tuple[str, Entries]]) -> Mapping[str, Entries]:
    """Partials from any partitions, in any order, merged by key."""
    merged: dict[str, Entries] = {}
    for key, partial in partials:
        current = merged.get(key)
        merged[key] = partial if current is None else current.merge(partial)
    return merged


def as_known(
    ledger: Mapping[str, Entries], as_of: datetime | None = None, known_at: datetime | None = None
) -> dict[str, Entries]:
    """The ledger as it stood: facts that happened by ``as_of`` (event time: "the statement on
    30 June") and were recorded by ``known_at`` (recorded time: "what we knew on 3 July", late
    facts left out). None leaves that axis open. An approval recorded after ``known_at`` is left
    out with every other fact, so the statement is the one the system gave then."""
    if as_of is None and known_at is None:
        return dict(ledger)
    happened = as_of.astimezone(UTC) if as_of is not None else None
    known = known_at.astimezone(UTC) if known_at is not None else None
    out = {}
    for key, entries in ledger.items():
        items = tuple(
            entry
            for entry in entries.items
            if (happened is None or datetime.fromisoformat(entry.at) <= happened)
            and (known is None or datetime.fromisoformat(entry.known_since) <= known)
        )
        if items:
            out[key] = Entries(items)
    return out
