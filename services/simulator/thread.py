"""What a lead's story knows while it runs: the lead, its deal, who works it, and how to say so.

A `LeadThread` wraps the story's clock and ids (`Story`) with the lead's facts and the organisation
plan, so the prospecting, deal and customer chapters stay short: ``thread.event(type, data)``
stamps the time, the source system, the subject and the acting rep.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.simulator.config import SimConfig
from services.simulator.org import Org
from services.simulator.story import Draft, Story

CRM, DIALER, MAIL = "/sim/crm", "/sim/dialer", "/sim/mail"
CALENDAR, SOCIAL, MARKETING, BILLING = "/sim/calendar", "/sim/social", "/sim/marketing", "/sim/billing"
SOURCE_OF = {
    "ProspectResearchLogged": CRM,
    "CallLogged": DIALER,
    "EmailSent": MAIL,
    "EmailReplied": MAIL,
    "MeetingHeld": CALENDAR,
    "SocialTouch": SOCIAL,
    "NurtureTouch": MARKETING,
    "CustomerRenewed": BILLING,
    "CustomerChurned": BILLING,
}
"""The tool that reports each kind of fact (the CRM for everything else)."""
LEAD_KEYED = frozenset(
    {"LeadCaptured", "ProspectResearchLogged", "CallLogged", "EmailSent", "EmailReplied", "MeetingHeld"}
    | {"SocialTouch", "LeadQualified", "LeadDisqualified"}
)
CUSTOMER_KEYED = frozenset(
    {"FollowUpDone", "NurtureTouch", "CustomerRenewed", "CustomerChurned", "CustomerExpanded"}
)


@dataclass(slots=True)
class LeadThread:
    cfg: SimConfig
    org: Org
    story: Story
    number: int
    team_id: str
    source: str
    segment: str
    company: str
    worker: str
    """The rep the lead was routed to (their successor takes over if they leave)."""
    size: int
    """The deal amount this lead would be worth, drawn once."""
    sdr: str | None = None
    owner: str | None = None
    """The account executive who owns the deal, once qualified."""
    se: str | None = None
    account_manager: str | None = None
    stage: str = "qualified"
    objections: int = 0
    proposals: int = 0
    proposal_amount: int = 0
    products: list[str] = field(default_factory=list)
    loss_reason: str | None = None

    @property
    def lead_id(self) -> str:
        return f"lead-{self.number:06d}"

    @property
    def deal_id(self) -> str:
        return f"deal-{self.number:06d}"

    @property
    def customer_id(self) -> str:
        return f"cust-{self.number:06d}"

    def current(self, rep_id: str) -> str:
        """Who does ``rep_id``'s work today (their successor once they left)."""
        return self.org.owner(rep_id, self.story.at.date())

    def rep(self) -> str:
        """The rep acting now: the deal's owner once there is one, else whoever works the lead."""
        return self.current(self.owner or self.worker)

    def event(self, type_: str, data: dict[str, Any], source: str | None = None) -> Draft:
        if type_ in LEAD_KEYED:
            subject = self.lead_id
        elif type_ in CUSTOMER_KEYED:
            subject = self.customer_id
        else:
            subject = self.deal_id
        actor = data.get("rep_id") if isinstance(data.get("rep_id"), str) else None
        return self.story.emit(type_, source or SOURCE_OF.get(type_, CRM), subject, data, actor)

    def money(self, amount: int) -> dict[str, str]:
        return {"amount": f"{amount}.00", "currency": self.cfg.currency}

    def days(self, low: int, high: int, stretch: float = 1.0) -> None:
        """Wait ``low`` to ``high`` business days, lengthened by ``stretch`` (enterprise deals)."""
        self.story.days_later(round(low * stretch), round(high * stretch))
