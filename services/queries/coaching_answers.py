"""Coaching answers as pure functions: weak-area checks, before/afters and reviews in, bodies out.

Every number is written once, here, by the rule of docs/api.md ("Numbers", `projections.numbers`):
ratios (stage conversion, win rate, objection resolution) as 4-place fractions, activity per day as
a 4-place decimal, the sales cycle in whole seconds under the name ``sales_cycle_seconds``, samples
and counts as integers. The Markdown review is written from the JSON body, so the two cannot differ.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

from projections import numbers
from projections.coaching import Measure
from projections.coaching_effects import Change, Effect
from projections.coaching_flags import Check, Past
from projections.coaching_reviews import Review
from projections.development import Enablement
from sales.coaching import CoachingRules
from services.queries.kpi_answers import kpi_answer, kpi_body

DURATIONS = frozenset({"sales_cycle_days"})
PER_DAY = frozenset({"activities_per_day"})


def api_name(kpi: str) -> str:
    """The name a coaching KPI is answered under (durations in seconds)."""
    return "sales_cycle_seconds" if kpi in DURATIONS else kpi


def unit_of(kpi: str) -> str:
    if kpi in DURATIONS:
        return "seconds"
    return "per_day" if kpi in PER_DAY else "ratio"


def number(kpi: str, value: Fraction | None) -> int | str | None:
    """A coaching figure by the rule: seconds for the cycle, 4 places for the rest."""
    if value is None:
        return None
    if kpi in DURATIONS:
        return numbers.days_as_seconds(value)
    return numbers.ratio(value)


def rules_body(rules: CoachingRules) -> dict[str, Any]:
    """The thresholds the answer was computed with (docs/coaching.md)."""
    return {
        "ratio_margin": numbers.ratio(rules.ratio_margin),
        "relative_margin": numbers.ratio(rules.relative_margin),
        "confidence_z": numbers.ratio(rules.confidence_z),
        "min_deals": rules.min_deals,
        "min_days": rules.min_days,
        "min_peers": rules.min_peers,
        "window_days": rules.window_days,
    }


def measure_body(one: Measure) -> dict[str, Any]:
    return {"value": number(one.kpi, one.value), "sample": one.sample}


def _past(kpi: str, past: Past) -> dict[str, Any]:
    return {"period": past.period, "value": number(kpi, past.value), "sample": past.sample}


def check_body(one: Check, role: str | None) -> dict[str, Any]:
    """One rep's KPI against their peers: a flag when ``flagged``."""
    spread = one.spread
    return {
        "rep_id": one.rep_id,
        "team_id": one.team_id,
        "role": role,
        "kpi": api_name(one.kpi),
        "unit": unit_of(one.kpi),
        "value": number(one.kpi, one.mine.value),
        "sample": one.mine.sample,
        "team_median": number(one.kpi, spread.median) if spread else None,
        "team_q1": number(one.kpi, spread.q1) if spread else None,
        "team_q3": number(one.kpi, spread.q3) if spread else None,
        "peers": spread.peers if spread else 0,
        "threshold": number(one.kpi, one.threshold),
        "upper_bound": number(one.kpi, one.upper),
        "flagged": one.flagged,
        "why": one.why,
        "previous": [_past(one.kpi, past) for past in one.previous],
        "event_ids": list(one.mine.event_ids),
    }


def checks_body(checks: Iterable[Check], roles: Mapping[str, str | None]) -> list[dict[str, Any]]:
    return [check_body(one, roles.get(one.rep_id)) for one in checks]


def enablement_body(record: Enablement) -> dict[str, Any]:
    """A training or a coaching session as answered."""
    body: dict[str, Any] = {"event_id": record.event_id, "kind": record.kind, "at": record.at.isoformat()}
    if record.kind == "coaching":
        return body | {
            "coach_id": record.topic,
            "focus_area": record.focus,
            "duration_seconds": record.duration_seconds,
        }
    return body | {
        "module_id": record.topic,
        "module_name": record.name,
        "score_percent": record.score_percent,
        "passed": record.passed,
    }


def _change(kpi: str, change: Change | None) -> dict[str, Any] | None:
    if change is None:
        return None
    return {
        "before": measure_body(change.before),
        "after": measure_body(change.after),
        "change": _signed(kpi, change.change),
    }


def _signed(kpi: str, value: Fraction | None) -> int | str | None:
    if value is None:
        return None
    return numbers.days_as_seconds(value) if kpi in DURATIONS else numbers.ratio(value)


def effect_body(effect: Effect) -> dict[str, Any]:
    """The before/after of one session: the rep's and the team baseline's, and whether enough data."""
    return {
        "event_id": effect.session.event_id,
        "kind": effect.session.kind,
        "at": effect.session.at.isoformat(),
        "focus_area": effect.focus,
        "kpi": api_name(effect.kpi),
        "unit": unit_of(effect.kpi),
        "before": {"first": effect.before[0].isoformat(), "last": effect.before[1].isoformat()},
        "after": {"first": effect.after[0].isoformat(), "last": effect.after[1].isoformat()},
        "rep": _change(effect.kpi, effect.rep),
        "team_id": effect.team_id,
        "team": _change(effect.kpi, effect.team),
        "enough": effect.enough,
        "event_ids": sorted({*effect.rep.before.event_ids, *effect.rep.after.event_ids}),
    }


def review_body(review: Review, roles: Mapping[str, str | None]) -> dict[str, Any]:
    return {
        "team_id": review.team_id,
        "period": review.period,
        "previous_period": review.previous_period,
        "reps": list(review.reps),
        "objectives": [
            {"objective_id": one.objective_id, "kpi": one.kpi, "attainment": kpi_answer(one.attainment)}
            for one in review.objectives
        ],
        "quotas": kpi_body(review.quotas),
        "kpis": kpi_body(review.kpis),
        "flags": {
            "raised": checks_body(review.raised, roles),
            "cleared": checks_body(review.cleared, roles),
            "open": checks_body(review.still_open, roles),
        },
        "coaching": [{"rep_id": rep, **enablement_body(record)} for rep, record in review.coaching],
    }
