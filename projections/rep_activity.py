"""Activity per rep: calls made, calls that connected, talk time, leads captured.

A pure fold: ``evolve(state, event) -> state``. Live agents, replay and tests call the same code,
so a live number and a replayed number cannot differ. Partial states merge by addition, which is
what lets each source partition keep its own partial (see `projections.positions`).

The same counts as they stood at a past instant, or as known at one, come from the KPI book
(`from_book`): its activity counters and lead timelines hold the same facts with their times.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any

from events.activities import CallLogged, CallOutcome
from events.envelope import Envelope
from events.prospecting import LeadCaptured
from projections.kpi_fold import KpiBook
from projections.kpi_records import LeadEntered


@dataclass(frozen=True, slots=True)
class RepActivity:
    calls: int = 0
    connected_calls: int = 0
    talk_seconds: int = 0
    leads_captured: int = 0

    def merge(self, other: RepActivity) -> RepActivity:
        return RepActivity(
            self.calls + other.calls,
            self.connected_calls + other.connected_calls,
            self.talk_seconds + other.talk_seconds,
            self.leads_captured + other.leads_captured,
        )

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RepActivity:
        return cls(**{k: int(data.get(k, 0)) for k in cls.__dataclass_fields__})


def rep_of(event: Envelope) -> str | None:
    """The rep an event counts for, or None when it does not touch this read model."""
    if isinstance(event, CallLogged):
        return event.data.rep_id
    if isinstance(event, LeadCaptured):
        return event.data.rep_id
    return None


def evolve(state: RepActivity, event: Envelope) -> RepActivity:
    """A connected call counts its talk time; every logged call counts as a call."""
    if isinstance(event, CallLogged):
        connected = event.data.outcome is CallOutcome.CONNECTED
        return replace(
            state,
            calls=state.calls + 1,
            connected_calls=state.connected_calls + int(connected),
            talk_seconds=state.talk_seconds + event.data.duration_seconds,
        )
    if isinstance(event, LeadCaptured) and event.data.rep_id is not None:
        return replace(state, leads_captured=state.leads_captured + 1)
    return state


def fold(events: Iterable[Envelope]) -> dict[str, RepActivity]:
    """Activity of every rep from a whole history (what a replay computes)."""
    by_rep: dict[str, RepActivity] = {}
    for event in events:
        rep = rep_of(event)
        if rep is not None:
            by_rep[rep] = evolve(by_rep.get(rep, RepActivity()), event)
    return by_rep


def merge_all(partials: Iterable[tuple[str, RepActivity]]) -> dict[str, RepActivity]:
    """Merge per-partition partials into one state per rep."""
    merged: dict[str, RepActivity] = {}
    for rep, partial in partials:
        merged[rep] = merged.get(rep, RepActivity()).merge(partial)
    return merged


def from_book(book: KpiBook) -> list[tuple[str, RepActivity]]:
    """Per-rep activity partials from a KPI book (``book.as_of(...)`` or ``book.known_at(...)``
    for the past): the calls of its activity counters and the leads of its lead timelines. Folding
    a history into a book and reading it here equals folding it here directly (tested)."""
    partials = [
        (rep_id, RepActivity(counters.calls, counters.connected_calls, counters.talk_seconds))
        for rep_id, _, counters in book.activity()
        if counters.calls
    ]
    for _, timeline in book.timelines("lead"):
        partials.extend(
            (entered.rep_id, RepActivity(leads_captured=1))
            for entered in timeline.of(LeadEntered)
            if entered.rep_id is not None
        )
    return partials
