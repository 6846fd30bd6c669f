"""Sales activity events: facts a rep's tools report about their work on a lead or deal.

Every activity names the lead it was about (and the deal, once there is one) and is keyed by the
lead, so a lead's touches stay in order whichever tool reported them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from events.envelope import Contract, Envelope, Identifier, LongText
from events.versions import Document, UpcastError


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


class EmailSentData(Contract):
    rep_id: Identifier
    lead_id: Identifier
    deal_id: Identifier | None = None
    message_id: Identifier = Field(description="The mail system's id, which a reply refers to.")
    template_id: Identifier | None = Field(None, description="Sequence or template step, if any.")


class EmailSent(Envelope):
    """A rep emailed a lead (a sequence step or a personal email)."""

    type: Literal["EmailSent"]
    data: EmailSentData

    @property
    def partition_key(self) -> str:
        return self.data.lead_id


class ReplySentiment(StrEnum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"
    OUT_OF_OFFICE = "out_of_office"
    UNSUBSCRIBE = "unsubscribe"


class EmailRepliedData(Contract):
    rep_id: Identifier = Field(description="The rep whose email was answered.")
    lead_id: Identifier
    deal_id: Identifier | None = None
    message_id: Identifier = Field(description="The reply's own id.")
    in_reply_to: Identifier = Field(description="`message_id` of the email answered.")
    sentiment: ReplySentiment | None = Field(None, description="As classified by the mail tool.")


class EmailReplied(Envelope):
    """A lead answered a rep's email: the response rate counts these."""

    type: Literal["EmailReplied"]
    data: EmailRepliedData

    @property
    def partition_key(self) -> str:
        return self.data.lead_id


class MeetingKind(StrEnum):
    DISCOVERY = "discovery"
    DEMO = "demo"
    PROPOSAL_REVIEW = "proposal_review"
    NEGOTIATION = "negotiation"
    CHECK_IN = "check_in"
    OTHER = "other"


class MeetingChannel(StrEnum):
    IN_PERSON = "in_person"
    VIDEO = "video"
    PHONE = "phone"


class MeetingHeldData(Contract):
    rep_id: Identifier
    lead_id: Identifier
    deal_id: Identifier | None = None
    kind: MeetingKind
    channel: MeetingChannel
    duration_seconds: Annotated[int, Field(strict=True, ge=1, le=24 * 3600)] = Field(
        description="Length in whole seconds, as calendar and video tools report it."
    )
    attendee_count: Annotated[int, Field(strict=True, ge=1, le=1000)] = Field(
        description="People on the buyer's side."
    )
    notes: LongText | None = None


class MeetingHeld(Envelope):
    """A meeting with a lead took place (not merely booked).

    Version 2 measures ``duration_seconds`` like `CallLogged`, so talk time adds up across calls
    and meetings; version 1 had whole ``duration_minutes`` (see `meeting_held_v1_to_v2`).
    """

    type: Literal["MeetingHeld"]
    schemaversion: Annotated[int, Field(strict=True, ge=2, le=2)] = Field(
        2, description="Version of this event type's schema (extension attribute)."
    )
    data: MeetingHeldData

    @property
    def partition_key(self) -> str:
        return self.data.lead_id


def meeting_held_v1_to_v2(document: Document) -> Document:
    """MeetingHeld v1 -> v2: whole ``duration_minutes`` (1..1440) become ``duration_seconds``."""
    data = document.get("data")
    if not isinstance(data, dict):
        return document  # validation reports the missing or malformed data
    if "duration_seconds" in data:
        raise UpcastError("data.duration_seconds", "Extra inputs are not permitted (new in schemaversion 2)")
    minutes = data.get("duration_minutes")
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 24 * 60:
        raise UpcastError("data.duration_minutes", "Input should be a whole number of minutes from 1 to 1440")
    reshaped = {key: value for key, value in data.items() if key != "duration_minutes"}
    return {**document, "data": {**reshaped, "duration_seconds": minutes * 60}}


class SocialNetwork(StrEnum):
    LINKEDIN = "linkedin"
    X = "x"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    OTHER = "other"


class SocialAction(StrEnum):
    CONNECTION_REQUEST = "connection_request"
    MESSAGE = "message"
    COMMENT = "comment"
    REACTION = "reaction"
    SHARE = "share"


class SocialTouchData(Contract):
    rep_id: Identifier
    lead_id: Identifier
    deal_id: Identifier | None = None
    network: SocialNetwork
    action: SocialAction
    notes: LongText | None = None


class SocialTouch(Envelope):
    """A rep engaged a lead on a social network (social selling)."""

    type: Literal["SocialTouch"]
    data: SocialTouchData

    @property
    def partition_key(self) -> str:
        return self.data.lead_id
