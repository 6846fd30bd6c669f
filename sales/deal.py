"""The deal: from the qualification that opens it, through the pipeline, to won or lost.

Business rules (names in `sales.rules`):

- A deal is opened by its lead's `LeadQualified` (which lives in the lead's stream and names the
  deal) at the process's ``open_stage``; any other event for a deal never opened is
  ``deal_not_open``, and a second qualification naming an open deal is ``deal_already_open``.
- Facts (`NeedsAssessed`, `SolutionPresented`, objections, `ProposalSent`) need an open deal
  (``deal_closed``) and their ``deal.prerequisites`` (e.g. needs before a solution). A fact that
  a later stage is ``reached_by`` moves the deal there, under the same skip and entry rules as an
  explicit move; a fact never moves a deal backward.
- An objection is raised once and resolved once, and only if it was raised.
- `DealStageChanged` follows `sales.stages` (mismatch, skip, backward, entry, reopen).
- `DealWon` / `DealLost` close an open deal from the stages ``won_from`` / ``lost_from`` list;
  the contract already guarantees a win's amount and 100 % splits and a loss's reason (re-checked
  here for the splits, so no state ever holds a bad win).

`evolve` never raises a `RuleViolation`: replay folds recorded events through it without `decide`,
so history accepted under an older process file still folds.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from events.deals import DealLost, DealStageChanged, DealWon, ProposalSent
from events.envelope import Envelope
from events.presentation import ObjectionRaised, ObjectionResolved, SolutionPresented
from events.qualification import BantAnswers, LeadQualified, NeedsAssessed
from sales.deal_state import DealState, require
from sales.names import event_type, payload
from sales.process import ProcessConfig
from sales.rules import RuleViolation
from sales.stages import check_move, check_stage_change, stage_reached

HANDLES = frozenset(
    {
        "LeadQualified",
        "NeedsAssessed",
        "SolutionPresented",
        "ObjectionRaised",
        "ObjectionResolved",
        "ProposalSent",
        "DealStageChanged",
        "DealWon",
        "DealLost",
    }
)


def bant_met(bant: BantAnswers) -> tuple[str, ...]:
    """The BANT criteria the rep judged met, in BANT order."""
    met = (bant.budget_met, bant.authority_met, bant.need_met, bant.timeline_met)
    return tuple(
        name for name, ok in zip(("budget", "authority", "need", "timeline"), met, strict=True) if ok
    )


def open_deal(event: LeadQualified, process: ProcessConfig) -> DealState:
    """The deal a qualification opens, in the process's ``open_stage``."""
    data = event.data
    return DealState(data.deal_id, data.lead_id, data.rep_id, process.deal.open_stage, bant_met(data.bant))


def decide(state: DealState | None, event: Envelope, process: ProcessConfig) -> None:
    """Raise `RuleViolation` if the process does not allow ``event`` on the deal."""
    if isinstance(event, LeadQualified):
        if state is not None:
            raise RuleViolation("deal_already_open", f"{state.deal_id} was opened by lead {state.lead_id}")
        return
    if state is None:
        deal_id = payload(event).deal_id
        raise RuleViolation(
            "deal_not_open", f"{deal_id} was never opened: a deal opens when its lead is qualified"
        )
    if isinstance(event, DealStageChanged):
        check_stage_change(state, event, process)
        return
    if not state.is_open:
        raise RuleViolation("deal_closed", f"{state.deal_id} is {state.stage}: reopen it first")
    require(state, process.prerequisites_of(event_type(event)), process, event_type(event))
    _check_fact(state, event, process)
    after = _record(state, event)
    target = stage_reached(after.stage, event_type(event), process)
    if target != after.stage:
        check_move(after.stage, target, process)
        require(after, process.stage(target).requires, process, f"{event_type(event)} moving to {target!r}")


def _check_fact(state: DealState, event: Envelope, process: ProcessConfig) -> None:
    if isinstance(event, ObjectionRaised) and event.data.objection_id in _objections(state):
        raise RuleViolation("objection_already_raised", f"{event.data.objection_id} was raised already")
    if isinstance(event, ObjectionResolved):
        objection = event.data.objection_id
        if objection in state.resolved_objections:
            raise RuleViolation("objection_already_resolved", f"{objection} was resolved already")
        if objection not in state.open_objections:
            raise RuleViolation("objection_unknown", f"{objection} was never raised on {state.deal_id}")
    if isinstance(event, DealWon | DealLost):
        won = isinstance(event, DealWon)
        outcome, allowed = ("won", process.deal.won_from) if won else ("lost", process.deal.lost_from)
        if allowed != "any" and state.stage not in allowed:
            raise RuleViolation(
                "close_not_allowed_from_stage",
                f"a deal is {outcome} from {', '.join(allowed)}, and {state.deal_id} is in {state.stage!r}",
            )
    if isinstance(event, DealWon):
        total = sum((split.share_percent for split in event.data.credit_splits), Decimal(0))
        if total != 100:
            raise RuleViolation("credit_splits_total_100", f"credit splits total {total}%, not 100%")


def _objections(state: DealState) -> tuple[str, ...]:
    return state.open_objections + state.resolved_objections


def evolve(state: DealState | None, event: Envelope, process: ProcessConfig) -> DealState:
    """The deal after ``event`` (assumed accepted)."""
    if isinstance(event, LeadQualified):
        if state is not None:
            raise ValueError(f"deal {state.deal_id} is already open")
        return open_deal(event, process)
    if state is None:
        raise ValueError(f"{event_type(event)} for a deal that was never opened")
    after = _record(state, event)
    target = stage_reached(after.stage, event_type(event), process)
    if target == after.stage:
        return after
    return replace(after, stage=target, stage_changes=after.stage_changes + 1)


def _record(state: DealState, event: Envelope) -> DealState:
    """The fact itself, without any stage it may reach."""
    state = replace(state, events=state.events + 1)
    match event:
        case NeedsAssessed():
            return replace(state, needs_assessed=True)
        case SolutionPresented():
            return replace(state, solution_presented=True, expected_amount=event.data.proposed_amount)
        case ObjectionRaised():
            return replace(state, open_objections=(*state.open_objections, event.data.objection_id))
        case ObjectionResolved():
            objection = event.data.objection_id
            still_open = tuple(o for o in state.open_objections if o != objection)
            return replace(
                state, open_objections=still_open, resolved_objections=(*state.resolved_objections, objection)
            )
        case ProposalSent():
            return replace(state, proposal_sent=True, expected_amount=event.data.amount)
        case DealStageChanged():
            return _moved(state, event)
        case DealWon():
            data = event.data
            return replace(
                state,
                stage="won",
                rep_id=data.rep_id,
                customer_id=data.customer_id,
                won_amount=data.amount,
                closed_at=event.time,
                wins=state.wins + 1,
            )
        case DealLost():
            return replace(state, stage="lost", loss_reason=event.data.reason.value, closed_at=event.time)
    raise TypeError(f"{event_type(event)} is not a deal event")


def _moved(state: DealState, event: DealStageChanged) -> DealState:
    to_stage = event.data.to_stage
    if to_stage == state.stage:
        return state  # a deal announcing the stage it already opened in
    moved = replace(state, stage=to_stage, rep_id=event.data.rep_id, stage_changes=state.stage_changes + 1)
    if state.is_open:
        return moved
    return replace(moved, won_amount=None, loss_reason=None, closed_at=None)  # reopened: no outcome yet
