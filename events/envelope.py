"""The CloudEvents 1.0 envelope every Salesledger event travels in.

Attribute names follow the CloudEvents spec (``id``, ``source``, ``type``, ``specversion``,
``time``, ``subject``, ``datacontenttype``, ``dataschema``); our extensions are lower-case
alphanumerics as the spec requires: ``schemaversion``, ``recordedtime``, ``actor``,
``correlationid`` and ``causationid``.

``id`` is the idempotency key: a publisher that retries sends the same id again. ``time`` is when
the fact happened (set by the publisher); ``recordedtime`` is when Salesledger accepted it (stamped
at the edge, never inside domain code), so late and out-of-order facts are attributed correctly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

Identifier = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@/-]+$")
]
"""Ids of events, reps, leads and deals: short, printable, no spaces (safe as Kafka keys)."""

ShortText = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=256)]
LongText = Annotated[str, StringConstraints(strict=True, max_length=4000)]


class Contract(BaseModel):
    """Base of every payload: immutable, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Envelope(Contract):
    """CloudEvents attributes shared by every event type (the payload lives in ``data``)."""

    specversion: Literal["1.0"] = Field(description="CloudEvents version; always 1.0.")
    id: Identifier = Field(description="Unique event id, the idempotency key.")
    source: Annotated[str, StringConstraints(strict=True, min_length=1, max_length=256)] = Field(
        description="URI-reference of the publishing tool, e.g. `/dialer/eu-1`."
    )
    time: AwareDatetime = Field(description="When the fact happened (timezone required).")
    subject: Identifier | None = Field(None, description="What the event is about, e.g. a lead id.")
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: Annotated[str, StringConstraints(max_length=512)] | None = None
    schemaversion: Annotated[int, Field(strict=True, ge=1)] = Field(
        1, description="Version of this event type's schema (extension attribute)."
    )
    recordedtime: AwareDatetime | None = Field(
        None, description="When Salesledger accepted the event; stamped on ingestion."
    )
    actor: Identifier | None = Field(None, description="Who caused it (user or system id).")
    correlationid: Identifier | None = None
    causationid: Identifier | None = None

    def recorded(self, at: datetime) -> Envelope:
        """A copy stamped with the time Salesledger accepted it; whatever a publisher put there
        is overwritten, because only our own clock may say when we accepted something."""
        return self.model_copy(update={"recordedtime": at})

    @property
    def partition_key(self) -> str:
        """Kafka key: the aggregate the event belongs to, so its events stay in order."""
        return self.subject or self.id
