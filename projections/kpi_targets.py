"""Quota and objective attainment: what a scope achieved against what it was asked for.

**Which quota.** A quota counts for a report when it was assigned to exactly the scope asked (a
rep's quota for the rep, a team's for the team, a territory's for the territory: a team quota is
not the sum of its reps' quotas, and rep quotas do not roll up) and its period is exactly the
period asked (a Q4 quota is attained over Q4, not over November). Re-assigning a ``quota_id``
revises it: the latest revision by time (then event id) is the quota. Several quotas for the same
scope, period, metric and currency add up.

**Attainment** = credited amount / quota x 100, per metric and currency (no exchange rates: an
amount only counts toward a quota in its own currency). ``bookings`` measures credited won deals;
``revenue`` adds renewals and expansions credited to their reps; ``annual_recurring_revenue`` and
``gross_margin`` cannot be measured from the events yet, so their attainment is None, as is the
attainment of a zero quota. ``quota_attainment`` without suffix is given when the scope has quotas
in exactly one metric and currency.

**Objectives** (`ObjectiveSet`) are matched the same way (``company`` is the organisation scope);
attainment = actual / target x 100, or target / actual for KPIs where lower is better (sales cycle
days), None when either is missing or zero.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from decimal import Decimal

from events.objectives import LOWER_IS_BETTER, Kpi
from projections.kpi_records import ObjectiveTarget, QuotaSet, Timeline
from projections.kpi_scope import KpiValue, Scope, Window, money, ratio

OBJECTIVE_KEYS: Mapping[str, str] = {
    Kpi.REVENUE: "credited_revenue",
    Kpi.DEALS_WON: "deals_won",
    Kpi.AVERAGE_DEAL_SIZE: "average_deal_size",
    Kpi.WEIGHTED_PIPELINE: "forecast_weighted",
    Kpi.WIN_RATE: "win_rate",
    Kpi.CONVERSION_RATE: "lead_to_opportunity_rate",
    Kpi.RETENTION_RATE: "retention_rate",
    Kpi.QUOTA_ATTAINMENT: "quota_attainment",
    Kpi.SALES_CYCLE_DAYS: "sales_cycle_days",
    Kpi.CALLS: "calls",
    Kpi.MEETINGS: "meetings",
    Kpi.LEADS_CAPTURED: "new_leads",
    Kpi.RESEARCH_MINUTES: "research_minutes",
}
"""The report key each objective KPI is measured by (money KPIs add ``.<currency>``)."""
_ZERO_WHEN_ABSENT = frozenset({"credited_revenue", "forecast_weighted"})


def quota_kpis(
    quotas: Iterable[Timeline], scope: Scope, window: Window, measured: Mapping[str, Mapping[str, Decimal]]
) -> dict[str, KpiValue]:
    """``quota.<metric>.<currency>`` and ``quota_attainment.<metric>.<currency>`` of scope and period."""
    totals: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for timeline in quotas:
        revisions: tuple[QuotaSet, ...] = timeline.of(QuotaSet)
        quota = revisions[-1] if revisions else None
        if quota is not None and _quota_matches(quota, scope, window):
            totals[quota.metric, quota.currency] += quota.amount
    report: dict[str, KpiValue] = {}
    for (metric, currency), total in sorted(totals.items()):
        achieved = measured.get(metric)
        report[f"quota.{metric}.{currency}"] = money(total, currency)
        report[f"quota_attainment.{metric}.{currency}"] = (
            ratio(achieved.get(currency, Decimal(0)), total, currency=currency)
            if achieved is not None
            else KpiValue(None, "percent", None, total, currency)
        )
    if len(totals) == 1:
        (metric, currency), _ = next(iter(totals.items()))
        report["quota_attainment"] = report[f"quota_attainment.{metric}.{currency}"]
    return report


def _quota_matches(quota: QuotaSet, scope: Scope, window: Window) -> bool:
    same_scope = (quota.assignee, quota.assignee_id) == (scope.kind, scope.id)
    return same_scope and (quota.first, quota.last) == (window.first, window.last)


def objective_kpis(
    objectives: Iterable[tuple[str, Timeline]], scope: Scope, window: Window, report: Mapping[str, KpiValue]
) -> dict[str, KpiValue]:
    """``objective_attainment.<objective_id>`` for the objectives set for this scope and period."""
    attained: dict[str, KpiValue] = {}
    for objective_id, timeline in objectives:
        revisions: tuple[ObjectiveTarget, ...] = timeline.of(ObjectiveTarget)
        objective = revisions[-1] if revisions else None
        if objective is not None and _matches(objective, scope, window):
            attained[f"objective_attainment.{objective_id}"] = _attainment(objective, report)
    return attained


def _matches(objective: ObjectiveTarget, scope: Scope, window: Window) -> bool:
    if (objective.first, objective.last) != (window.first, window.last):
        return False
    if objective.scope == "company":
        return scope.kind == "org"
    return (objective.scope, objective.scope_id) == (scope.kind, scope.id)


def _attainment(objective: ObjectiveTarget, report: Mapping[str, KpiValue]) -> KpiValue:
    base = OBJECTIVE_KEYS[objective.kpi]
    key = f"{base}.{objective.currency}" if objective.currency else base
    measured = report.get(key)
    actual = measured.value if measured is not None else None
    if actual is None and base in _ZERO_WHEN_ABSENT:
        actual = Decimal(0)
    terms = measured.unit if measured is not None else ("money" if objective.currency else "count")
    if actual is None:
        return KpiValue(None, "percent", None, objective.target, objective.currency, terms)
    if objective.kpi in LOWER_IS_BETTER:
        attained = ratio(objective.target, actual, currency=objective.currency)
    else:
        attained = ratio(actual, objective.target, currency=objective.currency)
    return replace(attained, terms=terms)
