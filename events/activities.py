"""Sales activity events: facts a rep's tools report about their work on a lead or deal."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from events.envelope import Contract, Envelope, Identifier, LongText


class CallOutcome(StrEnum):
    CONNECTED = "connected"
    VOICEMAIL = "voicemail"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    WRONG_NUMBER = "wrong_number"


class CallLoggedData(Contract):
    rep_id: Identifier = Field(description="The rep who made or took the call.")
    lead_id: Identifier = Field(description="The lead the call was about.")
    deal_id: Identifier | None = Field(None, description="The deal, once there is one.")
    direction: Literal["outbound", "inbound"] = "outbound"
    outcome: CallOutcome
    duration_seconds: Annotated[int, Field(strict=True, ge=0, le=24 * 3600)] = Field(
        description="Talk time in whole seconds (0 when nobody answered)."
    )
    notes: LongText | None = None


class CallLogged(Envelope):
    """A rep logged a call on a lead (usually published by the dialer)."""

    type: Literal["CallLogged"]
    data: CallLoggedData

    @property
    def partition_key(self) -> str:
        return self.data.lead_id
