"""How a deal may move between stages: forward, backward, into a stage, out of a close.

- **Forward** moves go one stage at a time; a move may pass over ``optional`` stages, and over
  any stage when ``allow_skip_ahead`` is set.
- **Backward** moves follow ``backward``: ``none``; ``one_step``, back to the previous stage,
  passing over optional ones (closing -> objection_handling or -> solution_presented when
  objection handling is optional); or ``any``.
- ``extra_moves`` are allowed whatever the two rules above say.
- **Entering** a stage requires its ``requires`` conditions, whichever way the deal came.
- **Reopening** a closed deal is a stage change from ``won`` or ``lost`` to an open stage,
  allowed by ``reopen_won`` / ``reopen_lost`` within ``reopen_window_days`` of the close
  (measured between the events' own times, never a clock).

A deal left in a stage the process no longer defines (the file changed) may move to any stage:
only the entry rules of where it goes apply.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from events.deals import DealLost, DealStageChanged, DealWon
from events.envelope import Envelope
from sales.deal_state import DealState, require
from sales.names import event_type
from sales.process import ProcessConfig
from sales.rules import RuleViolation


def check_stage_change(state: DealState, event: DealStageChanged, process: ProcessConfig) -> None:
    """Decide a `DealStageChanged` on an opened deal."""
    to_stage, from_stage = event.data.to_stage, event.data.from_stage
    if process.position(to_stage) is None:
        names = ", ".join(process.stage_names)
        raise RuleViolation("stage_unknown", f"{to_stage!r} is not a stage of this process ({names})")
    if not state.is_open:
        check_reopen(state, from_stage, event.time, process)
    elif from_stage is None and state.stage_changes == 0:
        pass  # the deal entering its first stage: it already is in the stage its qualification opened
    elif from_stage != state.stage:
        raise RuleViolation(
            "stage_mismatch",
            f"{state.deal_id} is in {state.stage!r}, not {from_stage or 'its first stage'!r}",
        )
    if to_stage != state.stage:
        if state.is_open:
            check_move(state.stage, to_stage, process)
        require(state, process.stage(to_stage).requires, process, f"entering {to_stage!r}")


def check_move(from_stage: str, to_stage: str, process: ProcessConfig) -> None:
    """Raise unless the process allows an open deal to move from one open stage to another."""
    start, end = process.position(from_stage), process.position(to_stage)
    if start is None or end is None or (from_stage, to_stage) in process.deal.extra_moves:
        return
    low, high = min(start, end), max(start, end)
    passed = [stage.name for stage in process.stages[low + 1 : high] if not stage.optional]
    if end > start and passed and not process.deal.allow_skip_ahead:
        raise RuleViolation("stage_skip_not_allowed", f"{from_stage} -> {to_stage} skips {', '.join(passed)}")
    backward = process.deal.backward
    if end < start and (backward == "none" or (backward == "one_step" and passed)):
        allowed = "no backward moves" if backward == "none" else "one step back"
        raise RuleViolation(
            "backward_move_not_allowed", f"{from_stage} -> {to_stage}: the process allows {allowed}"
        )


def check_reopen(state: DealState, from_stage: str | None, at: datetime, process: ProcessConfig) -> None:
    """Raise unless a closed deal may be reopened by a stage change at ``at``."""
    if from_stage != state.stage:
        raise RuleViolation(
            "deal_closed",
            f"{state.deal_id} is {state.stage}: a stage change on it reopens it and starts from "
            f"{state.stage!r}, not {from_stage or 'its first stage'!r}",
        )
    allowed = process.deal.reopen_won if state.stage == "won" else process.deal.reopen_lost
    if not allowed:
        raise RuleViolation("reopen_not_allowed", f"the process does not reopen {state.stage} deals")
    window = process.deal.reopen_window_days
    if window is not None and state.closed_at is not None and at - state.closed_at > timedelta(days=window):
        raise RuleViolation(
            "reopen_window_passed",
            f"{state.deal_id} closed on {state.closed_at.date()}; it may be reopened within {window} days",
        )


def stage_reached(stage: str, fact_type: str, process: ProcessConfig) -> str:
    """Where a fact of ``fact_type`` leaves a deal in ``stage``: the stage the fact is ``reached_by``
    when that is later, else where it is. A fact never moves a deal back, and never moves a closed
    deal or one in a stage the process no longer defines (neither has a position)."""
    target, here = process.stage_reached_by(fact_type), process.position(stage)
    if target is None or here is None:
        return stage
    there = process.position(target.name)
    return target.name if there is not None and there > here else stage


def stage_after(stage: str, event: Envelope, process: ProcessConfig) -> str:
    """A deal's stage after ``event``, given its stage before (``won``/``lost`` when closed).

    The one statement of how an accepted event moves a deal, shared by the write model
    (`sales.deal`), the pipeline and the KPIs' deal path, so the two sides cannot drift.
    """
    if isinstance(event, DealWon | DealLost):
        return "won" if isinstance(event, DealWon) else "lost"
    if isinstance(event, DealStageChanged):
        return event.data.to_stage
    return stage_reached(stage, event_type(event), process)
