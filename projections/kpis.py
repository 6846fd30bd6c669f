"""KPIs of a rep, team, territory or the organisation over a day, week, month, quarter or year.

Facts are folded into mergeable partials (`projections.kpi_fold`): activity counters per rep and
local day, and per-entity timelines for leads, deals, customers, quotas and objectives. Every KPI
is computed here, at query time, from the merged partials: facts are attributed to the period in
which they *happened* (in the organisation's time zone) and to the scope their rep belonged to on
that day, so a late event updates the period it belongs to. Definitions, edge cases and worked
examples: ``docs/kpis.md``.

Synopsis::

    book = fold(events, "Europe/Berlin")
    report = kpi_report(book, Scope("team", "team-emea-mm"), "2026-Q4", membership, process)
    report["win_rate"].value  # Decimal('25.0000'), or None when no deal was decided
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from projections.kpi_conversion import lead_kpis, stage_conversion_kpis
from projections.kpi_counters import KpiCounters
from projections.kpi_customers import (
    Sales,
    repeat_sales,
    repeat_sales_kpis,
    retention_kpis,
    revenue_per_sale_kpis,
)
from projections.kpi_deal_path import DealPath, trace
from projections.kpi_deals import booked_kpis, decided_kpis
from projections.kpi_fold import KpiBook, contributions, evolve, fold, merge_partials
from projections.kpi_forecast import forecast_kpis
from projections.kpi_objections import objection_kpis
from projections.kpi_records import Timeline
from projections.kpi_scope import (
    Includes,
    KpiValue,
    Membership,
    Scope,
    Unit,
    Window,
    count,
    scope_filter,
)
from projections.kpi_targets import objective_kpis, quota_kpis
from sales.process import ProcessConfig

__all__ = [
    "KpiBook",
    "KpiCounters",
    "KpiValue",
    "Membership",
    "PreparedBook",
    "Scope",
    "contributions",
    "evolve",
    "fold",
    "kpi_report",
    "merge_partials",
    "prepare",
    "report_of",
]

ACTIVITY_UNITS: Mapping[str, Unit] = {
    "talk_seconds": "seconds",
    "meeting_seconds": "seconds",
    "research_minutes": "minutes",
}


def kpi_report(
    book: KpiBook,
    scope: Scope,
    period: str | tuple[date, date],
    membership: Membership,
    process: ProcessConfig,
) -> dict[str, KpiValue]:
    """Every KPI of ``scope`` over ``period`` (a period key such as ``2026-Q4``, or first and last
    local day for a custom period), keyed as in docs/kpis.md and sorted by key.

    ``process`` gives the stages (per-stage conversion), their probabilities and commit stages
    (forecast).
    """
    return report_of(prepare(book, process), scope, period, membership)


@dataclass(frozen=True)
class PreparedBook:
    """A book with what every scope's report needs worked out once: each deal's path (the costly
    part), the customers' timelines. Reports of many reps over one book share it."""

    book: KpiBook
    process: ProcessConfig
    paths: tuple[DealPath, ...]
    customers: tuple[Timeline, ...]
    _by_rep: dict[str, tuple[list[DealPath], list[tuple[str, date, KpiCounters]]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def of_rep(self, rep_id: str) -> tuple[list[DealPath], list[tuple[str, date, KpiCounters]]]:
        """The paths whose closes name ``rep_id`` (as owner or in a credit split) and the rep's
        activity counters: all a one-rep report can count, indexed on the first call (a payout
        run asks for hundreds of reps over one book)."""
        if not self._by_rep:
            index: dict[str, tuple[list[DealPath], list[tuple[str, date, KpiCounters]]]] = {}
            for path in self.paths:
                named = {close.owner for close in path.closes}
                named.update(rep for close in path.closes for rep, _ in close.record.splits)
                for rep in named:
                    index.setdefault(rep, ([], []))[0].append(path)
            for counters in self.book.activity():
                index.setdefault(counters[0], ([], []))[1].append(counters)
            self._by_rep.update(index)
        return self._by_rep.get(rep_id, ([], []))


def prepare_for_rep(book: KpiBook, process: ProcessConfig, rep_id: str) -> PreparedBook:
    """A book prepared for one rep's report only: just the deals some record of which names the
    rep (as owner, closer or in a credit split) are traced. A one-rep report never counts a deal
    that does not name the rep, so it equals the report over `prepare` (tested), for a fraction
    of the work when one statement is asked for."""
    paths = tuple(
        trace(deal_id, timeline, process)
        for deal_id, timeline in book.timelines("deal")
        if _names(timeline, rep_id)
    )
    return PreparedBook(book, process, paths, tuple(timeline for _, timeline in book.timelines("customer")))


def _names(timeline: Timeline, rep_id: str) -> bool:
    for record in timeline.records:
        if getattr(record, "rep_id", None) == rep_id:
            return True
        if any(rep == rep_id for rep, _ in getattr(record, "splits", ())):
            return True
    return False


def prepare(book: KpiBook, process: ProcessConfig) -> PreparedBook:
    paths = tuple(trace(deal_id, timeline, process) for deal_id, timeline in book.timelines("deal"))
    return PreparedBook(book, process, paths, tuple(timeline for _, timeline in book.timelines("customer")))


def report_of(
    prepared: PreparedBook, scope: Scope, period: str | tuple[date, date], membership: Membership
) -> dict[str, KpiValue]:
    """`kpi_report` over a prepared book."""
    book, process, paths, customers = prepared.book, prepared.process, prepared.paths, prepared.customers
    window = Window.of(period, book.tz)
    includes = scope_filter(scope, membership)
    sales = repeat_sales(customers, window, includes)
    report = activity_kpis(book.activity(), window, includes)
    report |= lead_kpis((timeline for _, timeline in book.timelines("lead")), window, includes)
    report |= stage_conversion_kpis(paths, window, includes, process)
    report |= booked_kpis(paths, window, includes)
    report |= decided_kpis(paths, window, includes)
    report |= objection_kpis((timeline for _, timeline in book.timelines("deal")), window, includes)
    report |= retention_kpis(customers, window, includes)
    report |= repeat_sales_kpis(sales)
    report |= revenue_per_sale_kpis(report, sales)
    report |= forecast_kpis(paths, window, includes, process, report)
    quotas = (timeline for _, timeline in book.timelines("quota"))
    report |= quota_kpis(quotas, scope, window, measured_by_quota_metric(report, sales))
    report |= objective_kpis(book.timelines("objective"), scope, window, report)
    return dict(sorted(report.items()))


def activity_kpis(
    counters: Iterable[tuple[str, date, KpiCounters]], window: Window, includes: Includes
) -> dict[str, KpiValue]:
    """Activity counters of the scope summed over the days of the period."""
    total = KpiCounters()
    for rep_id, day, partial in counters:
        if window.holds_day(day) and includes(rep_id, day):
            total = total.merge(partial)
    return {name: count(value, ACTIVITY_UNITS.get(name, "count")) for name, value in total.to_dict().items()}


def measured_by_quota_metric(
    report: Mapping[str, KpiValue], sales: Mapping[str, Sales]
) -> dict[str, dict[str, Decimal]]:
    """What each quota metric measures, per currency (metrics that cannot be measured are absent)."""
    bookings: dict[str, Decimal] = {
        value.currency: value.numerator or Decimal(0)
        for key, value in report.items()
        if key.startswith("credited_revenue.") and value.currency
    }
    revenue: defaultdict[str, Decimal] = defaultdict(Decimal, bookings)
    for kind in sales.values():
        for currency, amount in kind.amount.items():
            revenue[currency] += amount
    return {"bookings": bookings, "revenue": dict(revenue)}
