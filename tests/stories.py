"""Event sequences that tell one small sales story each, as (type, data) pairs in publishing order.

Tests publish them their own way (over HTTP with a key, or with kcat onto the inbound topic) with
`tests.samples.sample_event` filling every field not named here.
"""

from __future__ import annotations

from typing import Any

from tests.samples import money
from tests.support import unique

Step = tuple[str, dict[str, Any]]


def opened_deal(rep: str, lead: str, deal: str) -> list[Step]:
    """A lead captured and qualified into an open deal."""
    return [
        ("LeadCaptured", {"lead_id": lead, "rep_id": rep}),
        ("LeadQualified", {"lead_id": lead, "deal_id": deal, "rep_id": rep}),
    ]


def won_deal(rep: str, lead: str, deal: str, amount: str, customer: str | None = None) -> list[Step]:
    """A deal opened, assessed, presented, moved to closing and won, all credited to ``rep``."""
    return [
        *opened_deal(rep, lead, deal),
        ("NeedsAssessed", {"deal_id": deal, "rep_id": rep}),
        ("SolutionPresented", {"deal_id": deal, "rep_id": rep, "proposed_amount": money(amount)}),
        (
            "DealStageChanged",
            {"deal_id": deal, "rep_id": rep, "from_stage": "solution_presented", "to_stage": "closing"},
        ),
        (
            "DealWon",
            {
                "deal_id": deal,
                "customer_id": customer or unique("cust"),
                "rep_id": rep,
                "amount": money(amount),
                "credit_splits": [{"rep_id": rep, "share_percent": "100"}],
            },
        ),
    ]
