"""Weak areas: a rep's KPI of a period against their team's peers and their own previous periods.

For each rep and coaching KPI (`projections.coaching.kpi_names`) a `Check` compares the rep's value
with the median and interquartile range of their **peers**: the other reps of the rep's team in the
same role (`projections.development`: an SDR's activity is not an account executive's) with
enough data of their own (the rep is left out, so a weak rep does not drag down the bar they are
measured against). A check is a **flag** when, with at least ``min_deals`` (``min_days`` for
activity) behind the rep's value and at least ``min_peers`` peers:

- a ratio (stage conversion, win rate, objection resolution) is below median - ``ratio_margin``
  with confidence: the upper end of its Wilson score interval (``confidence_z``, 1.96: 95 %) is
  below that bar, so eight of twelve against the peers' eleven of twelve is not yet a flag;
- activity per day is below median x (1 - ``relative_margin``);
- the sales cycle is above median x (1 + ``relative_margin``) (longer is worse).

The rep's team is the one they were in on the last day of the period they were a member (a rep
who moved mid-period is measured against the team they ended it in); their value counts all their
own facts of the period. Thresholds come from the process file (`sales.coaching.CoachingRules`);
docs/coaching.md has the worked examples.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from fractions import Fraction

from projections import org
from projections.coaching import (
    LOWER_IS_BETTER,
    RELATIVE,
    Deals,
    Measure,
    Spread,
    days_of,
    measures,
    previous_periods,
    spread_of,
    wilson_upper,
)
from projections.kpi_scope import Scope, Window, scope_filter
from sales.coaching import CoachingRules


@dataclass(frozen=True, slots=True)
class Past:
    """The rep's value of a KPI in an earlier period."""

    period: str
    value: Fraction | None
    sample: int


@dataclass(frozen=True, slots=True)
class Check:
    """One KPI of one rep for one period, against the peers and the rep's own past."""

    rep_id: str
    team_id: str
    period: str
    kpi: str
    mine: Measure
    spread: Spread | None
    threshold: Fraction | None
    upper: Fraction | None
    """A ratio's upper confidence bound (the Wilson interval's upper end) compared with the bar."""
    flagged: bool
    why: str
    previous: tuple[Past, ...] = ()


def _nobody(rep_id: str, day: date) -> tuple[str | None, tuple[str, ...]]:
    return None, ()


def team_in(state: org.OrgState, rep_id: str, window: Window) -> str | None:
    """The rep's team on the last day of ``window`` they were in one (None: in no team then)."""
    for day in reversed(list(days_of(window))):
        team = org.team_of(state, rep_id, day)
        if team is not None:
            return team
    return None


def rep_measures(deals: Deals, rep_id: str, period: str | tuple[date, date]) -> dict[str, Measure]:
    """Every coaching KPI of one rep's own facts over ``period``."""
    window = Window.of(period, deals.prepared.book.tz)
    includes = scope_filter(Scope("rep", rep_id), _nobody)
    return measures(deals, window, includes)


def threshold_of(kpi: str, spread: Spread, rules: CoachingRules) -> Fraction:
    """The value past which a rep's KPI is weak, given the peers' spread."""
    if kpi in LOWER_IS_BETTER:
        return spread.median * (1 + Fraction(rules.relative_margin))
    if kpi in RELATIVE:
        return spread.median * (1 - Fraction(rules.relative_margin))
    return spread.median - Fraction(rules.ratio_margin)


def minimum(kpi: str, rules: CoachingRules) -> int:
    return rules.min_days if kpi == "activities_per_day" else rules.min_deals


def check(
    rep_id: str,
    team_id: str,
    period: str,
    mine: Measure,
    peers: Iterable[Measure],
    rules: CoachingRules,
) -> Check:
    """The rep's value of one KPI judged against the peers' values (those with enough data)."""
    least = minimum(mine.kpi, rules)
    spread = spread_of(m.value for m in peers if m.value is not None and m.sample >= least)
    if mine.value is None or mine.sample < least:
        return Check(
            rep_id, team_id, period, mine.kpi, mine, spread, None, None, False, f"sample below {least}"
        )
    if spread is None or spread.peers < rules.min_peers:
        return Check(
            rep_id, team_id, period, mine.kpi, mine, spread, None, None, False, "too few peers with data"
        )
    limit = threshold_of(mine.kpi, spread, rules)
    upper = None
    if mine.kpi in LOWER_IS_BETTER:
        weak = mine.value > limit
    elif mine.kpi in RELATIVE:
        weak = mine.value < limit
    else:
        upper = wilson_upper(mine.numerator, mine.sample, Fraction(rules.confidence_z))
        weak = upper < limit
    noisy = upper is not None and not weak and mine.value < limit
    why = "weak" if weak else ("below the bar, within the sample's noise" if noisy else "within range")
    return Check(rep_id, team_id, period, mine.kpi, mine, spread, limit, upper, weak, why)


def team_checks(
    deals: Deals,
    state: org.OrgState,
    roles: Mapping[str, str | None],
    rules: CoachingRules,
    period: str,
    reps: Iterable[str] | None = None,
) -> tuple[Check, ...]:
    """Every check of every rep (or of ``reps``) against the peers of their team and role over
    ``period``, each with the rep's previous periods; sorted by team, role, rep and KPI order."""
    window = Window.of(period, deals.prepared.book.tz)
    groups: dict[tuple[str, str], list[str]] = {}
    for rep_id in sorted(state.reps):
        team = team_in(state, rep_id, window)
        if team is not None:
            groups.setdefault((team, roles.get(rep_id) or ""), []).append(rep_id)
    asked = None if reps is None else set(reps)
    found: list[Check] = []
    for (team, _role), members in sorted(groups.items()):
        if asked is not None and not asked.intersection(members):
            continue
        figures = {rep_id: rep_measures(deals, rep_id, period) for rep_id in members}
        for rep_id in members:
            if asked is not None and rep_id not in asked:
                continue
            found += _rep_checks(deals, state, rules, period, team, rep_id, figures)
    return tuple(found)


def _rep_checks(
    deals: Deals,
    state: org.OrgState,
    rules: CoachingRules,
    period: str,
    team: str,
    rep_id: str,
    figures: Mapping[str, Mapping[str, Measure]],
) -> list[Check]:
    past = {key: rep_measures(deals, rep_id, key) for key in previous_periods(period, rules.history_periods)}
    checks = []
    for kpi, mine in figures[rep_id].items():
        peers = [figures[other][kpi] for other in figures if other != rep_id]
        one = check(rep_id, team, period, mine, peers, rules)
        previous = tuple(Past(key, values[kpi].value, values[kpi].sample) for key, values in past.items())
        checks.append(replace(one, previous=previous))
    return checks


def flags_of(checks: Iterable[Check]) -> tuple[Check, ...]:
    """The checks that are flags."""
    return tuple(one for one in checks if one.flagged)
