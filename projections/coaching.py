"""The numbers coaching looks at, measured with their sample and the events behind them.

A weak-area flag or a before/after is only as good as the figure it names, so each figure here is
a `Measure`: the exact value, its sample size (the denominator that says how much data is behind
it) and the ids of the events it counts. The figures walk the same records with the same tests as
the KPI report (`projections.kpi_conversion`, `kpi_deals`, `kpi_objections`; a test checks they
agree), so a flag's number is the number the KPI endpoint answers.

Measured (docs/coaching.md has each formula):

- ``stage_conversion.<stage>``: deals that first entered the stage in the window and later moved
  on or were won, over those that entered (sample: entered). Events: each entry and what moved it on.
- ``win_rate``: won over decided, each deal's last close in the window (sample: decided).
- ``sales_cycle_days``: mean local days from opening to the win (sample: won deals with a known
  opening); lower is better.
- ``objection_resolution_rate``: resolved over raised, of objections raised in the window
  (sample: raised).
- ``activities_per_day``: calls, emails sent, meetings and social touches over the rep's active
  days in the window (days with at least one; sample: those days). Activity counters keep no
  event ids (one counter per rep and day), so this figure lists none.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Context, Decimal
from fractions import Fraction

from projections.kpi_deal_path import DealPath
from projections.kpi_records import FactRecorded, ObjectionAnswered, Timeline
from projections.kpi_scope import Includes, Window
from projections.kpis import PreparedBook
from projections.periods import day_period_key, period_days, period_kind
from sales.process import ProcessConfig

ACTIVITIES = ("calls", "emails_sent", "meetings", "social_touches")
"""The activity counters that make a rep's activity level."""
LOWER_IS_BETTER = frozenset({"sales_cycle_days"})
RELATIVE = frozenset({"sales_cycle_days", "activities_per_day"})
"""KPIs compared by a relative margin (they are not fractions of 1)."""


@dataclass(frozen=True, slots=True)
class Measure:
    """A KPI's exact value (None: no sample), its sample size and the events it counts."""

    kpi: str
    value: Fraction | None
    numerator: Fraction
    sample: int
    event_ids: tuple[str, ...] = ()


def measure(kpi: str, numerator: Fraction | int, sample: int, event_ids: Iterable[str] = ()) -> Measure:
    value = None if sample == 0 else Fraction(numerator) / sample
    return Measure(kpi, value, Fraction(numerator), sample, tuple(sorted(set(event_ids))))


def kpi_names(process: ProcessConfig) -> tuple[str, ...]:
    """Every KPI coaching measures, in the order answers list them."""
    stages = tuple(f"stage_conversion.{stage}" for stage in process.stage_names)
    return (*stages, "activities_per_day", "win_rate", "sales_cycle_days", "objection_resolution_rate")


@dataclass(frozen=True)
class Deals:
    """The prepared book's deal paths with each deal's timeline, to name events behind entries."""

    prepared: PreparedBook
    timelines: Mapping[str, Timeline] = field(default_factory=dict)

    @classmethod
    def of(cls, prepared: PreparedBook) -> Deals:
        return cls(prepared, dict(prepared.book.timelines("deal")))


def measures(deals: Deals, window: Window, includes: Includes) -> dict[str, Measure]:
    """Every coaching KPI of the facts ``includes`` admits in ``window`` (a rep's, or a group's)."""
    found = stage_measures(deals, window, includes)
    found |= decided_measures(deals.prepared.paths, window, includes)
    found["objection_resolution_rate"] = objection_measure(deals.timelines.values(), window, includes)
    found["activities_per_day"] = activity_measure(deals.prepared, window, includes)
    return {name: found[name] for name in kpi_names(deals.prepared.process)}


def stage_measures(deals: Deals, window: Window, includes: Includes) -> dict[str, Measure]:
    """`kpi_conversion.stage_conversion_kpis`, with the events behind each entry and advance."""
    process = deals.prepared.process
    entered = {stage: 0 for stage in process.stage_names}
    advanced = {stage: 0 for stage in process.stage_names}
    ids: dict[str, list[str]] = {stage: [] for stage in process.stage_names}
    for path in deals.prepared.paths:
        seen: set[str] = set()
        for entry in path.entries:
            if entry.stage in seen:
                continue
            seen.add(entry.stage)
            if entry.stage not in entered or not window.holds(entry.at):
                continue
            if not includes(entry.owner, window.day(entry.at)):
                continue
            entered[entry.stage] += 1
            timeline = deals.timelines.get(path.deal_id, Timeline())
            ids[entry.stage] += _events_at(timeline, entry.at)
            onward = _moved_on(path, entry.stage, entry.at, process)
            if onward is not None:
                advanced[entry.stage] += 1
                ids[entry.stage] += _events_at(timeline, onward)
    return {
        f"stage_conversion.{stage}": measure(
            f"stage_conversion.{stage}", advanced[stage], entered[stage], ids[stage]
        )
        for stage in process.stage_names
    }


def _events_at(timeline: Timeline, at: datetime) -> list[str]:
    """The deal's events at one instant that can move it: its opening, a move, a fact, a close."""
    return [r.event_id for r in timeline.records if r.at == at and not isinstance(r, ObjectionAnswered)]


def _moved_on(path: DealPath, stage: str, since: datetime, process: ProcessConfig) -> datetime | None:
    """When the deal first entered a later stage or was won after entering ``stage`` (None: never)."""
    here = process.position(stage)
    if here is None:
        return None
    later = [e.at for e in path.entries if e.at >= since and _beyond(process.position(e.stage), here)]
    later += [c.record.at for c in path.closes if c.record.won and c.record.at >= since]
    return min(later) if later else None


def _beyond(position: int | None, here: int) -> bool:
    return position is not None and position > here


def decided_measures(paths: Iterable[DealPath], window: Window, includes: Includes) -> dict[str, Measure]:
    """`kpi_deals.decided_kpis`: win rate and the sales cycle of the deals won, with their events."""
    won = decided = cycle_deals = cycle_days = 0
    decided_ids: list[str] = []
    cycle_ids: list[str] = []
    for path in paths:
        closes = [close for close in path.closes if window.holds(close.record.at)]
        if not closes or not includes(closes[-1].owner, window.day(closes[-1].record.at)):
            continue
        close = closes[-1]
        decided += 1
        decided_ids.append(close.record.event_id)
        if not close.record.won:
            continue
        won += 1
        if path.opened_at is not None:
            cycle_deals += 1
            cycle_days += (window.day(close.record.at) - window.day(path.opened_at)).days
            cycle_ids.append(close.record.event_id)
    return {
        "win_rate": measure("win_rate", won, decided, decided_ids),
        "sales_cycle_days": measure("sales_cycle_days", cycle_days, cycle_deals, cycle_ids),
    }


def objection_measure(deals: Iterable[Timeline], window: Window, includes: Includes) -> Measure:
    """`kpi_objections.objection_kpis`' resolution rate, with each raise and its resolution."""
    raised = resolved = 0
    ids: list[str] = []
    for timeline in deals:
        answers: dict[str, str] = {}
        for answer in timeline.of(ObjectionAnswered):
            answers.setdefault(answer.objection_id, answer.event_id)
        first: dict[str, FactRecorded] = {}
        for record in timeline.of(FactRecorded):
            if record.objection_id is not None:
                first.setdefault(record.objection_id, record)
        for objection_id, record in first.items():
            if window.holds(record.at) and includes(record.rep_id, window.day(record.at)):
                raised += 1
                ids.append(record.event_id)
                if objection_id in answers:
                    resolved += 1
                    ids.append(answers[objection_id])
    return measure("objection_resolution_rate", resolved, raised, ids)


def activity_measure(prepared: PreparedBook, window: Window, includes: Includes) -> Measure:
    """Activities (`ACTIVITIES`) per active day: the sample is the (rep, local day) pairs with at
    least one activity. Days without any (leave, a manager's admin day) neither count nor dilute."""
    by_day: dict[tuple[str, date], int] = {}
    for rep_id, day, counters in prepared.book.activity():
        if window.holds_day(day) and includes(rep_id, day):
            counts = counters.to_dict()
            by_day[rep_id, day] = by_day.get((rep_id, day), 0) + sum(counts[name] for name in ACTIVITIES)
    active = [total for total in by_day.values() if total > 0]
    return measure("activities_per_day", sum(active), len(active))


def days_of(window: Window) -> Iterable[date]:
    day = window.first
    while day <= window.last:
        yield day
        day += timedelta(days=1)


# -- statistics of peers' values --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Spread:
    """The peers' median and interquartile range (first and third quartiles)."""

    median: Fraction
    q1: Fraction
    q3: Fraction
    peers: int


def spread_of(values: Iterable[Fraction]) -> Spread | None:
    """Median and quartiles (the inclusive method: linear interpolation between the sorted values,
    as a spreadsheet's QUARTILE.INC); None without values. One value is its own quartiles."""
    ordered = sorted(values)
    if not ordered:
        return None
    if len(ordered) == 1:
        return Spread(ordered[0], ordered[0], ordered[0], 1)
    q1, median, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    return Spread(Fraction(median), Fraction(q1), Fraction(q3), len(ordered))


def previous_periods(period: str, count: int) -> tuple[str, ...]:
    """The ``count`` periods of the same kind before ``period``, latest first (``2026-Q4`` ->
    ``2026-Q3``, ``2026-Q2``); fewer when they would start before the first year periods have."""
    kind, found = period_kind(period), []
    first = period_days(period)[0]
    for _ in range(count):
        try:
            key = day_period_key(kind, first - timedelta(days=1))
            first = period_days(key)[0]
        except (ValueError, OverflowError):
            break
        found.append(key)
    return tuple(found)


def wilson_upper(successes: Fraction, trials: int, z: Fraction) -> Fraction:
    """The upper end of the Wilson score interval of ``successes`` out of ``trials`` at ``z``
    standard deviations (1.96: 95 %): the highest rate the sample is still plausible under. A small
    sample's upper end is far above its value, so a few unlucky deals do not make a weak area."""
    n, p = Fraction(trials), successes / trials
    z2 = z * z
    centre = p + z2 / (2 * n)
    spread = p * (1 - p) / n + z2 / (4 * n * n)
    context = Context(prec=28)
    root = context.divide(Decimal(spread.numerator), Decimal(spread.denominator)).sqrt(context)
    return (centre + z * Fraction(root)) / (1 + z2 / n)
