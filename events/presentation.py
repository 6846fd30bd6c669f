"""Presentation events: pitching a solution to a deal and handling the objections it meets.

Objections are raised and resolved as separate facts joined by ``objection_id``, so open
objections, and which kinds a rep struggles to resolve, can be counted.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from events.envelope import Contract, Envelope, Identifier, LongText
from events.money import Money

ProductIds = tuple[Identifier, ...]


class SolutionPresentedData(Contract):
    deal_id: Identifier
    rep_id: Identifier
    products: ProductIds = Field(min_length=1, max_length=100, description="Product ids (SKUs) pitched.")
    proposed_amount: Money


class SolutionPresented(Envelope):
    """A solution tailored to the assessed needs was pitched: which products, for how much."""

    type: Literal["SolutionPresented"]
    data: SolutionPresentedData

    @property
    def partition_key(self) -> str:
        return self.data.deal_id


class ObjectionCategory(StrEnum):
    PRICE = "price"
    FUNCTIONALITY = "functionality"
    TIMING = "timing"
    OTHER = "other"


class ObjectionRaisedData(Contract):
    deal_id: Identifier
    rep_id: Identifier
    objection_id: Identifier = Field(description="Referred to when the objection is resolved.")
    category: ObjectionCategory
    detail: LongText | None = None


class ObjectionRaised(Envelope):
    """The buyer raised an objection; open objections stall a deal."""

    type: Literal["ObjectionRaised"]
    data: ObjectionRaisedData

    @property
    def partition_key(self) -> str:
        return self.data.deal_id


class ObjectionResolvedData(Contract):
    deal_id: Identifier
    rep_id: Identifier
    objection_id: Identifier = Field(description="The `ObjectionRaised` this answers.")
    resolution: LongText | None = Field(None, description="How it was answered.")


class ObjectionResolved(Envelope):
    """An objection the buyer raised was answered to their satisfaction."""

    type: Literal["ObjectionResolved"]
    data: ObjectionResolvedData

    @property
    def partition_key(self) -> str:
        return self.data.deal_id
