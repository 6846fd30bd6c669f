"""Property tests: random command sequences never produce an illegal state, and every rejection
names a registered rule and changes nothing.

Sequences are built from the sample events with a few ids (two leads, two deals, two objections,
one customer) so that they collide: the same deal opened twice, a win before closing, a reopen
long after a loss. Stage changes mostly start from the deal's current stage, so deals get deep
into the pipeline instead of failing on ``stage_mismatch``. One generator (`random_steps`) feeds
both the Hypothesis property and a seeded exploration that checks the sequences reach the
interesting places.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.envelope import Envelope
from sales import RULES, ProcessConfig, RuleViolation, evolve_event
from sales.deal_state import DealState, unmet
from sales.names import event_type
from tests.unit.test_process_config import FOUR_STAGES
from tests.unit.test_process_story import DEFAULT, Ledger, _sample, make, process_from

PROCESSES = {"default": DEFAULT, "four-step": process_from(FOUR_STAGES)}
LEADS, DEALS, OBJECTIONS, CUSTOMER = ("lead-1", "lead-2"), ("deal-1", "deal-2"), ("obj-1", "obj-2"), "cust-1"
CURRENT, NEXT = "<current>", "<next>"
START = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
WEIGHTS = {
    "progress": 14,
    "LeadCaptured": 3,
    "LeadQualified": 4,
    "LeadDisqualified": 1,
    "CallLogged": 1,
    "NeedsAssessed": 3,
    "SolutionPresented": 3,
    "ObjectionRaised": 2,
    "ObjectionResolved": 2,
    "ProposalSent": 3,
    "DealStageChanged": 8,
    "DealWon": 3,
    "DealLost": 2,
    "CustomerRenewed": 1,
    "CustomerChurned": 1,
    "FollowUpDone": 1,
}
MILESTONES = {
    "NeedsAssessed": "needs_assessed",
    "SolutionPresented": "solution_presented",
    "ProposalSent": "proposal_sent",
}


Step = dict[str, Any]


def random_steps(rng: random.Random, process: ProcessConfig, count: int) -> list[Step]:
    """``count`` commands with colliding ids, biased toward progress: a lead usually works its own
    deal, and a stage change usually starts from the deal's current stage, often to the next one."""
    froms = (CURRENT,) * 6 + (*process.stage_names, "won", "lost", None)
    tos = (NEXT,) * 4 + (
        *process.stage_names,
        "negotiation" if "negotiation" not in process.stage_names else "closing",
    )
    steps = []
    for _ in range(count):
        pair = rng.randrange(len(LEADS))
        steps.append(
            {
                "type": rng.choices(list(WEIGHTS), list(WEIGHTS.values()))[0],
                "lead": LEADS[pair],
                "deal": DEALS[pair] if rng.random() < 0.85 else DEALS[1 - pair],
                "objection": rng.choice(OBJECTIONS),
                "bant": [rng.random() < 0.85 for _ in range(4)],
                "from": rng.choice(froms),
                "to": rng.choice(tos),
                "days": rng.choice((0, 0, 1, 5, 30, 200)),
            }
        )
    return steps


def build(step: Step, ledger: Ledger, at: datetime) -> Envelope | None:
    """The event a step stands for, or None when the contract itself would refuse it."""
    kind, lead, deal, when = step["type"], step["lead"], step["deal"], at.isoformat()
    if kind == "progress":
        return build({**step, "type": _next_command(step, ledger)}, ledger, at)
    if kind in {"LeadCaptured", "LeadDisqualified", "CallLogged"}:
        return make(kind, lead_id=lead, at=when)
    if kind == "LeadQualified":
        bant = dict(_sample("LeadQualified.v1")["data"]["bant"])
        bant |= dict(
            zip(("budget_met", "authority_met", "need_met", "timeline_met"), step["bant"], strict=True)
        )
        return make(kind, lead_id=lead, deal_id=deal, bant=bant, at=when)
    if kind in {"ObjectionRaised", "ObjectionResolved"}:
        return make(kind, deal_id=deal, objection_id=step["objection"], at=when)
    if kind == "DealStageChanged":
        return _stage_change(step, ledger, when)
    if kind in {"DealWon", "CustomerRenewed", "FollowUpDone"}:
        return make(kind, deal_id=deal, customer_id=CUSTOMER, at=when)
    if kind == "CustomerChurned":
        return make(kind, customer_id=CUSTOMER, deal_ids=[deal], at=when)
    return make(kind, deal_id=deal, at=when)


def _next_command(step: Step, ledger: Ledger) -> str:
    """The command that moves this lead's deal along the happy path (it may still be refused)."""
    lead, deal = ledger.states.get(("lead", step["lead"])), ledger.states.get(("deal", step["deal"]))
    if lead is None or not lead["captured"]:
        return "LeadCaptured"
    if deal is None:
        return "LeadQualified"
    if deal["stage"] in ("won", "lost"):
        return "CustomerRenewed" if deal["stage"] == "won" and step["bant"][0] else "DealStageChanged"
    missing = [fact for fact, milestone in MILESTONES.items() if not deal[milestone]]
    if missing:
        return missing[0]
    return "DealWon" if deal["stage"] == ledger.process.stage_names[-1] else "DealStageChanged"


def _stage_change(step: Step, ledger: Ledger, when: str) -> Envelope | None:
    state = ledger.states.get(("deal", step["deal"]))
    current = state["stage"] if state else None
    from_stage = current if step["from"] == CURRENT else step["from"]
    to_stage = step["to"]
    if to_stage == NEXT:
        names = ledger.process.stage_names
        later = names[names.index(current) + 1 :] if current in names else names[-1:]
        to_stage = later[0] if later else names[0]
    if from_stage == to_stage:
        return None
    return make("DealStageChanged", deal_id=step["deal"], from_stage=from_stage, to_stage=to_stage, at=when)


@dataclass
class Trace:
    accepted: list[Envelope] = field(default_factory=list)
    rules: Counter[str] = field(default_factory=Counter)
    reached: set[str] = field(default_factory=set)


def run(process: ProcessConfig, steps: list[Step]) -> tuple[Ledger, Trace]:
    """Publish every step, checking each rejection and each accepted state."""
    ledger, trace, at = Ledger(process), Trace(), START
    for step in steps:
        at += timedelta(days=step["days"], minutes=1)
        event = build(step, ledger, at)
        if event is None:
            continue
        before = dict(ledger.states)
        try:
            ledger.publish(event)
        except RuleViolation:
            violation = ledger.rejects(event)  # asserts: registered rule, nothing changed
            assert violation.message
            trace.rules[violation.rule] += 1
            continue
        trace.accepted.append(event)
        for (kind, key), state in ledger.states.items():
            if kind == "deal":
                old = before.get((kind, key))
                check_deal(
                    process,
                    None if old is None else DealState.from_dict(old),
                    DealState.from_dict(state),
                    event,
                )
                trace.reached.add(state["stage"])
    return ledger, trace


# --- the invariants --------------------------------------------------------------------------------


def check_deal(process: ProcessConfig, before: DealState | None, after: DealState, event: Envelope) -> None:
    """What must hold of every deal state the process ever accepts, and of every step between two."""
    assert after.stage in (*process.stage_names, "won", "lost")
    assert after.stage != "won" or (after.won_amount is not None and after.customer_id is not None)
    assert after.stage != "lost" or after.loss_reason is not None
    assert not after.is_open or (after.won_amount, after.loss_reason, after.closed_at) == (None, None, None)
    assert set(process.lead.bant_required) <= set(after.bant_met)
    assert not set(after.open_objections) & set(after.resolved_objections)
    assert len(set(after.open_objections)) == len(after.open_objections)
    for fact, milestone in MILESTONES.items():
        if getattr(after, milestone):
            assert all(
                unmet(after, c, process) is None
                for c in process.prerequisites_of(fact)
                if c in MILESTONES.values()
            )
    if before is None or before.stage == after.stage:
        return
    if after.is_open:
        assert all(
            unmet(after, condition, process) is None for condition in process.stage(after.stage).requires
        )
    if before.is_open and after.is_open:
        assert move_allowed(process, before.stage, after.stage), (before.stage, after.stage)
    elif before.is_open:
        allowed = process.deal.won_from if after.stage == "won" else process.deal.lost_from
        assert allowed == "any" or before.stage in allowed
        assert all(unmet(before, c, process) is None for c in process.prerequisites_of(event_type(event)))
    else:
        assert process.deal.reopen_won if before.stage == "won" else process.deal.reopen_lost
        window = process.deal.reopen_window_days
        assert (
            window is None
            or before.closed_at is None
            or event.time - before.closed_at <= timedelta(days=window)
        )


def move_allowed(process: ProcessConfig, from_stage: str, to_stage: str) -> bool:
    """The move rules, restated: skips and backward moves only where the process says so."""
    if (from_stage, to_stage) in process.deal.extra_moves:
        return True
    start, end = process.stage_names.index(from_stage), process.stage_names.index(to_stage)
    passes_required = any(
        not stage.optional for stage in process.stages[min(start, end) + 1 : max(start, end)]
    )
    if end > start:
        return process.deal.allow_skip_ahead or not passes_required
    return process.deal.backward == "any" or (process.deal.backward == "one_step" and not passes_required)


# --- the properties --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PROCESSES))
@settings(
    max_examples=120,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(rng=st.randoms(use_true_random=False), count=st.integers(min_value=1, max_value=40))
def test_random_sequences_never_produce_an_illegal_state(name: str, rng: random.Random, count: int) -> None:
    process = PROCESSES[name]
    ledger, trace = run(process, random_steps(rng, process, count))
    assert set(trace.rules) <= set(RULES)
    replayed: dict[tuple[str, str], dict[str, Any]] = {}
    for event in trace.accepted:  # replay folds without judging, to the very same states
        replayed.update(evolve_event(event, replayed, process))
    assert replayed == ledger.states


COMMON_RULES = {
    "lead_already_captured",
    "lead_not_captured",
    "lead_already_qualified",
    "bant_required",
    "deal_already_open",
    "deal_not_open",
    "deal_closed",
    "stage_unknown",
    "stage_mismatch",
    "needs_assessed_required",
    "objection_already_raised",
    "objection_unknown",
    "close_not_allowed_from_stage",
    "customer_unknown",
    "deal_not_won_for_customer",
}
PROCESS_RULES = {
    "default": {
        "lead_disqualified",
        "stage_skip_not_allowed",
        "backward_move_not_allowed",
        "solution_presented_required",
        "reopen_window_passed",
        "objection_already_resolved",
    },
    "four-step": {
        "proposal_sent_required",
        "objections_resolved_required",
        "reopen_not_allowed",
        "customer_churned",
    },
}


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_seeded_sequences_reach_every_outcome_and_break_every_pipeline_rule(name: str) -> None:
    process, rules, reached = PROCESSES[name], Counter[str](), set[str]()
    for seed in range(100):
        _, trace = run(process, random_steps(random.Random(seed), process, 40))
        rules += trace.rules
        reached |= trace.reached
    assert {"won", "lost", *process.stage_names} - {"prospecting"} <= reached
    expected = COMMON_RULES | PROCESS_RULES[name]
    assert expected <= set(rules), expected - set(rules)
