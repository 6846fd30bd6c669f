"""Customer events: life after the sale (follow-up, nurturing) and what it earns or loses.

Keyed by the customer (the account that bought), so its renewals, expansions and churn stay in
order. Churn names the won deals whose revenue it takes away: clawback rules look them up.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from events.envelope import Contract, Envelope, Identifier, LongText
from events.money import Money
from events.period import Period
from events.presentation import ProductIds


class ExpansionKind(StrEnum):
    UPSELL = "upsell"
    """More of what the customer already has (seats, a higher edition)."""
    CROSS_SELL = "cross_sell"
    """A product the customer does not have yet."""


class FollowUpDoneData(Contract):
    customer_id: Identifier
    deal_id: Identifier = Field(description="The won deal being followed up.")
    rep_id: Identifier
    satisfaction: Annotated[int, Field(strict=True, ge=1, le=5)] | None = Field(
        None, description="Customer satisfaction, 1 (poor) to 5 (excellent)."
    )
    opportunities: tuple[ExpansionKind, ...] = Field((), max_length=2, description="Openings spotted.")
    notes: LongText | None = None


class FollowUpDone(Envelope):
    """A rep checked in after a sale: was it delivered, is the customer satisfied, is there more?"""

    type: Literal["FollowUpDone"]
    data: FollowUpDoneData

    @property
    def partition_key(self) -> str:
        return self.data.customer_id


class NurtureKind(StrEnum):
    NEWSLETTER = "newsletter"
    OFFER = "offer"
    SERVICE_CHECK = "service_check"
    FEEDBACK_REQUEST = "feedback_request"
    EVENT_INVITE = "event_invite"
    OTHER = "other"


class NurtureTouchData(Contract):
    customer_id: Identifier
    rep_id: Identifier
    kind: NurtureKind
    notes: LongText | None = None


class NurtureTouch(Envelope):
    """A touch that keeps the relationship warm between sales: communications, offers, service."""

    type: Literal["NurtureTouch"]
    data: NurtureTouchData

    @property
    def partition_key(self) -> str:
        return self.data.customer_id


class CustomerRenewedData(Contract):
    customer_id: Identifier
    contract_id: Identifier
    rep_id: Identifier = Field(description="The rep credited with the renewal.")
    deal_id: Identifier | None = Field(None, description="The renewal deal, if one was tracked.")
    amount: Money = Field(description="Value of the renewed contract.")
    term: Period = Field(description="The new contract term.")


class CustomerRenewed(Envelope):
    """A customer renewed a contract for a new term; retention counts it."""

    type: Literal["CustomerRenewed"]
    data: CustomerRenewedData

    @property
    def partition_key(self) -> str:
        return self.data.customer_id


class ChurnReason(StrEnum):
    PRICE = "price"
    PRODUCT_FIT = "product_fit"
    COMPETITOR = "competitor"
    BUDGET_CUT = "budget_cut"
    POOR_SERVICE = "poor_service"
    BUSINESS_CLOSED = "business_closed"
    OTHER = "other"


class CustomerChurnedData(Contract):
    customer_id: Identifier
    reason: ChurnReason
    deal_ids: tuple[Identifier, ...] = Field(
        (), max_length=100, description="Won deals whose revenue is lost (clawbacks look these up)."
    )
    lost_amount: Money | None = Field(None, description="Recurring revenue lost, if known.")
    notes: LongText | None = None


class CustomerChurned(Envelope):
    """A customer cancelled or did not renew; commissions on recent deals may be clawed back."""

    type: Literal["CustomerChurned"]
    data: CustomerChurnedData

    @property
    def partition_key(self) -> str:
        return self.data.customer_id


class CustomerExpandedData(Contract):
    customer_id: Identifier
    deal_id: Identifier = Field(description="The expansion deal.")
    rep_id: Identifier
    kind: ExpansionKind
    products: ProductIds = Field(min_length=1, max_length=100)
    amount: Money = Field(description="Value added to the account.")


class CustomerExpanded(Envelope):
    """An existing customer bought more (upsell) or something else (cross-sell)."""

    type: Literal["CustomerExpanded"]
    data: CustomerExpandedData

    @property
    def partition_key(self) -> str:
        return self.data.customer_id
