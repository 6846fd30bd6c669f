"""What goes into a statement (credit lines, KPI readings, reversals) and what comes out.

Business rules:

- A **credit line** is one deal credited to one rep: their share of the deal's amount, in the
  deal's currency, on the day it was credited, with the ids of the events behind it.
- A **statement line** is one rule's verdict on one deal (or on the period, for caps, bonuses and
  draws): the rate, the base it applies to, the earning rounded once (`amounts.rounded`), the
  events, and a short explanation. A rule that cannot rate says why in an explained zero line.
- An **adjustment** is a manual correction of the period's pay (`CommissionAdjusted`): its own
  line, with no rule, naming the event, the reason, who asked and the deal if any.
- A statement's **total** is the exact sum of its lines' earnings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from projections.incentives.amounts import HUNDRED, ZERO, quantum_of, rounded
from projections.incentives.terms import PlanTerms


@dataclass(frozen=True, slots=True)
class CreditLine:
    deal_id: str
    rep_id: str
    amount: Decimal
    """The rep's credited share of the deal, in ``currency``."""
    currency: str
    credited_on: date
    share_percent: Decimal = HUNDRED
    event_ids: tuple[str, ...] = ()
    deal_amount: Decimal | None = None
    """The whole deal's amount (SPIFF minimums); absent: ``amount`` is the whole deal."""
    products: tuple[str, ...] = ()
    team_id: str | None = None
    """The rep's team on ``credited_on`` (SPIFF eligibility)."""
    overlay_of: tuple[str, ...] = ()
    """Overlay credit: the reps whose credit it overlays (`facts.overlay_line`); empty: own credit."""

    def __post_init__(self) -> None:
        if self.amount < 0:
            raise ValueError(f"{self.deal_id}: a credited amount is never negative")
        if not 0 < self.share_percent <= HUNDRED:
            raise ValueError(f"{self.deal_id}: a share is more than 0 and at most 100 percent")

    @property
    def whole_deal(self) -> Decimal:
        return self.amount if self.deal_amount is None else self.deal_amount

    def sort_key(self) -> tuple[object, ...]:
        """Day credited, then deal, then every other field: a total order on distinct lines."""
        return (
            self.credited_on,
            self.deal_id,
            self.amount,
            self.currency,
            self.share_percent,
            self.event_ids,
            self.whole_deal,
            tuple(sorted(self.products)),
            self.team_id or "",
            self.rep_id,
            self.overlay_of,
        )


@dataclass(frozen=True, slots=True)
class KpiReading:
    """A KPI's value for the rep and period, computed by the caller (see docs/kpis.md)."""

    value: Decimal
    observations: int | None = None
    """How many facts the value rests on (closed deals for a win rate), when it matters."""
    currency: str | None = None
    """For money KPIs: the currency of ``value``."""


@dataclass(frozen=True, slots=True)
class Reversal:
    """A deal paid on earlier was cancelled or churned: what was paid, and when."""

    deal_id: str
    paid: Decimal
    """What the rep was paid on the deal, in ``currency``."""
    currency: str
    credited_on: date
    reversed_on: date
    event_ids: tuple[str, ...] = ()
    """The events behind the original earning, and the cancellation's."""

    def __post_init__(self) -> None:
        if self.reversed_on < self.credited_on:
            raise ValueError(f"{self.deal_id}: reversed before it was credited")

    @property
    def days_served(self) -> int:
        return (self.reversed_on - self.credited_on).days

    def sort_key(self) -> tuple[object, ...]:
        return (self.reversed_on, self.deal_id, self.credited_on, self.paid, self.currency, self.event_ids)


@dataclass(frozen=True, slots=True)
class Adjustment:
    """A manual adjustment of the rep's pay for the period, as requested (`CommissionAdjusted`)."""

    adjustment_id: str
    amount: Decimal
    """Signed: a deduction is negative."""
    currency: str
    reason: str
    requested_by: str
    event_id: str
    deal_id: str | None = None

    @property
    def earning(self) -> Decimal:
        """The amount rounded once to the currency's minor unit, half to even, like every line."""
        return rounded(self.amount, quantum_of(self.currency))

    @property
    def explanation(self) -> str:
        deal = f" on {self.deal_id}" if self.deal_id else ""
        return f"adjustment {self.adjustment_id}{deal}, requested by {self.requested_by}: {self.reason}"

    def sort_key(self) -> tuple[object, ...]:
        return (
            self.adjustment_id,
            self.event_id,
            self.amount,
            self.currency,
            self.deal_id or "",
            self.reason,
            self.requested_by,
        )


class LineKind(StrEnum):
    COMMISSION = "commission"
    KPI_BONUS = "kpi_bonus"
    SPIFF = "spiff"
    CAP = "cap"
    DRAW = "draw"
    DRAW_RECOVERY = "draw_recovery"
    CLAWBACK = "clawback"
    ADJUSTMENT = "adjustment"


@dataclass(frozen=True, slots=True)
class StatementLine:
    kind: LineKind
    rule_id: str | None
    """The plan rule that made the line; ``None`` when no rule of the plan applies (adjustments)."""
    plan_id: str
    plan_version: int
    deal_id: str | None
    rate_percent: Decimal | None
    """None for fixed amounts (bonuses, caps, draws, adjustments)."""
    base: Decimal
    earning: Decimal
    event_ids: tuple[str, ...]
    explanation: str


@dataclass(frozen=True, slots=True)
class Statement:
    rep_id: str
    plan_id: str
    plan_version: int
    currency: str
    lines: tuple[StatementLine, ...]
    total: Decimal
    credited: Decimal
    """Credit the rules could rate (in the plan currency, plan in force)."""
    attainment_percent: Decimal | None
    """``credited / quota * 100`` to 2 places, half to even, for display; None without a quota."""
    draw_balance: Decimal
    """Recoverable draw still owed by the rep after this period."""

    def by_rule(self) -> dict[str | None, Decimal]:
        totals: dict[str | None, Decimal] = {}
        for line in self.lines:
            totals[line.rule_id] = totals.get(line.rule_id, ZERO) + line.earning
        return totals


@dataclass(frozen=True, slots=True)
class Rating:
    """What every rule of one statement sees: the plan, the credit it can rate, and the quota."""

    plan: PlanTerms
    lines: tuple[CreditLine, ...]
    """Ratable credit lines (plan currency, plan in force), in `CreditLine.sort_key` order."""
    skipped: tuple[tuple[CreditLine, str], ...]
    """Credit lines no rule can rate, each with the reason."""
    credited: Decimal
    quota: Decimal | None
    """In the plan currency and above zero; None when there is none that can be used."""
    no_quota: str
    """Why ``quota`` is None."""

    def line(
        self,
        kind: LineKind,
        rule_id: str | None,
        deal_id: str | None,
        rate_percent: Decimal | None,
        base: Decimal,
        earning: Decimal | Fraction,
        event_ids: tuple[str, ...],
        explanation: str,
    ) -> StatementLine:
        """A statement line of this plan, its earning rounded once to the plan currency's unit."""
        plan = self.plan
        return StatementLine(
            kind,
            rule_id,
            plan.plan_id,
            plan.plan_version,
            deal_id,
            rate_percent,
            base,
            rounded(earning, plan.quantum),
            event_ids,
            explanation,
        )
