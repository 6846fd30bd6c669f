"""Incentive events: compensation plans, who is on them, SPIFFs, and approved payouts.

A plan is published in versions, each effective over a range of days; a rep is assigned to a
plan (not to a version), and the version in force on a given day is the one that applies to
credit earned that day. A correction is a new version or assignment, never an edit.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from events.envelope import Contract, Envelope, Identifier, ShortText
from events.money import Currency, Money
from events.period import EffectiveDated, Period
from events.plan_rules import Rules
from events.presentation import ProductIds


class CompPlanPublishedData(EffectiveDated):
    plan_id: Identifier
    plan_version: Annotated[int, Field(strict=True, ge=1)] = Field(description="1, 2, ... per plan.")
    name: ShortText
    currency: Currency = Field(description="Currency of every amount in the rules.")
    rules: Rules


class CompPlanPublished(Envelope):
    """A version of a compensation plan was published: its rules apply over its effective dates."""

    type: Literal["CompPlanPublished"]
    data: CompPlanPublishedData

    @property
    def partition_key(self) -> str:
        return self.data.plan_id


class CompPlanAssignedData(EffectiveDated):
    rep_id: Identifier
    plan_id: Identifier


class CompPlanAssigned(Envelope):
    """A rep was put on a compensation plan for a range of days (keyed by rep: one plan at a time)."""

    type: Literal["CompPlanAssigned"]
    data: CompPlanAssignedData

    @property
    def partition_key(self) -> str:
        return self.data.rep_id


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
