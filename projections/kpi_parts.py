"""The names a KPI report has, and one KPI computed from the part of the report that yields it.

A leaderboard ranks every rep or team by one KPI: computing each one's whole report
(`projections.kpis.report_of`) to read one value cost seconds per request. Most KPIs come from one
part of the report (the activity counters, the leads, the won deals, ...); `kpi_value` computes
only that part, and the whole report for the KPIs that read others (revenue per sale, forecast,
quota and objective attainment). Its value equals the whole report's (tested for every key).

Names (docs/kpis.md): the fixed names below, and families ``<name>.<suffix>``: money KPIs take an
ISO 4217 currency (``won_revenue.EUR``), ``new_leads.<lead source>``,
``stage_conversion.<stage of the process>``, ``objections.<category>`` and
``objection_resolution_rate.<category>``, ``quota.<metric>.<currency>`` and
``quota_attainment.<metric>.<currency>``, ``objective_attainment.<objective id>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Literal

from events.money import ISO_4217_CODES
from events.objectives import QuotaMetric
from events.presentation import ObjectionCategory
from events.prospecting import LeadSource
from projections.kpi_conversion import lead_kpis, stage_conversion_kpis
from projections.kpi_counters import KpiCounters
from projections.kpi_customers import repeat_sales, repeat_sales_kpis, retention_kpis
from projections.kpi_deals import booked_kpis, decided_kpis
from projections.kpi_forecast import forecast_kpis
from projections.kpi_objections import objection_kpis
from projections.kpi_scope import KpiValue, Membership, Scope, Window, scope_filter
from projections.kpis import PreparedBook, activity_kpis, report_of
from sales.process import ProcessConfig

Part = Literal[
    "activity",
    "leads",
    "stages",
    "booked",
    "decided",
    "objections",
    "retention",
    "sales",
    "forecast",
    "report",
]

FIXED: Mapping[str, Part] = {
    **{name: "activity" for name in KpiCounters().to_dict()},
    "new_leads": "leads",
    "lead_to_opportunity_rate": "leads",
    "deals_won": "booked",
    "win_rate": "decided",
    "deals_lost": "decided",
    "sales_cycle_days": "decided",
    "objections": "objections",
    "objection_resolution_rate": "objections",
    "customers_start": "retention",
    "customers_end": "retention",
    "new_customers": "retention",
    "customers_lost": "retention",
    "retention_rate": "retention",
    "renewals": "sales",
    "expansions": "sales",
    "quota_attainment": "report",
}
"""KPI names without a suffix, and the part of the report that gives each."""

MONEY: Mapping[str, Part] = {
    "won_revenue": "booked",
    "average_deal_size": "booked",
    "credited_revenue": "booked",
    "renewal_revenue": "sales",
    "expansion_revenue": "sales",
    "revenue_per_sale": "report",
    "forecast_weighted": "forecast",
    "forecast_committed": "forecast",
    "forecast_won": "forecast",
}
"""Money KPIs, named ``<name>.<ISO 4217 currency>``."""

FAMILIES = (
    "new_leads.<lead source>",
    "stage_conversion.<stage>",
    "objections.<category>",
    "objection_resolution_rate.<category>",
    "quota.<metric>.<currency>",
    "quota_attainment.<metric>.<currency>",
    "objective_attainment.<objective id>",
)
VALID_NAMES = (
    f"{', '.join(sorted(FIXED))}; {', '.join(f'{name}.<currency>' for name in MONEY)}; "
    f"{', '.join(FAMILIES)} (docs/kpis.md)"
)
"""The valid KPI names, as a refusal lists them."""


def kpi_part(name: str, process: ProcessConfig) -> Part | None:
    """The part of the KPI report that gives KPI ``name``; None when no report has that name."""
    if name in FIXED:
        return FIXED[name]
    family, _, suffix = name.partition(".")
    if not suffix:
        return None
    if family in MONEY:
        return MONEY[family] if suffix in ISO_4217_CODES else None
    if family == "new_leads":
        return "leads" if suffix in {source.value for source in LeadSource} else None
    if family == "stage_conversion":
        return "stages" if suffix in process.stage_names else None
    if family in ("objections", "objection_resolution_rate"):
        return "objections" if suffix in {category.value for category in ObjectionCategory} else None
    if family in ("quota", "quota_attainment"):
        metric, _, currency = suffix.partition(".")
        known = metric in {m.value for m in QuotaMetric} and currency in ISO_4217_CODES
        return "report" if known else None
    if family == "objective_attainment":
        return "report"
    return None


def kpi_value(
    prepared: PreparedBook,
    scope: Scope,
    period: str | tuple[date, date],
    membership: Membership,
    name: str,
) -> KpiValue | None:
    """KPI ``name`` of ``scope`` over ``period``: `report_of`'s value (None where the report has
    no such key, as for a currency nobody sold in), from the one part of the report that gives it."""
    part = kpi_part(name, prepared.process)
    if part is None:
        return None
    if part == "report":
        return report_of(prepared, scope, period, membership).get(name)
    book, process = prepared.book, prepared.process
    window, includes = Window.of(period, book.tz), scope_filter(scope, membership)
    if scope.kind == "rep" and scope.id is not None:
        closed, activity = prepared.of_rep(scope.id)  # the deals whose closes name the rep
    else:
        closed, activity = list(prepared.paths), list(book.activity())
    report: dict[str, KpiValue]
    if part == "activity":
        report = activity_kpis(activity, window, includes)
    elif part == "leads":
        report = lead_kpis((timeline for _, timeline in book.timelines("lead")), window, includes)
    elif part == "stages":
        report = stage_conversion_kpis(prepared.paths, window, includes, process)
    elif part == "booked":
        report = booked_kpis(closed, window, includes)
    elif part == "decided":
        report = decided_kpis(closed, window, includes)
    elif part == "objections":
        report = objection_kpis((timeline for _, timeline in book.timelines("deal")), window, includes)
    elif part == "retention":
        report = retention_kpis(prepared.customers, window, includes)
    elif part == "sales":
        report = repeat_sales_kpis(repeat_sales(prepared.customers, window, includes))
    else:  # forecast: the open deals by owner, and what was credited
        booked = booked_kpis(closed, window, includes)
        report = forecast_kpis(prepared.paths, window, includes, process, booked)
    return report.get(name)
