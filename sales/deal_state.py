"""What the process knows about a deal, derived only from its events, and the conditions it meets.

The state is stored in snapshots, so it is JSON-safe through `DealState.to_dict` and versioned
(`STATE_VERSION`). A closed deal's ``stage`` is its outcome, ``won`` or ``lost``, which is also
the ``from_stage`` a reopening `DealStageChanged` names.

Conditions are what stage entry rules and fact prerequisites ask of a deal:

- ``bant``: every BANT criterion the process requires was met at qualification;
- ``needs_assessed``, ``solution_presented``, ``proposal_sent``: that fact was recorded at least
  once (they stay recorded if the deal later moves back or is reopened);
- ``objections_resolved``: no objection raised on the deal is still open.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events.deals import CLOSED_STAGES
from events.money import Money
from sales.process import ProcessConfig
from sales.rules import RuleViolation

STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class DealState:
    deal_id: str
    lead_id: str
    rep_id: str
    """The deal's owner (from the qualification, then from stage changes and the win)."""
    stage: str
    bant_met: tuple[str, ...]
    needs_assessed: bool = False
    solution_presented: bool = False
    proposal_sent: bool = False
    open_objections: tuple[str, ...] = ()
    resolved_objections: tuple[str, ...] = ()
    expected_amount: Money | None = None
    """The latest amount pitched or proposed: what the weighted pipeline multiplies."""
    stage_changes: int = 0
    """Moves since the deal opened, explicit (`DealStageChanged`) or reached by a fact."""
    customer_id: str | None = None
    won_amount: Money | None = None
    loss_reason: str | None = None
    closed_at: datetime | None = None
    wins: int = 0
    events: int = 1

    @property
    def is_open(self) -> bool:
        return self.stage not in CLOSED_STAGES

    def to_dict(self) -> dict[str, Any]:
        return {
            "state_version": STATE_VERSION,
            "deal_id": self.deal_id,
            "lead_id": self.lead_id,
            "rep_id": self.rep_id,
            "stage": self.stage,
            "bant_met": list(self.bant_met),
            "needs_assessed": self.needs_assessed,
            "solution_presented": self.solution_presented,
            "proposal_sent": self.proposal_sent,
            "open_objections": list(self.open_objections),
            "resolved_objections": list(self.resolved_objections),
            "expected_amount": _money_out(self.expected_amount),
            "stage_changes": self.stage_changes,
            "customer_id": self.customer_id,
            "won_amount": _money_out(self.won_amount),
            "loss_reason": self.loss_reason,
            "closed_at": None if self.closed_at is None else self.closed_at.isoformat(),
            "wins": self.wins,
            "events": self.events,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DealState:
        if data.get("state_version") != STATE_VERSION:
            raise ValueError(f"deal state version {data.get('state_version')!r} is not {STATE_VERSION}")
        closed_at = data["closed_at"]
        return cls(
            **{key: data[key] for key in _PLAIN},
            bant_met=tuple(data["bant_met"]),
            open_objections=tuple(data["open_objections"]),
            resolved_objections=tuple(data["resolved_objections"]),
            expected_amount=_money_in(data["expected_amount"]),
            won_amount=_money_in(data["won_amount"]),
            closed_at=None if closed_at is None else datetime.fromisoformat(closed_at),
        )


_PLAIN = (
    "deal_id",
    "lead_id",
    "rep_id",
    "stage",
    "needs_assessed",
    "solution_presented",
    "proposal_sent",
    "stage_changes",
    "customer_id",
    "loss_reason",
    "wins",
    "events",
)


def _money_out(money: Money | None) -> dict[str, str] | None:
    return None if money is None else {"amount": str(money.amount), "currency": money.currency}


def _money_in(data: Mapping[str, str] | None) -> Money | None:
    return None if data is None else Money.model_validate(data)


CONDITION_RULES: Mapping[str, str] = {
    "bant": "bant_required",
    "needs_assessed": "needs_assessed_required",
    "solution_presented": "solution_presented_required",
    "proposal_sent": "proposal_sent_required",
    "objections_resolved": "objections_resolved_required",
}
"""The rule a deal breaks when a condition the process requires does not hold."""


def unmet(state: DealState, condition: str, process: ProcessConfig) -> str | None:
    """Why ``condition`` does not hold for the deal, or None when it does."""
    if condition == "bant":
        missing = [c for c in process.lead.bant_required if c not in state.bant_met]
        return f"BANT {', '.join(missing)} not met at qualification" if missing else None
    if condition == "objections_resolved":
        open_ = ", ".join(state.open_objections)
        return f"objections {open_} are still open" if open_ else None
    recorded = {
        "needs_assessed": (state.needs_assessed, "NeedsAssessed"),
        "solution_presented": (state.solution_presented, "SolutionPresented"),
        "proposal_sent": (state.proposal_sent, "ProposalSent"),
    }
    done, fact = recorded[condition]
    return None if done else f"no {fact} recorded for {state.deal_id} yet"


def require(state: DealState, conditions: tuple[str, ...], process: ProcessConfig, doing: str) -> None:
    """Raise the rule of the first condition that does not hold; ``doing`` says what needed it."""
    for condition in conditions:
        reason = unmet(state, condition, process)
        if reason is not None:
            raise RuleViolation(CONDITION_RULES[condition], f"{doing} requires {condition}: {reason}")
