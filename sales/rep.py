"""The rep: onboarded, moved between teams, put on plans, paid, adjusted, and eventually leaving.

Business rules (names in `sales.rules`):

- A rep is onboarded while not active (``rep_already_active``); one who left may be onboarded
  again (a rehire).
- Team moves, leaving and plan assignments are for an active rep (``rep_not_active``); a team move
  starts from the rep's current team (``team_mismatch``; an absent ``from_team_id`` means "none").
- A payout is approved for a rep who was onboarded at some time (``rep_unknown``), including after
  they left (the final payout), and each payout id once (``payout_already_approved``).
- A commission is adjusted for a rep who was onboarded at some time (``adjustment_rep_unknown``),
  including after they left (a correction of their last periods), and each adjustment id once
  (``adjustment_already_made``): an upstream tool that sends the same adjustment again under a
  new event id must not pay it twice.
- Training and coaching are facts about work done and are always accepted.

Not checked here: that a plan assigned exists (another aggregate), effective dates against the
rep's first and last day, deals and quotas of a rep who left (other aggregates).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from events.envelope import Envelope
from events.incentives import CommissionAdjusted, CompPlanAssigned, PayoutApproved
from events.organisation import RepLeft, RepMovedTeam, RepOnboarded
from sales import snapshot
from sales.names import event_type, payload
from sales.process import ProcessConfig
from sales.rules import RuleViolation

STATE_VERSION = 2
HANDLES = frozenset(
    {
        "RepOnboarded",
        "RepMovedTeam",
        "RepLeft",
        "CompPlanAssigned",
        "CommissionAdjusted",
        "PayoutApproved",
        "TrainingCompleted",
        "CoachingSessionHeld",
    }
)


@dataclass(frozen=True, slots=True)
class RepState:
    rep_id: str
    onboarded: bool = False
    active: bool = False
    team_id: str | None = None
    plan_id: str | None = None
    payouts: tuple[str, ...] = ()
    events: int = 0
    adjustments: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return snapshot.dump(self, STATE_VERSION)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RepState:
        if data.get("state_version") == 1:  # before adjustment ids were kept: none known
            data = {**data, "state_version": 2, "adjustments": []}
        return snapshot.load(cls, data, STATE_VERSION)


def decide(state: RepState | None, event: Envelope, process: ProcessConfig) -> None:
    """Raise `RuleViolation` if the process does not allow ``event`` on the rep."""
    rep = state or RepState(payload(event).rep_id)
    if isinstance(event, RepOnboarded) and rep.active:
        raise RuleViolation("rep_already_active", f"{rep.rep_id} is already onboarded")
    if isinstance(event, RepMovedTeam | RepLeft | CompPlanAssigned) and not rep.active:
        status = "left" if rep.onboarded else "was never onboarded"
        raise RuleViolation("rep_not_active", f"{rep.rep_id} {status}")
    if isinstance(event, RepMovedTeam) and event.data.from_team_id != rep.team_id:
        raise RuleViolation(
            "team_mismatch",
            f"{rep.rep_id} is in {rep.team_id or 'no team'}, not {event.data.from_team_id or 'no team'}",
        )
    if isinstance(event, PayoutApproved):
        if not rep.onboarded:
            raise RuleViolation("rep_unknown", f"{rep.rep_id} was never onboarded")
        if event.data.payout_id in rep.payouts:
            raise RuleViolation("payout_already_approved", f"{event.data.payout_id} was approved already")
    if isinstance(event, CommissionAdjusted):
        if not rep.onboarded:
            raise RuleViolation("adjustment_rep_unknown", f"{rep.rep_id} was never onboarded")
        if event.data.adjustment_id in rep.adjustments:
            raise RuleViolation("adjustment_already_made", f"{event.data.adjustment_id} was made already")


def evolve(state: RepState | None, event: Envelope, process: ProcessConfig) -> RepState:
    """The rep after ``event`` (assumed accepted)."""
    rep = state or RepState(payload(event).rep_id)
    rep = replace(rep, events=rep.events + 1)
    match event:
        case RepOnboarded():
            return replace(rep, onboarded=True, active=True, team_id=event.data.team_id, plan_id=None)
        case RepMovedTeam():
            return replace(rep, team_id=event.data.to_team_id)
        case RepLeft():
            return replace(rep, active=False)
        case CompPlanAssigned():
            return replace(rep, plan_id=event.data.plan_id)
        case PayoutApproved():
            return replace(rep, payouts=(*rep.payouts, event.data.payout_id))
        case CommissionAdjusted():
            return replace(rep, adjustments=(*rep.adjustments, event.data.adjustment_id))
    if event_type(event) in HANDLES:
        return rep
    raise TypeError(f"{event_type(event)} is not a rep event")
