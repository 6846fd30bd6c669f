"""The plan terms the engine computes with: frozen dataclasses built from a published plan version.

`terms_of` reads a `CompPlanPublishedData` (contract v2) into these terms, rule for rule in plan
order; a ``draw`` rule becomes `PlanTerms.draw`. A v1 document is upcast at the gate to v2 with
v1's meaning, and every field v2 added has v1's meaning when absent (docs/incentives.md, "Plan
terms and the contract"):

- ``MarginalTerms.scope``: ``period_to_date`` (tiers run on the period's running total).
- ``decelerator`` on commission rules: none.
- ``CapTerms.per_deal``: false (caps are per period).
- ``KpiBonusTerms.min_observations``: 0 (no minimum sample).
- ``PlanTerms.draw``: none.

A what-if or a test sets them with `dataclasses.replace`; the checks in ``__post_init__`` keep
hand-built terms as sound as parsed ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise

from events.incentives import CompPlanPublishedData, SpiffAnnouncedData
from events.money import Money
from events.objectives import KPI_UNITS, LOWER_IS_BETTER, Kpi, Unit
from events.plan_rules import (
    Cap,
    Clawback,
    Draw,
    FlatTiers,
    KpiBonus,
    MarginalTiers,
    Rule,
    SpiffReference,
    TierBasis,
)
from events.plan_rules import Decelerator as DeceleratorRule
from events.plan_rules import TierScope as TierScope  # re-exported: the contract says it, the engine uses it
from projections.incentives.amounts import HUNDRED, quantum_of


@dataclass(frozen=True, slots=True)
class Tier:
    threshold: Decimal
    """Where the tier starts (inclusive): an amount, or a percent of quota."""
    rate_percent: Decimal


def _check_tiers(rule_id: str, tiers: tuple[Tier, ...]) -> None:
    if not tiers or tiers[0].threshold != 0:
        raise ValueError(f"{rule_id}: the first tier must start at 0")
    if any(lower.threshold >= upper.threshold for lower, upper in pairwise(tiers)):
        raise ValueError(f"{rule_id}: tier thresholds must strictly increase")


@dataclass(frozen=True, slots=True)
class Decelerator:
    """Below ``floor_percent`` of quota, every rate of the rule is multiplied or replaced."""

    floor_percent: Decimal
    multiplier: Decimal | None = None
    rate_percent: Decimal | None = None

    def __post_init__(self) -> None:
        if (self.multiplier is None) == (self.rate_percent is None):
            raise ValueError("a decelerator has either a multiplier or a replacement rate")
        if self.multiplier is not None and not 0 <= self.multiplier <= 1:
            raise ValueError("a decelerator's multiplier is from 0 to 1: it never raises a rate")


@dataclass(frozen=True, slots=True)
class MarginalTerms:
    """Each slice of credit earns its own tier's rate."""

    rule_id: str
    tiers: tuple[Tier, ...]
    basis: TierBasis = TierBasis.AMOUNT
    scope: TierScope = TierScope.PERIOD_TO_DATE
    decelerator: Decelerator | None = None

    def __post_init__(self) -> None:
        _check_tiers(self.rule_id, self.tiers)


@dataclass(frozen=True, slots=True)
class FlatTerms:
    """The whole amount earns its bracket's rate; retroactive: the period-to-date total picks it."""

    rule_id: str
    tiers: tuple[Tier, ...]
    basis: TierBasis = TierBasis.AMOUNT
    retroactive: bool = False
    decelerator: Decelerator | None = None

    def __post_init__(self) -> None:
        _check_tiers(self.rule_id, self.tiers)


@dataclass(frozen=True, slots=True)
class CapTerms:
    """At most ``max_amount`` per period (or per deal) from the named rules, or the whole plan."""

    rule_id: str
    max_amount: Decimal
    applies_to: tuple[str, ...] = ()
    per_deal: bool = False


@dataclass(frozen=True, slots=True)
class SpiffRuleTerms:
    """The plan takes part in a SPIFF announced separately."""

    rule_id: str
    spiff_id: str


@dataclass(frozen=True, slots=True)
class KpiBonusTerms:
    """A fixed bonus when the KPI reaches the threshold (at or below it for lower-is-better KPIs)."""

    rule_id: str
    kpi: Kpi
    threshold: Decimal
    bonus: Decimal
    min_observations: int = 0
    """Fewest observations (e.g. closed deals behind a win rate) the reading must rest on."""

    @property
    def lower_is_better(self) -> bool:
        return self.kpi in LOWER_IS_BETTER

    @property
    def in_money(self) -> bool:
        return KPI_UNITS[self.kpi] is Unit.MONEY


@dataclass(frozen=True, slots=True)
class ClawbackTerms:
    """Pay on a deal reversed within ``window_days`` of its credit is taken back (or its unserved share)."""

    rule_id: str
    window_days: int
    prorated: bool = False
    affects_quota: bool = False
    """Carried for the fold that builds credit lines; the statement never changes attainment."""


@dataclass(frozen=True, slots=True)
class DrawTerms:
    """A guaranteed ``amount`` per period, advanced against commissions (recoverable or not)."""

    amount: Decimal
    recoverable: bool
    rule_id: str = "draw"


@dataclass(frozen=True, slots=True)
class SpiffTerms:
    """A SPIFF as announced: ``amount_per_deal`` for each qualifying deal credited in the window."""

    spiff_id: str
    amount_per_deal: Decimal
    currency: str
    starts_on: date
    ends_on: date
    products: frozenset[str] = frozenset()
    """Qualifying products; empty: any product."""
    min_deal_amount: Money | None = None
    """Compared with the whole deal's amount (a minimum in another currency: no deal qualifies)."""
    team_ids: frozenset[str] = frozenset()
    """Eligible teams; empty: all reps."""


CommissionTerms = MarginalTerms | FlatTerms
RuleTerms = MarginalTerms | FlatTerms | CapTerms | SpiffRuleTerms | KpiBonusTerms | ClawbackTerms


@dataclass(frozen=True, slots=True)
class PlanTerms:
    plan_id: str
    plan_version: int
    currency: str
    effective_from: date
    effective_to: date | None
    rules: tuple[RuleTerms, ...]
    """In plan order."""
    draw: DrawTerms | None = None

    @property
    def quantum(self) -> Decimal:
        """The unit earnings are rounded to (the currency's minor unit)."""
        return quantum_of(self.currency)

    def in_force_on(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


def _tiers(rule: MarginalTiers | FlatTiers) -> tuple[Tier, ...]:
    return tuple(Tier(tier.threshold, tier.rate_percent) for tier in rule.tiers)


def _decelerator(rule: DeceleratorRule | None) -> Decelerator | None:
    if rule is None:
        return None
    multiplier = None if rule.multiplier_percent is None else rule.multiplier_percent / HUNDRED
    return Decelerator(rule.floor_percent, multiplier, rule.rate_percent)


def _rule_terms(rule: MarginalTiers | FlatTiers | Cap | SpiffReference | KpiBonus | Clawback) -> RuleTerms:
    match rule:
        case MarginalTiers():
            slow = _decelerator(rule.decelerator)
            return MarginalTerms(rule.rule_id, _tiers(rule), rule.basis, rule.scope, slow)
        case FlatTiers():
            slow = _decelerator(rule.decelerator)
            return FlatTerms(rule.rule_id, _tiers(rule), rule.basis, rule.retroactive, slow)
        case Cap():
            return CapTerms(rule.rule_id, rule.max_amount, tuple(rule.applies_to), rule.per_deal)
        case SpiffReference():
            return SpiffRuleTerms(rule.rule_id, rule.spiff_id)
        case KpiBonus():
            return KpiBonusTerms(rule.rule_id, rule.kpi, rule.threshold, rule.bonus, rule.min_observations)
        case Clawback():
            return ClawbackTerms(rule.rule_id, rule.window_days, rule.prorated, rule.affects_quota)


def _draw(rules: tuple[Rule, ...]) -> DrawTerms | None:
    draws = [rule for rule in rules if isinstance(rule, Draw)]  # at most one (the contract checks)
    return DrawTerms(draws[0].amount, draws[0].recoverable, draws[0].rule_id) if draws else None


def terms_of(plan: CompPlanPublishedData) -> PlanTerms:
    """The terms of a published plan version (contract v2; a v1 plan arrives upcast with v1's meaning)."""
    return PlanTerms(
        plan_id=plan.plan_id,
        plan_version=plan.plan_version,
        currency=plan.currency,
        effective_from=plan.effective_from,
        effective_to=plan.effective_to,
        rules=tuple(_rule_terms(rule) for rule in plan.rules if not isinstance(rule, Draw)),
        draw=_draw(plan.rules),
    )


def spiff_terms_of(spiff: SpiffAnnouncedData) -> SpiffTerms:
    """The terms of an announced SPIFF."""
    return SpiffTerms(
        spiff_id=spiff.spiff_id,
        amount_per_deal=spiff.amount_per_deal.amount,
        currency=spiff.amount_per_deal.currency,
        starts_on=spiff.window.start,
        ends_on=spiff.window.end,
        products=frozenset(spiff.products),
        min_deal_amount=spiff.min_deal_amount,
        team_ids=frozenset(spiff.team_ids),
    )
