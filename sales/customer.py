"""The customer: the account a won deal created, followed up, nurtured, renewed, expanded or lost.

Business rules (names in `sales.rules`):

- A customer exists once a deal is won for it: `DealWon` (keyed by the deal) opens or updates the
  customer it names (see `sales.routing.opens`). Winning again after a churn makes the
  customer active again; a win is always accepted on the customer side.
- Renewals, expansions and churn need a customer with a won deal (``customer_unknown``) that has
  not churned (``customer_churned``): churning twice, or renewing what was lost, contradicts the
  record until the customer is won again.
- A follow-up is about a deal won for this customer, and churn names only such deals
  (``deal_not_won_for_customer``): clawbacks look those deals up.
- Nurture touches are facts about work done and are always accepted, churned or not (win-back
  campaigns are nurturing too).

Not checked here: that the renewed contract or the expansion deal exists elsewhere, and whether a
won deal was later reopened (the customer keeps it: the win happened).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from events.customers import CustomerChurned, CustomerExpanded, CustomerRenewed, FollowUpDone, NurtureTouch
from events.deals import DealWon
from events.envelope import Envelope
from sales import snapshot
from sales.names import event_type, payload
from sales.process import ProcessConfig
from sales.rules import RuleViolation

STATE_VERSION = 1
HANDLES = frozenset(
    {"DealWon", "FollowUpDone", "NurtureTouch", "CustomerRenewed", "CustomerChurned", "CustomerExpanded"}
)


@dataclass(frozen=True, slots=True)
class CustomerState:
    customer_id: str
    won_deals: tuple[str, ...] = ()
    churned: bool = False
    renewals: int = 0
    expansions: int = 0
    follow_ups: int = 0
    nurture_touches: int = 0
    events: int = 0

    @property
    def active(self) -> bool:
        return bool(self.won_deals) and not self.churned

    def to_dict(self) -> dict[str, Any]:
        return snapshot.dump(self, STATE_VERSION)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CustomerState:
        return snapshot.load(cls, data, STATE_VERSION)


def open_customer(event: DealWon) -> CustomerState:
    """The customer a first win creates."""
    return CustomerState(event.data.customer_id, won_deals=(event.data.deal_id,), events=1)


def decide(state: CustomerState | None, event: Envelope, process: ProcessConfig) -> None:
    """Raise `RuleViolation` if the process does not allow ``event`` on the customer."""
    if isinstance(event, DealWon | NurtureTouch):
        return
    customer = state or CustomerState(payload(event).customer_id)
    if isinstance(event, FollowUpDone):
        _check_won_here(customer, (event.data.deal_id,))
        return
    if not customer.won_deals:
        raise RuleViolation("customer_unknown", f"no deal was won for {customer.customer_id}")
    if customer.churned:
        raise RuleViolation("customer_churned", f"{customer.customer_id} churned and was not won again")
    if isinstance(event, CustomerChurned):
        _check_won_here(customer, event.data.deal_ids)


def _check_won_here(customer: CustomerState, deal_ids: tuple[str, ...]) -> None:
    strangers = [deal for deal in deal_ids if deal not in customer.won_deals]
    if strangers:
        raise RuleViolation(
            "deal_not_won_for_customer", f"{', '.join(strangers)} not won for {customer.customer_id}"
        )


def evolve(state: CustomerState | None, event: Envelope, process: ProcessConfig) -> CustomerState:
    """The customer after ``event`` (assumed accepted)."""
    if state is None and isinstance(event, DealWon):
        return open_customer(event)
    customer = state or CustomerState(payload(event).customer_id)
    customer = replace(customer, events=customer.events + 1)
    match event:
        case DealWon():
            won = customer.won_deals
            deals = won if event.data.deal_id in won else (*won, event.data.deal_id)
            return replace(customer, won_deals=deals, churned=False)
        case FollowUpDone():
            return replace(customer, follow_ups=customer.follow_ups + 1)
        case NurtureTouch():
            return replace(customer, nurture_touches=customer.nurture_touches + 1)
        case CustomerRenewed():
            return replace(customer, renewals=customer.renewals + 1)
        case CustomerExpanded():
            return replace(customer, expansions=customer.expansions + 1)
        case CustomerChurned():
            return replace(customer, churned=True)
    raise TypeError(f"{event_type(event)} is not a customer event")
