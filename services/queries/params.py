"""Query parameters, parsed and checked: each failure is a `BadQuery` naming the parameter.

Times in queries are event times, except ``known_at``, a recorded time ("what the system knew
then"). ``as_of`` (ISO 8601 with a time zone) is the instant the pipeline is looked at and
defaults to now; ``period`` defaults to the current quarter. "Now" is read here, at the edge,
never inside a fold.

Bounds (docs/api.md): instants and periods lie in the years 1970 to 9998
(`projections.periods.FIRST_YEAR`, `LAST_YEAR`: a period's end, and an instant on any wall clock,
stay representable); whole numbers are ASCII digits only (``str.isdigit`` accepts ``٣`` and
``²``), within the range each parameter states. Anything else is a `BadQuery` naming the parameter.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from projections import pipeline
from projections.kpi_parts import VALID_NAMES, kpi_part
from projections.kpi_scope import Scope, ScopeKind
from projections.periods import FIRST_YEAR, LAST_YEAR, period_days, period_key
from sales.process import ProcessConfig
from services.queries.kpi_answers import API_KPI_NAMES, report_kpi_name

API_VALID_NAMES = functools.reduce(
    lambda text, names: text.replace(*names), API_KPI_NAMES.items(), VALID_NAMES
)
"""The valid KPI names as the API answers them (durations in seconds), as a refusal lists them."""

GROUPINGS: Mapping[str, pipeline.GroupBy] = {
    "stage": "stage",
    "rep": "rep",
    "team": "team",
    "territory": "territory",
}
SCOPES: Mapping[str, ScopeKind] = {"org": "org", "rep": "rep", "team": "team", "territory": "territory"}
RANKINGS = ("rep", "team")
STUCK_AFTER_DAYS = (1, 3650)
"""The range of ``stuck_after_days``."""
EARLIEST = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
LATEST = datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC) - timedelta(microseconds=1)
"""The instants a query may name (``as_of``, ``known_at``, ...)."""


class BadQuery(ValueError):
    """A query parameter that cannot be understood (answered with 400 naming it)."""


def as_of(query: Mapping[str, str], now: datetime | None = None) -> datetime:
    return instant(query, "as_of") or now or datetime.now(UTC)


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
    try:
        in_utc = at.astimezone(UTC)
    except OverflowError:
        in_utc = None
    if in_utc is None or not EARLIEST <= in_utc <= LATEST:
        raise BadQuery(f"{name}: an instant from {EARLIEST.isoformat()} to {LATEST.isoformat()}")
    return at


def whole_number(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """A whole number of ASCII digits from ``low`` to ``high`` (``default`` when absent)."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(high)) or not low <= int(raw) <= high:
        raise BadQuery(f"{name}: a whole number from {low} to {high}")
    return int(raw)


def group_by(query: Mapping[str, str]) -> pipeline.GroupBy:
    grouping = GROUPINGS.get(query.get("group_by", "stage"))
    if grouping is None:
        raise BadQuery("group_by: one of stage, rep, team, territory")
    return grouping


def stuck_after(query: Mapping[str, str]) -> timedelta:
    return timedelta(days=whole_number(query, "stuck_after_days", 14, *STUCK_AFTER_DAYS))


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
        raise BadQuery(
            f"period: like 2026-11-02, 2026-W45, 2026-11, 2026-Q4 or 2026, of a year from {FIRST_YEAR}"
            f" to {LAST_YEAR}"
        ) from None
    return str(key)


def ranking(query: Mapping[str, str], process: ProcessConfig) -> tuple[str, str]:
    """The KPI to rank by, as the report names it (`projections.kpi_parts`; the caller names it as
    answers do: ``sales_cycle_seconds``, `answers.API_KPI_NAMES`), and whether reps or teams are
    ranked."""
    kpi, by = query.get("kpi"), query.get("by", "rep")
    if not kpi:
        raise BadQuery("kpi: the KPI to rank by, e.g. won_revenue.EUR or win_rate")
    name = report_kpi_name(kpi)
    if name is None or kpi_part(name, process) is None:
        raise BadQuery(f"kpi: no KPI is named {kpi[:100]!r}; the names are {API_VALID_NAMES}")
    if by not in RANKINGS:
        raise BadQuery("by: rep or team")
    return name, by
