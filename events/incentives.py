"""Incentive events: compensation plans, who is on them, SPIFFs, adjustments and approved payouts.

A plan is published in versions, each effective over a range of days; a rep is assigned to a
plan (not to a version), and the version in force on a given day is the one that applies to
credit earned that day. A correction is a new version or assignment, never an edit; a correction
of what a rep is paid for a period is a `CommissionAdjusted`.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from events.envelope import Contract, Envelope, Identifier, ShortText
from events.money import Currency, Money, Share
from events.period import EffectiveDated, Period
from events.plan_rules import Rules
from events.presentation import ProductIds
from events.versions import Document, UpcastError


class CompPlanPublishedData(EffectiveDated):
    plan_id: Identifier
    plan_version: Annotated[int, Field(strict=True, ge=1)] = Field(description="1, 2, ... per plan.")
    name: ShortText
    currency: Currency = Field(description="Currency of every amount in the rules.")
    rules: Rules


class CompPlanPublished(Envelope):
    """A version of a compensation plan was published: its rules apply over its effective dates.

    Version 2 says what version 1 could not (see `events.plan_rules`): a marginal schedule's
    ``scope``, decelerators, per-deal caps, a KPI bonus's ``min_observations`` and a ``draw``
    rule. A v1 plan reads as v2 with v1's meaning (see `comp_plan_published_v1_to_v2`).
    """

    type: Literal["CompPlanPublished"]
    schemaversion: Annotated[int, Field(strict=True, ge=2, le=2)] = Field(
        2, description="Version of this event type's schema (extension attribute)."
    )
    data: CompPlanPublishedData

    @property
    def partition_key(self) -> str:
        return self.data.plan_id


_NEW_IN_V2 = {
    "marginal_tiers": ("scope", "decelerator"),
    "flat_tiers": ("decelerator",),
    "cap": ("per_deal",),
    "kpi_bonus": ("min_observations",),
}
_V1_MEANING: dict[str, dict[str, object]] = {
    "marginal_tiers": {"scope": "period_to_date"},
    "cap": {"per_deal": False},
    "kpi_bonus": {"min_observations": 0},
}
_NEW_FIELD = "Extra inputs are not permitted (new in schemaversion 2)"


def _v1_rule_to_v2(index: int, rule: Any) -> Any:
    kind = rule.get("kind") if isinstance(rule, dict) else None
    if not isinstance(kind, str):
        return rule  # validation reports it
    if kind == "draw":
        raise UpcastError(f"data.rules.{index}.kind", "draw rules are new in schemaversion 2")
    for name in _NEW_IN_V2.get(kind, ()):
        if name in rule:
            raise UpcastError(f"data.rules.{index}.{name}", _NEW_FIELD)
    return {**rule, **_V1_MEANING.get(kind, {})}


def comp_plan_published_v1_to_v2(document: Document) -> Document:
    """CompPlanPublished v1 -> v2: v1's meaning written out (period-to-date marginal tiers, caps
    per period, no minimum of observations); no decelerator and no draw, as in v1. A v1 document
    carrying a field new in v2 is refused rather than read with v1's meaning."""
    data = document.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        return document  # validation reports the missing or malformed data
    rules = [_v1_rule_to_v2(index, rule) for index, rule in enumerate(data["rules"])]
    return {**document, "data": {**data, "rules": rules}}


class Overlay(Contract):
    """Credit on deals won by others: a manager over teams, a specialist over territories.

    A deal is overlaid when one of its credited reps, on the day it is credited, is in one of
    ``team_ids`` or owns one of ``territory_ids`` (the effective-dated organisation: a rep moved in
    March counts for the new team from March). The overlay is credited ``share_percent`` of those
    reps' credit, beside (never instead of) their own.
    """

    team_ids: tuple[Identifier, ...] = Field((), max_length=1000, description="Teams overlaid.")
    territory_ids: tuple[Identifier, ...] = Field((), max_length=1000, description="Territories overlaid.")
    share_percent: Share = Field(
        Decimal(100), description='Share of the overlaid reps\' credit credited to the overlay, e.g. "100".'
    )

    @model_validator(mode="after")
    def _overlays_something(self) -> Overlay:
        if not (self.team_ids or self.territory_ids):
            raise ValueError("an overlay names at least one team or territory")
        return self


class CompPlanAssignedData(EffectiveDated):
    rep_id: Identifier
    plan_id: Identifier
    overlay: Overlay | None = Field(
        None, description="Overlay credit on others' deals (new in schemaversion 2); absent: own deals only."
    )


class CompPlanAssigned(Envelope):
    """A rep was put on a compensation plan for a range of days (keyed by rep: one plan at a time).

    Version 2 may add an ``overlay``: credit on the deals of teams or territories (managers,
    overlay specialists). A v1 assignment reads as v2 without one (`comp_plan_assigned_v1_to_v2`).
    """

    type: Literal["CompPlanAssigned"]
    schemaversion: Annotated[int, Field(strict=True, ge=2, le=2)] = Field(
        2, description="Version of this event type's schema (extension attribute)."
    )
    data: CompPlanAssignedData

    @property
    def partition_key(self) -> str:
        return self.data.rep_id


def comp_plan_assigned_v1_to_v2(document: Document) -> Document:
    """CompPlanAssigned v1 -> v2: the same assignment with no overlay. A v1 document carrying an
    ``overlay`` is refused rather than read as v2."""
    data = document.get("data")
    if isinstance(data, dict) and "overlay" in data:
        raise UpcastError("data.overlay", "Extra inputs are not permitted (new in schemaversion 2)")
    return document


class SpiffAnnouncedData(Contract):
    spiff_id: Identifier
    name: ShortText
    amount_per_deal: Money
    window: Period = Field(description="Deals won in this window qualify.")
    products: ProductIds = Field((), max_length=100, description="Qualifying products; empty: any product.")
    min_deal_amount: Money | None = Field(None, description="Smallest deal that qualifies.")
    team_ids: tuple[Identifier, ...] = Field(
        (), max_length=100, description="Eligible teams; empty: all reps."
    )


class SpiffAnnounced(Envelope):
    """A short-term incentive was announced: a fixed amount per qualifying deal won in a window."""

    type: Literal["SpiffAnnounced"]
    data: SpiffAnnouncedData

    @property
    def partition_key(self) -> str:
        return self.data.spiff_id


class PayoutApprovedData(Contract):
    payout_id: Identifier
    rep_id: Identifier
    period: Period
    amount: Money
    approved_by: Identifier
    statement_id: Identifier | None = Field(None, description="The statement the payout settles.")


class PayoutApproved(Envelope):
    """A rep's payout for a period was approved for payroll; later corrections go to later periods."""

    type: Literal["PayoutApproved"]
    data: PayoutApprovedData

    @property
    def partition_key(self) -> str:
        return self.data.rep_id


class AdjustmentDirection(StrEnum):
    ADD = "add"
    """The amount is added to the rep's commission for the period."""
    DEDUCT = "deduct"
    """The amount is deducted from it."""


class CommissionAdjustedData(Contract):
    adjustment_id: Identifier
    rep_id: Identifier
    period: Period = Field(description="The statement period it belongs on (exactly that period).")
    amount: Money = Field(description="How much is added or deducted; never negative: see `direction`.")
    direction: AdjustmentDirection
    reason: ShortText = Field(description="Why, as the rep reads it on the statement.")
    requested_by: Identifier = Field(description="Who asked for it (a manager or comp admin).")
    deal_id: Identifier | None = Field(None, description="The deal it corrects, if any.")


class CommissionAdjusted(Envelope):
    """A rep's commission for a period was adjusted by hand: an amount added or deducted, and why.

    Money in the catalogue is never negative, so ``direction`` says which way the amount goes.
    """

    type: Literal["CommissionAdjusted"]
    data: CommissionAdjustedData

    @property
    def partition_key(self) -> str:
        return self.data.rep_id
