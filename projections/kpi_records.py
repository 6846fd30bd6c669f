"""Compact facts per lead, deal, customer, quota and objective: what KPIs need that counters cannot hold.

Some KPIs need to join facts recorded in different partitions or on different days: a deal's
cycle length needs its opening (`LeadQualified`, keyed by the lead) and its close (keyed by the
deal); an objection's resolution names no category; a deal won twice (reopened) counts once; a
quota revision replaces the amount. Such facts are kept as a `Timeline` per entity: the few fields
each KPI reads from an event, one record per event.

A timeline merges with another by **set union** (records are identified by their event id), so
partials from different source partitions merge in any order, and merging a record twice changes
nothing. Everything else (which win counts, which revision wins) is decided at query time from
the whole timeline, so the result never depends on delivery order.

Instants are kept in UTC; amounts as exact decimals with their currency. How a timeline is written
down is the projector's business (`services.projector.kpi_codec`), not the fold's.

A timeline also keeps when each of its events was **recorded** (accepted by Salesledger), so that a
query can ask what was known at a past instant (`Timeline.known_at`, the ``known_at`` parameter):
a late event is left out of what was known before it arrived. A record without a recorded time (a
state folded before recorded times were kept) counts as recorded when it happened.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeAlias, get_args


@dataclass(frozen=True, slots=True)
class LeadEntered:
    """`LeadCaptured`: a lead entered the funnel from ``source``."""

    at: datetime
    event_id: str
    rep_id: str | None
    source: str


@dataclass(frozen=True, slots=True)
class LeadDecided:
    """`LeadQualified` (``qualified``) or `LeadDisqualified`."""

    at: datetime
    event_id: str
    rep_id: str
    qualified: bool


@dataclass(frozen=True, slots=True)
class DealOpened:
    """`LeadQualified`, seen from the deal it opens: the owner, the buyer's decision date, the budget."""

    at: datetime
    event_id: str
    rep_id: str
    decision_by: date | None
    amount: Decimal | None
    currency: str | None


@dataclass(frozen=True, slots=True)
class StageMoved:
    """`DealStageChanged`: the owner moved the deal (or reopened it) into ``to_stage``."""

    at: datetime
    event_id: str
    rep_id: str
    to_stage: str


@dataclass(frozen=True, slots=True)
class FactRecorded:
    """A deal fact that may move it forward: `NeedsAssessed`, `SolutionPresented`, `ProposalSent`
    or `ObjectionRaised` (``fact`` is the event type); the amount pitched or proposed, if any."""

    at: datetime
    event_id: str
    rep_id: str
    fact: str
    amount: Decimal | None = None
    currency: str | None = None
    objection_id: str | None = None
    category: str | None = None


@dataclass(frozen=True, slots=True)
class ObjectionAnswered:
    """`ObjectionResolved`: joined to its `ObjectionRaised` by ``objection_id``."""

    at: datetime
    event_id: str
    rep_id: str
    objection_id: str


@dataclass(frozen=True, slots=True)
class DealClosed:
    """`DealWon` (``won``, with amount and credit splits) or `DealLost`."""

    at: datetime
    event_id: str
    rep_id: str
    won: bool
    amount: Decimal | None = None
    currency: str | None = None
    splits: tuple[tuple[str, Decimal], ...] = ()


@dataclass(frozen=True, slots=True)
class CustomerWon:
    """`DealWon`, seen from the customer it makes (or wins back)."""

    at: datetime
    event_id: str
    rep_id: str
    deal_id: str


@dataclass(frozen=True, slots=True)
class CustomerLost:
    """`CustomerChurned`."""

    at: datetime
    event_id: str


@dataclass(frozen=True, slots=True)
class CustomerSale:
    """`CustomerRenewed` (``kind`` renewal) or `CustomerExpanded` (upsell, cross_sell)."""

    at: datetime
    event_id: str
    rep_id: str
    kind: str
    deal_id: str | None
    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class QuotaSet:
    """A revision of a `QuotaAssigned`; the latest by time (then event id) is the quota."""

    at: datetime
    event_id: str
    assignee: str
    assignee_id: str
    first: date
    last: date
    metric: str
    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class ObjectiveTarget:
    """A revision of an `ObjectiveSet`; ``currency`` is set for money targets."""

    at: datetime
    event_id: str
    scope: str
    scope_id: str
    kpi: str
    first: date
    last: date
    target: Decimal
    currency: str | None


Record: TypeAlias = (
    LeadEntered
    | LeadDecided
    | DealOpened
    | StageMoved
    | FactRecorded
    | ObjectionAnswered
    | DealClosed
    | CustomerWon
    | CustomerLost
    | CustomerSale
    | QuotaSet
    | ObjectiveTarget
)
RECORD_TYPES: dict[str, type[Any]] = {cls.__name__: cls for cls in get_args(Record)}


def _order(record: Record) -> tuple[datetime, str, str]:
    return record.at, record.event_id, type(record).__name__


def _recorded_union(
    mine: tuple[tuple[str, datetime], ...], theirs: tuple[tuple[str, datetime], ...]
) -> tuple[tuple[str, datetime], ...]:
    """Both sets of recorded times, by event id (an event's recorded time never changes: the first
    one seen is kept), sorted by event id."""
    if not theirs or theirs == mine:
        return mine
    if not mine:
        return theirs
    known = dict(mine)
    added = False
    for event_id, at in theirs:
        if event_id not in known:
            known[event_id] = at
            added = True
    return tuple(sorted(known.items())) if added else mine


@dataclass(frozen=True, slots=True)
class Timeline:
    """The records of one entity in time order (then event id): a set that merges by union."""

    records: tuple[Record, ...] = ()
    recorded: tuple[tuple[str, datetime], ...] = ()
    """(event id, UTC instant it was recorded) of the events behind the records, by event id."""

    def merge(self, other: Timeline) -> Timeline:
        """Union of both record sets; an event already present is not added again."""
        if not other.records:
            return self
        recorded = _recorded_union(self.recorded, other.recorded)
        if len(other.records) == 1:
            return self._add(other.records[0], recorded)
        unique = {(record.event_id, type(record).__name__): record for record in self.records}
        for record in other.records:
            unique.setdefault((record.event_id, type(record).__name__), record)
        return Timeline(tuple(sorted(unique.values(), key=_order)), recorded)

    def known_at(self, instant: datetime) -> Timeline:
        """The records of the events recorded by ``instant`` (what was known then)."""
        return self.travelled(None, instant)

    def travelled(self, as_of: datetime | None, known_at: datetime | None) -> Timeline:
        """The records of events that had happened by ``as_of`` and were recorded by ``known_at``
        (None: no limit on that axis), in one pass. A record without a recorded instant counts
        as recorded when it happened. Whole timelines in or out, the common case for a past
        instant, are decided from the bounds alone, without looking at each record."""
        records = self.records
        if not records:
            return self
        if as_of is not None and records[0].at > as_of:
            return EMPTY_TIMELINE
        happened = as_of is None or records[-1].at <= as_of
        if known_at is None:
            if happened:
                return self
            kept = tuple(record for record in records if record.at <= as_of)  # type: ignore[operator]
            return self._keeping(kept)
        recorded = self.recorded
        if recorded and (
            len(recorded) >= len(records) or len(recorded) >= len({r.event_id for r in records})
        ):
            times = [at for _, at in recorded]  # every record's event has its recorded instant
            if min(times) > known_at:
                return EMPTY_TIMELINE
            if happened and max(times) <= known_at:
                return self
        when = dict(recorded)
        kept = tuple(
            record
            for record in records
            if (as_of is None or record.at <= as_of) and when.get(record.event_id, record.at) <= known_at
        )
        return self._keeping(kept)

    def _keeping(self, kept: tuple[Record, ...]) -> Timeline:
        """This timeline narrowed to ``kept`` (some of its records, in order)."""
        if len(kept) == len(self.records):
            return self
        if not kept:
            return EMPTY_TIMELINE
        ids = {record.event_id for record in kept}
        return Timeline(kept, tuple(pair for pair in self.recorded if pair[0] in ids))

    def _add(self, record: Record, recorded: tuple[tuple[str, datetime], ...]) -> Timeline:
        """`merge` with one record (what folding an event does): no re-sort, no rebuilt index.

        The order is total (an event id and record type name a record), so inserting at the
        bisection point gives exactly the tuple the sort in `merge` gives."""
        records = self.records
        event_id, kind = record.event_id, type(record)
        for present in records:
            if present.event_id == event_id and type(present) is kind:
                return self if recorded == self.recorded else Timeline(records, recorded)
        order = _order(record)
        if not records or _order(records[-1]) < order:
            return Timeline((*records, record), recorded)  # the usual case: events arrive in time order
        index = bisect_right(records, order, key=_order)
        return Timeline((*records[:index], record, *records[index:]), recorded)

    def of(self, kind: type[Any]) -> tuple[Any, ...]:
        """The records of one type, in time order."""
        return tuple(record for record in self.records if isinstance(record, kind))


EMPTY_TIMELINE = Timeline()
"""No record: what a timeline is before its first event, or at an instant before it."""
