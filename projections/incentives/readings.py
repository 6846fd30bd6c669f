"""KPI readings for KPI bonuses, taken from the KPI report of the rep and period (docs/kpis.md).

A plan's KPI bonus names a KPI of the catalogue (`events.objectives.Kpi`); the KPI report keys its
values its own way. This module is the one map between the two, so a bonus reads exactly the
number the rep sees on `GET /v1/kpis?scope=rep&id=...&period=...`:

=====================  ===========================================  =========================
plan KPI               report key                                   observations
=====================  ===========================================  =========================
revenue                ``won_revenue.<plan currency>``              deals won
deals_won              ``deals_won``                                deals won
average_deal_size      ``average_deal_size.<plan currency>``        deals won
win_rate               ``win_rate``                                 deals won + lost
conversion_rate        ``lead_to_opportunity_rate``                 leads decided
retention_rate         ``retention_rate``                           customers at the start
sales_cycle_days       ``sales_cycle_days``                         deals closed
calls, meetings        ``calls``, ``meetings``                      the count itself
leads_captured         ``new_leads``                                the count itself
research_minutes       ``research_minutes``                         the count itself
=====================  ===========================================  =========================

A KPI the report leaves undefined (no deal decided, say) gives no reading: its bonus explains a
zero line. Weighted pipeline and quota attainment are not read here yet (no reading: zero line).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from projections.incentives.lines import KpiReading
from projections.kpi_conversion import lead_kpis
from projections.kpi_deals import booked_kpis, decided_kpis
from projections.kpi_scope import KpiValue, Membership, Scope, Window, scope_filter
from projections.kpis import PreparedBook, activity_kpis, report_of

REPORT_KEYS: Mapping[str, str] = {
    "revenue": "won_revenue.{currency}",
    "deals_won": "deals_won",
    "average_deal_size": "average_deal_size.{currency}",
    "win_rate": "win_rate",
    "conversion_rate": "lead_to_opportunity_rate",
    "retention_rate": "retention_rate",
    "sales_cycle_days": "sales_cycle_days",
    "calls": "calls",
    "meetings": "meetings",
    "leads_captured": "new_leads",
    "research_minutes": "research_minutes",
}
"""Plan KPI name -> KPI report key (``{currency}``: the plan's)."""


def kpi_readings(report: Mapping[str, KpiValue], currency: str) -> dict[str, KpiReading]:
    """The readings a plan paying in ``currency`` can use, keyed by plan KPI name."""
    readings = {}
    for kpi, key in REPORT_KEYS.items():
        value = report.get(key.format(currency=currency))
        if value is None or value.value is None:
            continue
        observations = _observations(kpi, value, report)
        readings[kpi] = KpiReading(value.value, observations, value.currency)
    return readings


def _observations(kpi: str, value: KpiValue, report: Mapping[str, KpiValue]) -> int | None:
    if kpi in ("revenue", "average_deal_size", "deals_won"):
        won = report.get("deals_won")
        return None if won is None or won.value is None else int(won.value)
    if value.denominator is not None:
        return int(value.denominator)
    return int(value.value) if value.value is not None and value.value == value.value.to_integral() else None


CHEAP_PARTS: Mapping[str, str] = {
    "deals_won": "booked",
    "win_rate": "decided",
    "sales_cycle_days": "decided",
    "conversion_rate": "leads",
    "leads_captured": "leads",
    "calls": "activity",
    "meetings": "activity",
    "research_minutes": "activity",
}
"""Plan KPIs one part of the KPI report gives on its own (the others need the whole report)."""


def bonus_report(
    prepared: PreparedBook,
    scope: Scope,
    period: str,
    membership: Membership,
    wanted: Iterable[str],
) -> Mapping[str, KpiValue]:
    """The part of the KPI report that ``wanted`` KPIs read: the same values as `report_of`, for a
    fraction of the work when each comes from one part (a payout run reads one per rep)."""
    parts = {CHEAP_PARTS.get(kpi) for kpi in wanted}
    if None in parts:
        return report_of(prepared, scope, period, membership)
    book = prepared.book
    window, includes = Window.of(period, book.tz), scope_filter(scope, membership)
    by_rep = scope.kind == "rep" and scope.id is not None
    paths, activity = prepared.of_rep(str(scope.id)) if by_rep else (prepared.paths, book.activity())
    report: dict[str, KpiValue] = {}
    if "booked" in parts:
        report |= booked_kpis(paths, window, includes)
    if "decided" in parts:
        report |= decided_kpis(paths, window, includes)
    if "leads" in parts:
        report |= lead_kpis((timeline for _, timeline in book.timelines("lead")), window, includes)
    if "activity" in parts:
        report |= activity_kpis(activity, window, includes)
    return report
