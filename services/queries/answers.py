"""Query answers as pure functions: merged read-model states in, response body out.

No I/O and no framework: the same functions answer a live query, a replay and a unit test. The
read models keep exact values; every number is written here, once, by the rule of docs/api.md
("Numbers", `projections.numbers`): counts as integers, ratios as 4-place fractions, money at its
currency's scale, durations as whole seconds in ``*_seconds`` fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from projections import funnel, kpi_fold, numbers, org, pipeline, rep_activity
from projections.kpi_parts import kpi_value
from projections.kpi_scope import Membership, Scope
from projections.kpis import kpi_report, prepare
from projections.periods import period_days
from sales.process import ProcessConfig
from services.queries.kpi_answers import api_kpi_name, kpi_answer, kpi_body


def membership_of(state: org.OrgState) -> Membership:
    """A rep's team and territories on a day, as the organisation history says."""
    return lambda rep, day: (org.team_of(state, rep, day), org.territories_of(state, rep, day))


def all_reps_activity(states: Iterable[tuple[str, rep_activity.RepActivity]]) -> dict[str, Any]:
    reps = rep_activity.merge_all(states)
    return {"reps": {rep: state.to_dict() for rep, state in sorted(reps.items())}}


def rep_activity_of(states: Iterable[tuple[str, rep_activity.RepActivity]], rep_id: str) -> dict[str, Any]:
    state = rep_activity.merge_all(states).get(rep_id, rep_activity.RepActivity())
    return {"rep_id": rep_id, **state.to_dict()}


def pipeline_of(
    parts: Iterable[pipeline.Part],
    state: org.OrgState,
    process: ProcessConfig,
    as_of: datetime,
    group_by: pipeline.GroupBy,
    stuck_after: timedelta,
) -> dict[str, Any]:
    """Open deals grouped by stage, rep, team or territory at ``as_of``, and the stuck ones."""
    deals = pipeline.deal_views(parts, process).values()
    return pipeline_answer(deals, state, process, as_of, group_by, stuck_after)


def pipeline_answer(
    deals: Iterable[pipeline.DealView],
    state: org.OrgState,
    process: ProcessConfig,
    as_of: datetime,
    group_by: pipeline.GroupBy,
    stuck_after: timedelta,
) -> dict[str, Any]:
    """`pipeline_of` from deal views: the live pipeline's, or those as of an event time
    (`projections.pipeline_as_of`)."""
    deals = list(deals)
    rows = pipeline.pipeline_summary(deals, state, process, as_of, group_by, stuck_after)
    stuck = pipeline.stuck_deals(deals, as_of, stuck_after)
    return {
        "as_of": as_of,
        "group_by": group_by,
        "rows": [pipeline_row(row) for row in rows],
        "stuck": [stuck_deal(deal) for deal in stuck],
    }


def pipeline_row(row: pipeline.PipelineRow) -> dict[str, Any]:
    """One (group, currency) row: amounts at the currency's scale, the mean time in stage in seconds."""
    average = row.average_time_in_stage
    return {
        "group": row.group,
        "currency": row.currency,
        "count": row.count,
        "value": numbers.money(row.value, row.currency),
        "weighted_value": numbers.money(row.weighted_value, row.currency),
        "average_time_in_stage_seconds": None if average is None else numbers.seconds(average),
        "stuck": row.stuck,
    }


def stuck_deal(deal: pipeline.StuckDeal) -> dict[str, Any]:
    return {
        "deal_id": deal.deal_id,
        "rep_id": deal.rep_id,
        "stage": deal.stage,
        "stage_entered_at": deal.stage_entered_at,
        "time_in_stage_seconds": numbers.seconds(deal.time_in_stage),
    }


def funnel_of(tracks: Iterable[funnel.Track], process: ProcessConfig) -> dict[str, Any]:
    """Per-stage conversion, skips and regressions, and lead-to-won conversion."""
    return funnel_body(funnel.funnel_report(funnel.total(tracks, process), process))


def funnel_body(report: funnel.FunnelReport) -> dict[str, Any]:
    """The funnel's counts as integers and its conversions as 4-place fractions (null: nobody to
    convert)."""
    return {
        "leads": report.leads,
        "qualified": report.qualified,
        "disqualified": report.disqualified,
        "won": report.won,
        "lost": report.lost,
        "reopened": report.reopened,
        "lead_to_qualified": _ratio(report.lead_to_qualified),
        "lead_to_won": _ratio(report.lead_to_won),
        "rows": [
            {
                "stage": row.stage,
                "entered": row.entered,
                "advanced": row.advanced,
                "skipped": row.skipped,
                "regressed": row.regressed,
                "lost": row.lost,
                "conversion": _ratio(row.conversion),
                "from_leads": _ratio(row.from_leads),
            }
            for row in report.rows
        ],
    }


def _ratio(value: Decimal | None) -> str | None:
    return None if value is None else numbers.ratio(value)


def kpis_of(
    book: kpi_fold.KpiBook, state: org.OrgState, process: ProcessConfig, scope: Scope, period: str
) -> dict[str, Any]:
    """Every KPI of one scope over one period (docs/kpis.md)."""
    values = kpi_report(book, scope, period, membership_of(state), process)
    return {"scope": scope.kind, "id": scope.id, "period": period, "kpis": kpi_body(values)}


def forecast_of(
    book: kpi_fold.KpiBook, state: org.OrgState, process: ProcessConfig, scope: Scope, period: str
) -> dict[str, Any]:
    """Weighted pipeline expected to close in the period, committed and won."""
    values = kpi_report(book, scope, period, membership_of(state), process)
    forecast = {k: v for k, v in values.items() if k.startswith("forecast_")}
    return {"scope": scope.kind, "id": scope.id, "period": period, "forecast": kpi_body(forecast)}


def leaderboard_of(
    book: kpi_fold.KpiBook, state: org.OrgState, process: ProcessConfig, kpi: str, by: str, period: str
) -> dict[str, Any]:
    """One KPI ranked across reps or teams: highest first, ties by id, undefined values last.

    Teams ranked are those any rep belonged to on the period's first or last day. Only ``kpi``
    is computed for each (`projections.kpi_parts.kpi_value`: the same value as the full report's).
    """
    first, last = period_days(period)
    prepared = prepare(book, process)  # the deals' paths once, not once per rep or team
    members = set(state.reps)
    ids = members if by == "rep" else {org.team_of(state, r, d) for r in members for d in (first, last)}
    ranking = []
    for scope_id in sorted(i for i in ids if i):
        scope = Scope("rep" if by == "rep" else "team", scope_id)
        value = kpi_value(prepared, scope, period, membership_of(state), kpi)
        ranking.append({"id": scope_id, **(kpi_answer(value) if value else {"value": None})})
    # Ranked by the value as answered, so two rows showing the same value are in id order.
    ranking.sort(key=lambda row: (row["value"] is None, -Decimal(row["value"] or 0), row["id"]))
    return {"kpi": api_kpi_name(kpi), "by": by, "period": period, "ranking": ranking}
