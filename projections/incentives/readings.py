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

from collections.abc import Mapping

from projections.incentives.lines import KpiReading
from projections.kpi_scope import KpiValue

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
