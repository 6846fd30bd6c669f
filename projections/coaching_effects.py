"""Did it help: the focused KPI in equal windows before and after a coaching session or training.

For a session held on local day *d* with a focus the process maps to a KPI
(`sales.coaching.CoachingRules.focus_kpis`; a training counts when its module is mapped to a
focus in ``training_focus``), the rep's KPI is measured over the ``window_days`` days before *d*
(*d* - W to *d* - 1) and the ``window_days`` days after it (*d* + 1 to *d* + W); the session's own
day is in neither. The rep's team on *d* (its other reps in the rep's role, pooled) is measured
over the same two windows as the baseline: what changed for everybody (a season, a price change)
is not the coaching.

This is an **observation, not causal proof**: a rep is coached because their numbers dropped, and
numbers that dropped tend to come back (regression to the mean); the windows hold few deals; other
sessions may fall inside them. A before/after whose samples are under ``min_deals`` is reported
with ``enough`` false.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from projections import org
from projections.coaching import Deals, Measure, kpi_names, measures
from projections.coaching_flags import minimum
from projections.development import Enablement
from projections.kpi_scope import Includes, Window
from projections.periods import local_day
from sales.coaching import CoachingRules


@dataclass(frozen=True, slots=True)
class Change:
    """One KPI over the window before and the window after, and the difference (after - before)."""

    before: Measure
    after: Measure

    @property
    def change(self) -> Fraction | None:
        if self.before.value is None or self.after.value is None:
            return None
        return self.after.value - self.before.value


@dataclass(frozen=True, slots=True)
class Effect:
    """The before/after of one coaching session or training with a focus."""

    rep_id: str
    session: Enablement
    focus: str
    kpi: str
    day: date
    before: tuple[date, date]
    after: tuple[date, date]
    rep: Change
    team_id: str | None
    team: Change | None
    enough: bool
    """Whether both of the rep's windows have at least the minimum sample."""


def focus_of(session: Enablement, rules: CoachingRules) -> str | None:
    """The session's focus area, or the training module's mapped one (None: no focus)."""
    if session.kind == "coaching":
        return session.focus
    return rules.training_focus.get(session.topic)


def effects_of(
    deals: Deals,
    state: org.OrgState,
    roles: Mapping[str, str | None],
    rules: CoachingRules,
    rep_id: str,
    sessions: Iterable[Enablement],
) -> tuple[Effect, ...]:
    """The before/after of each of ``sessions`` whose focus aims at a KPI, in time order."""
    found = []
    for session in sessions:
        focus = focus_of(session, rules)
        kpi = rules.focus_kpis.get(focus) if focus is not None else None
        if focus is None or kpi is None or kpi not in _measured(deals):
            continue
        found.append(effect_of(deals, state, roles, rules, rep_id, session, focus, kpi))
    return tuple(found)


def _measured(deals: Deals) -> frozenset[str]:
    return frozenset(kpi_names(deals.prepared.process))


def effect_of(
    deals: Deals,
    state: org.OrgState,
    roles: Mapping[str, str | None],
    rules: CoachingRules,
    rep_id: str,
    session: Enablement,
    focus: str,
    kpi: str,
) -> Effect:
    tz = deals.prepared.book.tz
    day = local_day(session.at, tz)
    span = timedelta(days=rules.window_days)
    before = (day - span, day - timedelta(days=1))
    after = (day + timedelta(days=1), day + span)
    mine = Change(_rep(deals, rep_id, before, kpi), _rep(deals, rep_id, after, kpi))
    team_id = org.team_of(state, rep_id, day)
    team = None
    if team_id is not None:
        peers = _peers(state, roles, rep_id, team_id)
        team = Change(_group(deals, peers, before, kpi), _group(deals, peers, after, kpi))
    least = minimum(kpi, rules)
    enough = mine.before.sample >= least and mine.after.sample >= least
    return Effect(rep_id, session, focus, kpi, day, before, after, mine, team_id, team, enough)


def _rep(deals: Deals, rep_id: str, days: tuple[date, date], kpi: str) -> Measure:
    window = Window.of(days, deals.prepared.book.tz)
    return measures(deals, window, lambda rep, day: rep == rep_id)[kpi]


def _peers(state: org.OrgState, roles: Mapping[str, str | None], rep_id: str, team_id: str) -> Includes:
    """The team's other reps of the rep's role, on the days they are in the team."""
    role = roles.get(rep_id)

    def in_team(rep: str | None, day: date) -> bool:
        if rep is None or rep == rep_id or roles.get(rep) != role:
            return False
        return org.team_of(state, rep, day) == team_id

    return in_team


def _group(deals: Deals, includes: Includes, days: tuple[date, date], kpi: str) -> Measure:
    """The peers' facts pooled over the window."""
    return measures(deals, Window.of(days, deals.prepared.book.tz), includes)[kpi]
