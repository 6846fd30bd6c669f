"""Prospecting events: how leads enter the funnel, and the research that finds and prepares them."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from events.envelope import Contract, Envelope, Identifier, LongText, ShortText


class LeadSource(StrEnum):
    COLD_CALL = "cold_call"
    EMAIL = "email"
    SOCIAL = "social"
    INBOUND = "inbound"
    NETWORKING = "networking"
    REFERRAL = "referral"


class LeadCapturedData(Contract):
    lead_id: Identifier
    rep_id: Identifier | None = Field(None, description="Owner, if assigned at capture.")
    source: LeadSource
    company: ShortText | None = None


class LeadCaptured(Envelope):
    """A new lead entered the funnel from one of the prospecting sources."""

    type: Literal["LeadCaptured"]
    data: LeadCapturedData

    @property
    def partition_key(self) -> str:
        return self.data.lead_id


class ProspectResearchLoggedData(Contract):
    rep_id: Identifier
    lead_id: Identifier = Field(description="The lead researched.")
    minutes: Annotated[int, Field(strict=True, ge=1, le=24 * 60)] = Field(
        description="Time spent researching, in whole minutes."
    )
    notes: LongText | None = None


class ProspectResearchLogged(Envelope):
    """A rep spent time researching a lead; top sellers spend about six hours a week on it."""

    type: Literal["ProspectResearchLogged"]
    data: ProspectResearchLoggedData

    @property
    def partition_key(self) -> str:
        return self.data.lead_id
