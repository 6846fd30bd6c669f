"""Who and when a KPI is asked for (scope and window), and how its value is reported.

**Scope.** A fact is attributed to a rep on a local day; it counts for a team or a territory when
the membership said that rep was in it *on that day*, so a rep's earlier results stay with the
team they left. Membership is a parameter (``(rep_id, day) -> (team_id, territory_ids)``), built
by the organisation read model; a rep may hold several territories, so territory figures of
overlapping territories do not add up. The organisation scope counts every fact, including facts
no rep owns (a lead captured without an owner). Parent teams are not rolled up here.

**Values.** Counts and sums are exact. A ratio is ``None`` when its denominator is 0 (no deals, no
quota): "no data" and "0 %" are different answers. Percentages are 0-100 (25 means 25 %); ratios,
averages and money are rounded half-even to 4 decimal places once, at the end; `KpiValue` keeps
the exact numerator and denominator so a reader can check the arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal

from projections.periods import day_bounds, local_day, period_days

Membership = Callable[[str, date], tuple[str | None, tuple[str, ...]]]
"""``(rep_id, local day) -> (team_id or None, territory ids)``."""
Includes = Callable[[str | None, date], bool]
"""Whether a fact of ``rep_id`` (None: nobody's) on a local day counts for the scope asked."""
ScopeKind = Literal["rep", "team", "territory", "org"]
Unit = Literal["count", "percent", "money", "days", "minutes", "seconds"]

PLACES = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class Scope:
    """A rep, a team, a territory (by id), or the whole organisation."""

    kind: ScopeKind
    id: str | None = None

    def __post_init__(self) -> None:
        if (self.kind == "org") != (self.id is None):
            raise ValueError("the org scope has no id; rep, team and territory scopes need one")


def scope_filter(scope: Scope, membership: Membership) -> Includes:
    """The test a fact's ``(rep, day)`` must pass to count for ``scope`` (membership cached per call)."""
    if scope.kind == "org":
        return lambda rep_id, day: True
    if scope.kind == "rep":
        return lambda rep_id, day: rep_id == scope.id
    seen: dict[tuple[str, date], bool] = {}

    def includes(rep_id: str | None, day: date) -> bool:
        if rep_id is None:
            return False
        if (rep_id, day) not in seen:
            team, territories = membership(rep_id, day)
            seen[rep_id, day] = team == scope.id if scope.kind == "team" else scope.id in territories
        return seen[rep_id, day]

    return includes


@dataclass(frozen=True, slots=True)
class Window:
    """Local days ``first`` to ``last`` (inclusive) in ``tz``, and the same span as instants."""

    first: date
    last: date
    tz: str
    start: datetime
    end: datetime

    @classmethod
    def of(cls, period: str | tuple[date, date], tz: str) -> Window:
        """From a period key (``2026-Q4``) or explicit first and last days (custom periods)."""
        first, last = period_days(period) if isinstance(period, str) else period
        start, end = day_bounds(first, last, tz)
        return cls(first, last, tz, start, end)

    def holds(self, at: datetime) -> bool:
        return self.start <= at < self.end

    def holds_day(self, day: date) -> bool:
        return self.first <= day <= self.last

    def day(self, at: datetime) -> date:
        return local_day(at, self.tz)


@dataclass(frozen=True, slots=True)
class KpiValue:
    """A KPI's value (None: undefined), its unit, and the exact terms it was computed from."""

    value: Decimal | None
    unit: Unit
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    currency: str | None = None
    terms: Unit | None = None
    """The unit of ``numerator`` and ``denominator`` of a percentage when they are not counts (nor
    money in ``currency``): an objective's actual and target are in its KPI's own unit."""


def count(value: int | Decimal, unit: Unit = "count") -> KpiValue:
    return KpiValue(Decimal(value), unit)


def money(amount: Decimal, currency: str) -> KpiValue:
    """An amount, rounded for display; the exact sum stays in ``numerator``."""
    return KpiValue(amount.quantize(PLACES, ROUND_HALF_EVEN), "money", amount, None, currency)


def ratio(
    numerator: int | Decimal, denominator: int | Decimal, unit: Unit = "percent", currency: str | None = None
) -> KpiValue:
    """``numerator / denominator`` (x 100 for percentages); None when the denominator is 0."""
    num, den = Decimal(numerator), Decimal(denominator)
    if den == 0:
        return KpiValue(None, unit, num, den, currency)
    value = num / den * (100 if unit == "percent" else 1)
    return KpiValue(value.quantize(PLACES, ROUND_HALF_EVEN), unit, num, den, currency)
