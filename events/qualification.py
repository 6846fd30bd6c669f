"""Qualification events: deciding whether a lead is worth selling to, and learning what it needs.

Qualifying a lead opens a deal: `LeadQualified` names the new deal, and from then on the funnel's
facts are keyed by the deal. A disqualified lead stops here, with its reason.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field, StrictBool

from events.envelope import Contract, Envelope, Identifier, LongText, ShortText
from events.money import Money
from events.period import Day


class BantAnswers(Contract):
    """What the buyer said on each BANT criterion, and whether the rep judged it met."""

    budget_met: StrictBool
    budget: Money | None = Field(None, description="Budget the buyer stated, if they did.")
    authority_met: StrictBool
    decision_maker: ShortText | None = Field(None, description="Role of who signs, e.g. CFO.")
    need_met: StrictBool
    need: LongText | None = Field(None, description="The need in the buyer's words.")
    timeline_met: StrictBool
    decision_by: Day | None = Field(None, description="When the buyer expects to decide.")


class LeadQualifiedData(Contract):
    lead_id: Identifier
    deal_id: Identifier = Field(description="The deal this qualification opens.")
    rep_id: Identifier = Field(description="The rep who owns the new deal.")
    bant: BantAnswers


class LeadQualified(Envelope):
    """A lead passed qualification (BANT) and became a deal in the pipeline.

    Teams differ on how many BANT criteria must be met, so the answers are recorded as given and
    the decision is the rep's; conversion and stage metrics start here.
    """

    type: Literal["LeadQualified"]
    data: LeadQualifiedData

    @property
    def partition_key(self) -> str:
        return self.data.lead_id


class DisqualificationReason(StrEnum):
    NO_BUDGET = "no_budget"
    NO_AUTHORITY = "no_authority"
    NO_NEED = "no_need"
    NO_TIMELINE = "no_timeline"
    UNREACHABLE = "unreachable"
    COMPETITOR_LOCKED_IN = "competitor_locked_in"
    DUPLICATE = "duplicate"
    OTHER = "other"


class LeadDisqualifiedData(Contract):
    lead_id: Identifier
    rep_id: Identifier
    reason: DisqualificationReason
    notes: LongText | None = None


class LeadDisqualified(Envelope):
    """A lead was judged not worth pursuing; the reason shows where prospecting aims wrong."""

    type: Literal["LeadDisqualified"]
    data: LeadDisqualifiedData

    @property
    def partition_key(self) -> str:
        return self.data.lead_id


class NeedsAssessedData(Contract):
    deal_id: Identifier
    rep_id: Identifier
    pain_points: tuple[ShortText, ...] = Field(min_length=1, max_length=50)
    requirements: tuple[ShortText, ...] = Field((), max_length=100)


class NeedsAssessed(Envelope):
    """The buyer's pain points and requirements were established, so the pitch can be tailored."""

    type: Literal["NeedsAssessed"]
    data: NeedsAssessedData

    @property
    def partition_key(self) -> str:
        return self.data.deal_id
