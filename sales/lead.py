"""The lead: captured, worked by activities, then qualified into a deal or disqualified.

Business rules (names in `sales.rules`):

- A lead is captured once (``lead_already_captured``) and decided once: qualified
  (``lead_already_qualified``) or disqualified (``lead_disqualified``), and only after it was
  captured (``lead_not_captured``). A disqualified lead may be qualified later only if the
  process sets ``lead.requalify_disqualified``.
- Qualifying needs every BANT criterion in ``lead.bant_required`` judged met (``bant_required``).
- Activities (research, calls, emails, meetings, social touches) are facts about work that was
  done: they are always accepted and counted, before capture, after qualification and after
  disqualification alike. Rejecting them would lose real work from the activity KPIs.

Not checked here: that an activity's ``deal_id`` is the deal this lead opened, and that its rep
is active (other aggregates).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from events.envelope import Envelope
from events.prospecting import LeadCaptured
from events.qualification import LeadDisqualified, LeadQualified
from sales import snapshot
from sales.deal import bant_met
from sales.names import event_type, payload
from sales.process import ProcessConfig
from sales.rules import RuleViolation

STATE_VERSION = 1
ACTIVITIES = frozenset(
    {"ProspectResearchLogged", "CallLogged", "EmailSent", "EmailReplied", "MeetingHeld", "SocialTouch"}
)
HANDLES = ACTIVITIES | {"LeadCaptured", "LeadQualified", "LeadDisqualified"}


@dataclass(frozen=True, slots=True)
class LeadState:
    lead_id: str
    captured: bool = False
    rep_id: str | None = None
    source: str | None = None
    outcome: str | None = None
    """None while open, then ``qualified`` or ``disqualified``."""
    deal_id: str | None = None
    disqualified_reason: str | None = None
    activities: int = 0
    events: int = 0

    def to_dict(self) -> dict[str, Any]:
        return snapshot.dump(self, STATE_VERSION)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LeadState:
        return snapshot.load(cls, data, STATE_VERSION)


def decide(state: LeadState | None, event: Envelope, process: ProcessConfig) -> None:
    """Raise `RuleViolation` if the process does not allow ``event`` on the lead."""
    if event_type(event) in ACTIVITIES:
        return
    lead = state or LeadState(_lead_id(event))
    if isinstance(event, LeadCaptured):
        if lead.captured:
            raise RuleViolation("lead_already_captured", f"{lead.lead_id} was captured from {lead.source}")
        return
    if not lead.captured:
        raise RuleViolation("lead_not_captured", f"{lead.lead_id} was never captured (LeadCaptured)")
    if lead.outcome == "qualified":
        raise RuleViolation("lead_already_qualified", f"{lead.lead_id} became deal {lead.deal_id}")
    may_requalify = isinstance(event, LeadQualified) and process.lead.requalify_disqualified
    if lead.outcome == "disqualified" and not may_requalify:
        raise RuleViolation(
            "lead_disqualified", f"{lead.lead_id} was disqualified: {lead.disqualified_reason}"
        )
    if isinstance(event, LeadQualified):
        missing = [c for c in process.lead.bant_required if c not in bant_met(event.data.bant)]
        if missing:
            raise RuleViolation("bant_required", f"the process requires BANT {', '.join(missing)} to be met")


def evolve(state: LeadState | None, event: Envelope, process: ProcessConfig) -> LeadState:
    """The lead after ``event`` (assumed accepted)."""
    lead = state or LeadState(_lead_id(event))
    lead = replace(lead, events=lead.events + 1)
    match event:
        case LeadCaptured():
            return replace(lead, captured=True, rep_id=event.data.rep_id, source=event.data.source.value)
        case LeadQualified():
            data = event.data
            return replace(
                lead, outcome="qualified", deal_id=data.deal_id, rep_id=data.rep_id, disqualified_reason=None
            )
        case LeadDisqualified():
            return replace(lead, outcome="disqualified", disqualified_reason=event.data.reason.value)
    if event_type(event) in ACTIVITIES:
        return replace(lead, activities=lead.activities + 1)
    raise TypeError(f"{event_type(event)} is not a lead event")


def _lead_id(event: Envelope) -> str:
    lead_id: str = payload(event).lead_id
    return lead_id
