"""Deal events: the pipeline's stages, the proposal, and the close (won with credit, or lost).

A deal is closed only by `DealWon` or `DealLost`, never by a stage change to ``won`` or ``lost``:
one fact, one event, so a win cannot be counted twice. A stage change *from* a closed stage is a
reopened deal.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, ValidationInfo, field_validator

from events.envelope import Contract, Envelope, Identifier, LongText, ShortText
from events.money import Money, Share
from events.period import Day
from events.presentation import ProductIds


class Stage(StrEnum):
    """The default sales process; organisations may configure other stage names."""

    PROSPECTING = "prospecting"
    QUALIFIED = "qualified"
    NEEDS_ASSESSED = "needs_assessed"
    SOLUTION_PRESENTED = "solution_presented"
    OBJECTION_HANDLING = "objection_handling"
    CLOSING = "closing"
    WON = "won"
    LOST = "lost"


CLOSED_STAGES: frozenset[str] = frozenset({Stage.WON, Stage.LOST})

StageName = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
]
"""A stage name in lower snake case: one of `Stage` or one an organisation configured."""


class ProposalSentData(Contract):
    deal_id: Identifier
    rep_id: Identifier
    proposal_id: Identifier
    amount: Money
    products: ProductIds = Field(min_length=1, max_length=100)
    valid_until: Day | None = Field(None, description="Last day the offer stands.")


class ProposalSent(Envelope):
    """A written proposal (the offer the buyer can sign) was sent."""

    type: Literal["ProposalSent"]
    data: ProposalSentData

    @property
    def partition_key(self) -> str:
        return self.data.deal_id


class DealStageChangedData(Contract):
    deal_id: Identifier
    rep_id: Identifier = Field(description="The deal's owner, whose pipeline it is in.")
    from_stage: StageName | None = Field(None, description="Absent when the deal enters its first stage.")
    to_stage: StageName

    @field_validator("to_stage")
    @classmethod
    def _open_stage_and_a_change(cls, to_stage: str, info: ValidationInfo) -> str:
        if to_stage in CLOSED_STAGES:
            raise ValueError(
                f"a deal is closed by DealWon or DealLost, not by a stage change to {to_stage!r}"
            )
        if to_stage == info.data.get("from_stage"):
            raise ValueError("to_stage must differ from from_stage")
        return to_stage


class DealStageChanged(Envelope):
    """A deal moved between open stages of the pipeline (or was reopened from a closed one)."""

    type: Literal["DealStageChanged"]
    data: DealStageChangedData

    @property
    def partition_key(self) -> str:
        return self.data.deal_id


class CreditSplit(Contract):
    rep_id: Identifier
    share_percent: Share = Field(description='Share of the credit, e.g. "50".')


def _whole_credit_once(splits: tuple[CreditSplit, ...]) -> tuple[CreditSplit, ...]:
    total = sum((split.share_percent for split in splits), Decimal(0))
    if total != 100:
        raise ValueError(f"credit split shares must total exactly 100%, not {total}%")
    reps = [split.rep_id for split in splits]
    if len(set(reps)) != len(reps):
        raise ValueError("each rep may appear only once in the credit splits")
    return splits


CreditSplits = Annotated[
    tuple[CreditSplit, ...], Field(min_length=1, max_length=20), AfterValidator(_whole_credit_once)
]
"""Who gets credit for a deal: shares must total exactly 100 (a remainder goes to one rep: 33.34)."""


class DealWonData(Contract):
    deal_id: Identifier
    customer_id: Identifier = Field(description="The account that bought; renewals and churn refer to it.")
    rep_id: Identifier = Field(description="The deal's owner.")
    amount: Money = Field(description="Contract value credited toward quota.")
    products: ProductIds = Field(min_length=1, max_length=100)
    credit_splits: CreditSplits


class DealWon(Envelope):
    """A deal closed won: the contract was signed, and its credit is split between reps.

    Quota attainment and commissions are computed from the amount and splits. A deal reopened and
    won again brings a second `DealWon` for the same ``deal_id``: read models must count it once.
    """

    type: Literal["DealWon"]
    data: DealWonData

    @property
    def partition_key(self) -> str:
        return self.data.deal_id


class LossReason(StrEnum):
    PRICE = "price"
    COMPETITOR = "competitor"
    NO_BUDGET = "no_budget"
    NO_DECISION = "no_decision"
    TIMING = "timing"
    FUNCTIONALITY = "functionality"
    LOST_CONTACT = "lost_contact"
    OTHER = "other"


class DealLostData(Contract):
    deal_id: Identifier
    rep_id: Identifier
    reason: LossReason
    competitor: ShortText | None = Field(None, description="Who won instead, if known.")
    notes: LongText | None = None


class DealLost(Envelope):
    """A deal closed lost; win rate counts it and the reason says what to coach."""

    type: Literal["DealLost"]
    data: DealLostData

    @property
    def partition_key(self) -> str:
        return self.data.deal_id
