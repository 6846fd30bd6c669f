"""Query parameters, parsed and checked: each failure is a `BadQuery` naming the parameter.

Times in queries are event times, except ``known_at``, a recorded time ("what the system knew
then"). ``as_of`` (ISO 8601 with a time zone) is the instant the pipeline is looked at and
defaults to now; ``period`` defaults to the current quarter. "Now" is read here, at the edge,
never inside a fold.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from projections import pipeline
from projections.kpi_scope import Scope, ScopeKind
from projections.periods import period_days, period_key

GROUPINGS: Mapping[str, pipeline.GroupBy] = {
    "stage": "stage",
    "rep": "rep",
    "team": "team",
    "territory": "territory",
}
SCOPES: Mapping[str, ScopeKind] = {"org": "org", "rep": "rep", "team": "team", "territory": "territory"}
RANKINGS = ("rep", "team")


class BadQuery(ValueError):
    """A query parameter that cannot be understood (answered with 400 naming it)."""


def as_of(query: Mapping[str, str], now: datetime | None = None) -> datetime:
    raw = query.get("as_of")
    if not raw:
        return now or datetime.now(UTC)
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        raise BadQuery("as_of: not an ISO 8601 date-time") from None
    if at.utcoffset() is None:
        raise BadQuery("as_of: needs a time zone")
    return at


def instant(query: Mapping[str, str], name: str) -> datetime | None:
    """An optional ISO 8601 instant with a time zone (``known_at``, or ``as_of`` where it is
    optional), or None when absent."""
    raw = query.get(name)
    if not raw:
        return None
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        raise BadQuery(f"{name}: not an ISO 8601 date-time") from None
    if at.utcoffset() is None:
        raise BadQuery(f"{name}: needs a time zone")
    return at


def group_by(query: Mapping[str, str]) -> pipeline.GroupBy:
    grouping = GROUPINGS.get(query.get("group_by", "stage"))
    if grouping is None:
        raise BadQuery("group_by: one of stage, rep, team, territory")
    return grouping


def stuck_after(query: Mapping[str, str]) -> timedelta:
    days = query.get("stuck_after_days", "14")
    if not days.isdigit():
        raise BadQuery("stuck_after_days: a whole number of days")
    return timedelta(days=int(days))


def scope(query: Mapping[str, str]) -> Scope:
    kind = SCOPES.get(query.get("scope", "org"))
    if kind is None:
        raise BadQuery("scope: one of org, rep, team, territory")
    scope_id = query.get("id")
    if (kind == "org") != (scope_id is None):
        raise BadQuery("id: required for rep, team and territory scopes, not for org")
    return Scope(kind, scope_id)


def period(query: Mapping[str, str], timezone: str, now: datetime | None = None) -> str:
    key = query.get("period") or period_key("quarter", now or datetime.now(UTC), timezone)
    try:
        period_days(key)
    except ValueError:
        raise BadQuery("period: like 2026-11-02, 2026-W45, 2026-11, 2026-Q4 or 2026") from None
    return str(key)


def ranking(query: Mapping[str, str]) -> tuple[str, str]:
    """The KPI to rank by and whether reps or teams are ranked."""
    kpi, by = query.get("kpi"), query.get("by", "rep")
    if not kpi:
        raise BadQuery("kpi: the KPI to rank by, e.g. won_revenue.EUR or win_rate")
    if by not in RANKINGS:
        raise BadQuery("by: rep or team")
    return kpi, by
