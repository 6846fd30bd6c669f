"""What a simulation is asked for, and the rates that make its history look like a sales team's.

The rates are public rules of thumb, not measurements: about a quarter of leads qualify (referrals
and inbound far more often than cold outreach), about a quarter of closed deals are won, deal sizes
are log-normal (a few large deals, many small ones), and deals take weeks to close, enterprise ones
longest. Change them here, in one place, and the tests' plausibility bounds say what still passes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from services.simulator.clock import on_or_after


@dataclass(frozen=True, slots=True)
class WeakSpot:
    """A rep seeded to be weak at one stage until a coaching session on it (docs/coaching.md).

    Until ``coached_on`` the rep's deals leave ``stage`` forward with chance ``advance`` instead of
    the usual `ADVANCE` rate; from that day they convert as everybody does. A coaching session
    focused on ``focus`` is held with the rep on ``coached_on``. Each lead's story draws from its
    own random stream and the seeding makes the same draw, so only the stories of the leads whose
    deals the rep lost at that stage change (their later events end)."""

    rep_id: str
    stage: str
    advance: float
    coached_on: date
    focus: str

    def __post_init__(self) -> None:
        if self.stage not in ADVANCE or not 0 <= self.advance <= 1:
            raise ValueError(f"a weak spot needs a stage of {', '.join(ADVANCE)} and 0 <= advance <= 1")


@dataclass(frozen=True, slots=True)
class SimConfig:
    """One simulation: ``leads`` captured over ``weeks`` by ``reps`` sellers, from ``start``.

    The history ends ``weeks`` after ``start``: deals still open then stay open, and the stories of
    the last leads are cut there, as in a snapshot of a live organisation.
    """

    seed: int
    reps: int
    leads: int
    start: date
    weeks: int = 52
    mean_deal: Decimal = Decimal(25_000)
    currency: str = "EUR"
    weak_spot: WeakSpot | None = None

    def __post_init__(self) -> None:
        if self.reps < 1 or self.leads < 0 or self.weeks < 1 or self.mean_deal <= 0:
            raise ValueError("a simulation needs reps >= 1, leads >= 0, weeks >= 1 and mean_deal > 0")

    @property
    def first_day(self) -> date:
        return on_or_after(self.start)

    @property
    def last_day(self) -> date:
        """The last day of the history (inclusive)."""
        return self.start + timedelta(weeks=self.weeks, days=-1)

    @property
    def until(self) -> datetime:
        """Events at or after this instant are not part of the history."""
        return datetime.combine(self.last_day + timedelta(days=1), datetime.min.time(), UTC)


SOURCES: dict[str, tuple[float, float]] = {
    "inbound": (0.28, 0.35),
    "email": (0.20, 0.15),
    "cold_call": (0.18, 0.12),
    "social": (0.12, 0.20),
    "networking": (0.10, 0.30),
    "referral": (0.12, 0.45),
}
"""Lead source -> (share of leads, chance a lead from it qualifies): about 26 % overall."""

DISQUALIFIED_SHARE = 0.78
"""Of the leads that do not qualify, the share formally disqualified; the rest go quiet."""

ADVANCE: dict[str, float] = {
    "qualified": 0.85,
    "needs_assessed": 0.78,
    "solution_presented": 0.72,
    "objection_handling": 0.80,
    "closing": 0.62,
}
"""Chance an open deal leaves each stage forward rather than lost: about 25 % are won overall."""

STEP_DAYS: dict[str, tuple[int, int]] = {
    "qualified": (2, 8),
    "needs_assessed": (4, 12),
    "solution_presented": (2, 8),
    "objection_handling": (2, 6),
    "closing": (5, 20),
}
"""Business days spent in each stage (before the enterprise stretch): a cycle of 4 to 12 weeks."""

SEGMENTS: dict[str, tuple[float, float, float]] = {
    "smb": (0.50, 0.45, 0.8),
    "mid_market": (0.35, 1.15, 1.0),
    "enterprise": (0.15, 2.90, 1.6),
}
"""Segment -> (share of leads, deal size relative to the mean, sales cycle stretch)."""

SIZE_SPREAD = 0.6
"""Sigma of the log-normal deal size; the mean stays the configured one."""

REOPEN_SHARE = 0.25
"""Deals lost on timing or indecision that come back within the process's reopen window."""

CHURN_PER_TERM = {"year": 0.12, "quarter": 0.04}
"""Chance a customer leaves at the end of a contract term instead of renewing."""

ATTRITION_PER_YEAR = 0.15
TEAM_MOVES_PER_YEAR = 0.12
TEAM_SIZE = 7


def deal_size(mean: Decimal, segment: str, draw: float) -> int:
    """A deal amount (whole hundreds) from a standard normal ``draw``, log-normal around ``mean``."""
    relative = SEGMENTS[segment][1] / sum(share * size for share, size, _ in SEGMENTS.values())
    mu = math.log(float(mean) * relative) - SIZE_SPREAD**2 / 2
    return max(100, round(math.exp(mu + SIZE_SPREAD * draw) / 100) * 100)
