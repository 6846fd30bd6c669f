"""The KPI fold: what each event contributes, under which storage key, and the merged book.

Every KPI partial is a commutative monoid (`KpiCounters` add, `Timeline` unites), so folding is
summing contributions: ``evolve(state, event) = state.merge(contribution)``. Permuting events,
splitting them across partitions, or merging a timeline record twice never changes a result.

Storage keys (one partial per ``(source partition, key)``, see `projections.positions`):

==================================  ============  ==================================================
key                                 partial       fed by
==================================  ============  ==================================================
``activity|<rep_id>|<YYYY-MM-DD>``  KpiCounters   calls, emails, replies, meetings, social, research
``activity|<rep>|<day>|<recorded>`` KpiCounters   the same, recorded on a later local day (late)
``lead|<lead_id>``                  Timeline      LeadCaptured, LeadQualified, LeadDisqualified
``deal|<deal_id>``                  Timeline      LeadQualified (opens it), the deal's own events
``customer|<customer_id>``          Timeline      DealWon, CustomerRenewed/Expanded/Churned
``quota|<quota_id>``                Timeline      QuotaAssigned (every revision)
``objective|<objective_id>``        Timeline      ObjectiveSet (every revision)
==================================  ============  ==================================================

The day in an activity key is the local day in the organisation's time zone, so the fold takes
that zone. Activity recorded on a later local day than it happened (a dialer's backlog, a CRM
import) is counted under a key that also names the day it was recorded, so that `KpiBook.known_at`
can leave it out of what was known before; timelines keep each event's recorded instant. So "what
was known at T" is exact to the instant for leads, deals, customers, quotas and objectives, and to
the local day for activity counts (the day of T counts whole). Changing the zone means replaying
the activity partials; changing it means replaying the activity partials (timelines keep UTC instants and are
bucketed at query time). How a partial is written down and read back is the projector's business
(`services.projector.kpi_codec`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TypeAlias
from zoneinfo import ZoneInfo

from events.envelope import Envelope
from projections.kpi_counters import KpiCounters, activity_rule
from projections.kpi_records import Timeline
from projections.kpi_sources import records_rule
from projections.periods import local_day

Partial: TypeAlias = KpiCounters | Timeline
ACTIVITY = "activity"


def contributions(event: Envelope, tz: str) -> tuple[tuple[str, Partial], ...]:
    """The partials ``event`` adds to, each with what it adds (empty for events KPIs ignore)."""
    cls = type(event)
    activity = activity_rule(cls)
    recorded_at = event.recordedtime
    if activity is not None:
        rep_id, counters = activity(event)  # key: activity|<rep>|<local day>[|<recorded local day>]
        day = _local_day(event.time, tz)
        key = f"{ACTIVITY}|{rep_id}|{day.isoformat()}"
        if recorded_at is not None and (recorded_day := _local_day(recorded_at, tz)) > day:
            key = f"{key}|{recorded_day.isoformat()}"
        return ((key, counters),)
    records = records_rule(cls)
    if records is None:
        return ()
    at = event.time.astimezone(UTC)
    recorded = ((event.id, recorded_at.astimezone(UTC)),) if recorded_at is not None else ()
    return tuple(
        [(f"{kind}|{key}", Timeline((record,), recorded)) for kind, key, record in records(event, at)]
    )


def _local_day(at: datetime, tz: str) -> date:
    """`local_day`, with the zone looked up once per name (it runs for every activity)."""
    if at.tzinfo is None or at.utcoffset() is None:
        return local_day(at, tz)  # which refuses it
    zone = _ZONES.get(tz)
    if zone is None:
        zone = _ZONES.setdefault(tz, ZoneInfo(tz))
    return at.astimezone(zone).date()


_ZONES: dict[str, ZoneInfo] = {}


def evolve(state: Partial | None, key: str, event: Envelope, tz: str) -> Partial | None:
    """The partial under ``key`` after ``event`` (``state`` unchanged if the event adds nothing there)."""
    for contributed_key, contribution in contributions(event, tz):
        if contributed_key == key:
            state = contribution if state is None else merge(state, contribution)
    return state


def merge(left: Partial, right: Partial) -> Partial:
    if isinstance(left, KpiCounters) and isinstance(right, KpiCounters):
        return left.merge(right)
    if isinstance(left, Timeline) and isinstance(right, Timeline):
        return left.merge(right)
    raise TypeError(f"cannot merge {type(left).__name__} with {type(right).__name__}")


@dataclass(frozen=True)
class KpiBook:
    """Every KPI partial merged, by storage key, for one organisation time zone."""

    tz: str
    partials: Mapping[str, Partial] = field(default_factory=dict)

    def add(self, key: str, partial: Partial) -> KpiBook:
        """A copy with ``partial`` merged in under ``key`` (a late event arriving, say)."""
        current = self.partials.get(key)
        merged = partial if current is None else merge(current, partial)
        return KpiBook(self.tz, {**self.partials, key: merged})

    def as_of(self, instant: datetime) -> KpiBook:
        """The book as it stood at event time ``instant`` ("the KPIs on 30 June"): every record
        that happened by then, and the activity counters of the local days up to its day (a
        counter holds a whole day: the day of ``instant`` counts whole). A deal won after
        ``instant`` is open in it; a quota assigned after it is not known."""
        return self.travelled(instant, None)

    def known_at(self, instant: datetime) -> KpiBook:
        """The book as the system knew it at recorded time ``instant`` ("what we knew on 3 July"):
        every timeline record of an event recorded by then, and the activity counters recorded on
        local days up to its day (the day of ``instant`` counts whole: counters hold whole days).
        Combine with `as_of` for "the KPIs of 30 June as known on 3 July"."""
        return self.travelled(None, instant)

    def travelled(self, as_of: datetime | None, known_at: datetime | None) -> KpiBook:
        """`as_of` and `known_at` together, in one pass over the partials (None: no limit on that
        axis): what had happened by ``as_of`` as the system knew it at ``known_at``."""
        if as_of is None and known_at is None:
            return self
        happened = None if as_of is None else local_day(as_of, self.tz)
        known = None if known_at is None else local_day(known_at, self.tz)
        kept: dict[str, Partial] = {}
        for key, partial in self.partials.items():
            if isinstance(partial, KpiCounters):
                parts = key.split("|")
                if (happened is None or date.fromisoformat(parts[2]) <= happened) and (
                    known is None or date.fromisoformat(parts[-1] if len(parts) > 3 else parts[2]) <= known
                ):
                    kept[key] = partial
                continue
            travelled = partial.travelled(as_of, known_at)
            if travelled.records:
                kept[key] = travelled
        return KpiBook(self.tz, kept)

    def activity(self) -> Iterator[tuple[str, date, KpiCounters]]:
        """``(rep_id, local day, counters)`` for every activity partial (a rep's day may come in
        two or more partials: on time, and recorded late on later days; callers add them up)."""
        for key, partial in self.partials.items():
            if isinstance(partial, KpiCounters):
                parts = key.split("|")
                yield parts[1], date.fromisoformat(parts[2]), partial

    def timelines(self, kind: str) -> Iterator[tuple[str, Timeline]]:
        """``(entity id, timeline)`` of one kind: lead, deal, customer, quota or objective."""
        prefix = kind + "|"
        for key, partial in self.partials.items():
            if key.startswith(prefix) and isinstance(partial, Timeline):
                yield key[len(prefix) :], partial


def fold(events: Iterable[Envelope], tz: str) -> KpiBook:
    """The book of a whole history (what a replay computes)."""
    return merge_partials(((key, part) for event in events for key, part in contributions(event, tz)), tz)


def merge_partials(partials: Iterable[tuple[str, Partial]], tz: str) -> KpiBook:
    """Merge partials (from any partitions, in any order) into one book."""
    merged: dict[str, Partial] = {}
    for key, partial in partials:
        current = merged.get(key)
        merged[key] = partial if current is None else merge(current, partial)
    return KpiBook(tz, merged)
