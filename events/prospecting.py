"""Prospecting events: how leads enter the funnel."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from events.envelope import Contract, Envelope, Identifier, ShortText


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
