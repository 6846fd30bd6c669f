"""The rules a compensation plan is made of: declarative data, no maths.

Each rule says *what* pays (or claws back), never how the sum is done; the commission engine
reads these and shows, on every statement line, the rule id that earned it. Amounts in rules are
in the plan's currency; rates are percentages (``"5"`` is 5 %).

Tier shapes, with the worked examples of DOMAIN.md:

- **marginal tiers**: each slice of the period's credited amount earns its own tier's rate
  (5 % to 10k, 7 % to 25k, 10 % above: 30,000 earns 2,050). An **accelerator** is a marginal
  schedule whose upper tiers pay more, usually with ``basis: quota_attainment`` so the thresholds
  are percentages of quota.
- **flat tiers**: the whole amount earns the rate of the bracket it falls in, and an amount on a
  boundary takes the higher bracket. With ``retroactive: false`` each deal's amount picks its
  bracket; with ``retroactive: true`` the period-to-date total does, so reaching a threshold
  re-rates everything earned in the period so far (a **retroactive tier**).

Version 2 of `CompPlanPublished` added what version 1 could not say (each field absent means what
a v1 plan means, so v1 data reads unchanged): a marginal schedule's ``scope`` (the period's
running total, or each deal from zero), a ``decelerator`` on commission rules, ``per_deal`` caps,
a KPI bonus's ``min_observations``, and a ``draw`` rule (a guarantee per period, recoverable or
not).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from itertools import pairwise
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictBool, ValidationInfo, field_validator, model_validator

from events.envelope import Contract, Identifier, ShortText
from events.money import Amount, Percent, Quantity
from events.objectives import KPI_UNITS, Kpi, Unit, check_kpi_value


class TierBasis(StrEnum):
    AMOUNT = "amount"
    """Thresholds are credited amounts in the plan currency."""
    QUOTA_ATTAINMENT = "quota_attainment"
    """Thresholds are percentages of quota (100 = quota met)."""


class TierScope(StrEnum):
    PERIOD_TO_DATE = "period_to_date"
    """Tiers run on the rep's running total of credit in the period (v1's meaning)."""
    PER_DEAL = "per_deal"
    """Each deal is tiered from zero."""


class Tier(Contract):
    threshold: Quantity = Field(description="Where the tier starts (inclusive); the first tier starts at 0.")
    rate_percent: Percent


def _ascending_from_zero(tiers: tuple[Tier, ...]) -> tuple[Tier, ...]:
    thresholds = [tier.threshold for tier in tiers]
    if thresholds[0] != 0:
        raise ValueError("the first tier must start at 0")
    if any(lower >= upper for lower, upper in pairwise(thresholds)):
        raise ValueError("tier thresholds must strictly increase")
    return tiers


Tiers = Annotated[tuple[Tier, ...], Field(min_length=1, max_length=20), AfterValidator(_ascending_from_zero)]


class Decelerator(Contract):
    """Below a floor of quota attainment, every rate of the rule is multiplied or replaced by a lower one."""

    floor_percent: Quantity = Field(
        description="Attainment (credit / quota, in %) below which rates drop; at the floor they are normal."
    )
    multiplier_percent: Percent | None = Field(
        None, description="Rates are taken at this percentage of themselves (50: half the rate)."
    )
    rate_percent: Percent | None = Field(
        None, description="Rates are replaced by this one where it is lower (never raised)."
    )

    @model_validator(mode="after")
    def _one_way_down(self) -> Decelerator:
        if (self.multiplier_percent is None) == (self.rate_percent is None):
            raise ValueError("a decelerator has either multiplier_percent or rate_percent")
        return self


class RuleBase(Contract):
    rule_id: Identifier = Field(description="Named on every statement line the rule produces.")
    label: ShortText | None = None


class MarginalTiers(RuleBase):
    """Graduated commission: each slice of the credited amount at its own tier's rate."""

    kind: Literal["marginal_tiers"]
    basis: TierBasis = TierBasis.AMOUNT
    scope: TierScope = Field(
        TierScope.PERIOD_TO_DATE,
        description="period_to_date: tiers run on the period's running total; per_deal: each deal from zero.",
    )
    tiers: Tiers
    decelerator: Decelerator | None = None


class FlatTiers(RuleBase):
    """Bracket commission: the whole amount at one bracket's rate (retroactive: period-to-date)."""

    kind: Literal["flat_tiers"]
    basis: TierBasis = TierBasis.AMOUNT
    retroactive: StrictBool = False
    tiers: Tiers
    decelerator: Decelerator | None = None


class Cap(RuleBase):
    """A ceiling on what the named rules (or the whole plan) pay in one period."""

    kind: Literal["cap"]
    max_amount: Amount = Field(description="Most that is paid per period, in the plan currency.")
    applies_to: tuple[Identifier, ...] = Field(
        (), max_length=50, description="Rule ids; empty: the whole plan."
    )
    per_deal: StrictBool = Field(False, description="The cap applies to each deal separately.")


class SpiffReference(RuleBase):
    """Takes part in a SPIFF announced separately (`SpiffAnnounced`)."""

    kind: Literal["spiff"]
    spiff_id: Identifier


class KpiBonus(RuleBase):
    """A fixed bonus for meeting a KPI threshold in the period (at or below it for lower-is-better KPIs)."""

    kind: Literal["kpi_bonus"]
    kpi: Kpi
    threshold: Quantity = Field(description="In the KPI's unit (see `events.objectives.KPI_UNITS`).")
    bonus: Amount
    min_observations: Annotated[int, Field(strict=True, ge=0, le=1_000_000)] = Field(
        0, description="Fewest facts the reading must rest on (closed deals for a win rate)."
    )

    @field_validator("threshold")
    @classmethod
    def _in_kpi_unit(cls, threshold: Decimal, info: ValidationInfo) -> Decimal:
        kpi = info.data.get("kpi")
        if kpi is not None and KPI_UNITS[kpi] is not Unit.MONEY:  # money thresholds: plan currency
            check_kpi_value(kpi, threshold)
        return threshold


class Clawback(RuleBase):
    """Commission on a deal cancelled or churned within the window is reversed on a later statement."""

    kind: Literal["clawback"]
    window_days: Annotated[int, Field(strict=True, ge=1, le=3650)]
    prorated: StrictBool = Field(
        False, description="Reverse only the unserved share of the window (after 6 of 12 months: 50%)."
    )
    affects_quota: StrictBool = Field(False, description="Also reverse the quota credit.")


class Draw(RuleBase):
    """A guaranteed amount per period, advanced against commissions; recoverable ones are owed back."""

    kind: Literal["draw"]
    amount: Amount = Field(description="Guaranteed per period, in the plan currency.")
    recoverable: StrictBool = Field(
        description="true: a shortfall is an advance recovered from later earnings above the draw; "
        "false: a top-up never owed back."
    )


Rule = Annotated[
    MarginalTiers | FlatTiers | Cap | SpiffReference | KpiBonus | Clawback | Draw, Field(discriminator="kind")
]


def _consistent(rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
    ids = [rule.rule_id for rule in rules]
    if len(set(ids)) != len(ids):
        raise ValueError("rule ids must be unique within a plan")
    draws = {rule.rule_id for rule in rules if isinstance(rule, Draw)}
    if len(draws) > 1:
        raise ValueError(f"a plan has at most one draw, not {', '.join(sorted(draws))}")
    for rule in rules:
        if isinstance(rule, Cap) and (unknown := sorted(set(rule.applies_to) - set(ids))):
            raise ValueError(f"cap {rule.rule_id} applies to unknown rules: {', '.join(unknown)}")
        if isinstance(rule, Cap) and (drawn := sorted(set(rule.applies_to) & draws)):
            raise ValueError(f"cap {rule.rule_id} applies to the draw {drawn[0]}: caps come before the draw")
    return rules


Rules = Annotated[tuple[Rule, ...], Field(min_length=1, max_length=50), AfterValidator(_consistent)]
