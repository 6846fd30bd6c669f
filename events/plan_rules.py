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
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from itertools import pairwise
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictBool, ValidationInfo, field_validator

from events.envelope import Contract, Identifier, ShortText
from events.money import Amount, Percent, Quantity
from events.objectives import KPI_UNITS, Kpi, Unit, check_kpi_value


class TierBasis(StrEnum):
    AMOUNT = "amount"
    """Thresholds are credited amounts in the plan currency."""
    QUOTA_ATTAINMENT = "quota_attainment"
    """Thresholds are percentages of quota (100 = quota met)."""


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


class RuleBase(Contract):
    rule_id: Identifier = Field(description="Named on every statement line the rule produces.")
    label: ShortText | None = None


class MarginalTiers(RuleBase):
    """Graduated commission: each slice of the credited amount at its own tier's rate."""

    kind: Literal["marginal_tiers"]
    basis: TierBasis = TierBasis.AMOUNT
    tiers: Tiers


class FlatTiers(RuleBase):
    """Bracket commission: the whole amount at one bracket's rate (retroactive: period-to-date)."""

    kind: Literal["flat_tiers"]
    basis: TierBasis = TierBasis.AMOUNT
    retroactive: StrictBool = False
    tiers: Tiers


class Cap(RuleBase):
    """A ceiling on what the named rules (or the whole plan) pay in one period."""

    kind: Literal["cap"]
    max_amount: Amount = Field(description="Most that is paid per period, in the plan currency.")
    applies_to: tuple[Identifier, ...] = Field(
        (), max_length=50, description="Rule ids; empty: the whole plan."
    )


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


Rule = Annotated[
    MarginalTiers | FlatTiers | Cap | SpiffReference | KpiBonus | Clawback, Field(discriminator="kind")
]


def _consistent(rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
    ids = [rule.rule_id for rule in rules]
    if len(set(ids)) != len(ids):
        raise ValueError("rule ids must be unique within a plan")
    for rule in rules:
        if isinstance(rule, Cap) and (unknown := sorted(set(rule.applies_to) - set(ids))):
            raise ValueError(f"cap {rule.rule_id} applies to unknown rules: {', '.join(unknown)}")
    return rules


Rules = Annotated[tuple[Rule, ...], Field(min_length=1, max_length=50), AfterValidator(_consistent)]
