"""Query answers as pure functions: merged read-model states in, response body out.

No I/O and no framework: the same functions answer a live query, a replay and a unit test.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from projections import funnel, kpi_fold, org, pipeline, rep_activity
from projections.kpi_parts import kpi_value
from projections.kpi_scope import KpiValue, Membership, Scope
from projections.kpis import kpi_report, prepare
from projections.periods import period_days
from sales.process import ProcessConfig


def membership_of(state: org.OrgState) -> Membership:
    """A rep's team and territories on a day, as the organisation history says."""
    return lambda rep, day: (org.team_of(state, rep, day), org.territories_of(state, rep, day))


def kpi_body(values: Mapping[str, KpiValue]) -> dict[str, Any]:
    return {name: asdict(value) for name, value in values.items()}


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
        "rows": [asdict(row) for row in rows],
        "stuck": [asdict(deal) for deal in stuck],
    }


def funnel_of(tracks: Iterable[funnel.Track], process: ProcessConfig) -> dict[str, Any]:
    """Per-stage conversion, skips and regressions, and lead-to-won conversion."""
    return asdict(funnel.funnel_report(funnel.total(tracks, process), process))


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
        ranking.append({"id": scope_id, **(asdict(value) if value else {"value": None})})
    ranking.sort(key=lambda row: (row["value"] is None, -(row["value"] or 0), row["id"]))
    return {"kpi": kpi, "by": by, "period": period, "ranking": ranking}
