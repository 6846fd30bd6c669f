"""A team's review of a period: objectives and attainment, KPIs, flags raised and cleared, coaching.

What a manager reads before the one-to-ones: the team's objectives for exactly this period with
their attainment (`projections.kpi_targets`), its quotas, the team's coaching KPIs from the same
report, the weak-area flags of its reps compared with the previous period's (raised: new this
period; cleared: flagged last period and not now; open: both), and every training and coaching
session its reps had in the period. Pure: the answers layer writes it as JSON or Markdown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from projections import org
from projections.coaching import Deals, kpi_names
from projections.coaching_flags import Check, flags_of, team_checks, team_in
from projections.development import Development, Enablement, roles_of
from projections.kpi_records import ObjectiveTarget
from projections.kpi_scope import KpiValue, Membership, Scope, Window
from projections.kpis import report_of
from sales.coaching import CoachingRules


@dataclass(frozen=True, slots=True)
class Objective:
    """An objective set for the team and period: its KPI and attainment, whose numerator is the
    actual and denominator the target (in the KPI's own unit)."""

    objective_id: str
    kpi: str
    attainment: KpiValue


@dataclass(frozen=True, slots=True)
class Review:
    team_id: str
    period: str
    previous_period: str | None
    reps: tuple[str, ...]
    objectives: tuple[Objective, ...]
    quotas: Mapping[str, KpiValue]
    kpis: Mapping[str, KpiValue]
    raised: tuple[Check, ...]
    cleared: tuple[Check, ...]
    still_open: tuple[Check, ...]
    coaching: tuple[tuple[str, Enablement], ...]
    """(rep id, training or session) in the period, in time order."""


def review(
    deals: Deals,
    state: org.OrgState,
    membership: Membership,
    rules: CoachingRules,
    developments: Mapping[str, Development],
    team_id: str,
    period: str,
    previous: str | None,
) -> Review:
    """The review of ``team_id`` for ``period`` against ``previous`` (the period before it)."""
    window = Window.of(period, deals.prepared.book.tz)
    reps = tuple(rep for rep in sorted(state.reps) if team_in(state, rep, window) == team_id)
    report = report_of(deals.prepared, Scope("team", team_id), period, membership)
    roles = roles_of(developments)
    now = {(c.rep_id, c.kpi): c for c in flags_of(team_checks(deals, state, roles, rules, period, reps))}
    then = {} if previous is None else _flags_then(deals, state, roles, rules, team_id, previous)
    coaching = sorted(
        (
            (rep, record)
            for rep in reps
            for record in developments.get(rep, Development()).enablement
            if window.holds(record.at)
        ),
        key=lambda pair: (pair[1].at, pair[1].event_id),
    )
    return Review(
        team_id,
        period,
        previous,
        reps,
        _objectives(deals, report),
        {key: value for key, value in report.items() if key.startswith("quota")},
        {key: report[key] for key in _report_keys(deals) if key in report},
        tuple(c for key, c in now.items() if key not in then),
        tuple(c for key, c in then.items() if key not in now),
        tuple(c for key, c in now.items() if key in then),
        tuple(coaching),
    )


def _flags_then(
    deals: Deals,
    state: org.OrgState,
    roles: Mapping[str, str | None],
    rules: CoachingRules,
    team_id: str,
    previous: str,
) -> dict[tuple[str, str], Check]:
    """The flags of the team's reps of the previous period (those then in the team)."""
    window = Window.of(previous, deals.prepared.book.tz)
    reps = tuple(rep for rep in sorted(state.reps) if team_in(state, rep, window) == team_id)
    checks = flags_of(team_checks(deals, state, roles, rules, previous, reps))
    return {(c.rep_id, c.kpi): c for c in checks if c.team_id == team_id}


def _report_keys(deals: Deals) -> tuple[str, ...]:
    """The team's KPIs a review shows: the coaching KPIs the report has, and the deal totals."""
    coaching = tuple(name for name in kpi_names(deals.prepared.process) if name != "activities_per_day")
    return ("deals_won", "deals_lost", "new_leads", "lead_to_opportunity_rate", *coaching)


def _objectives(deals: Deals, report: Mapping[str, KpiValue]) -> tuple[Objective, ...]:
    targets = {}
    for objective_id, timeline in deals.prepared.book.timelines("objective"):
        revisions: tuple[ObjectiveTarget, ...] = timeline.of(ObjectiveTarget)
        if revisions:
            targets[objective_id] = revisions[-1]
    found = []
    for key, value in report.items():
        if not key.startswith("objective_attainment."):
            continue
        objective_id = key.removeprefix("objective_attainment.")
        found.append(Objective(objective_id, targets[objective_id].kpi, value))
    return tuple(found)
