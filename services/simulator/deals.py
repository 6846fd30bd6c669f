"""A deal's chapter, stage by stage through the default process, until it is won or lost.

Each stage has one step (`STEPS`): what the rep does there and how the deal leaves it. Facts move
the deal where the process says they do (`NeedsAssessed` into needs_assessed, `SolutionPresented`
into solution_presented); the rest are explicit `DealStageChanged` moves, one stage at a time.
Some deals meet objections, some are rescoped from closing back to needs assessment (an extra
move the default process allows), and some deals lost on timing or indecision are reopened within
the reopen window and run the pipeline again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

from services.simulator import names
from services.simulator.activities import call, email, meeting
from services.simulator.config import ADVANCE, REOPEN_SHARE, SEGMENTS, STEP_DAYS
from services.simulator.org import AE, SE
from services.simulator.story import Data, Draft
from services.simulator.thread import LeadThread

LOSS_REASONS = {
    "qualified": {"no_decision": 35, "lost_contact": 30, "timing": 20, "no_budget": 15},
    "needs_assessed": {"no_budget": 30, "functionality": 25, "timing": 20, "no_decision": 25},
    "solution_presented": {"functionality": 30, "competitor": 30, "price": 25, "no_decision": 15},
    "objection_handling": {"price": 40, "functionality": 25, "timing": 20, "competitor": 15},
    "closing": {"price": 35, "competitor": 30, "no_decision": 20, "timing": 15},
}
OBJECTIONS = {"price": 5, "functionality": 3, "timing": 2, "other": 1}


def deal_story(thread: LeadThread) -> Iterator[Draft]:
    """From the qualification that opened the deal to its close; a deal lost on timing or
    indecision sometimes comes back (once) well inside the 180 days the default process allows."""
    yield from _pipeline(thread)
    if thread.loss_reason in ("timing", "no_decision") and thread.story.chance(REOPEN_SHARE):
        thread.days(25, 110)
        yield from _move(thread, "needs_assessed" if thread.products else "qualified")
        yield from _pipeline(thread)


def _pipeline(thread: LeadThread) -> Iterator[Draft]:
    while thread.stage not in ("won", "lost"):
        yield from STEPS[thread.stage](thread)


def _wait(thread: LeadThread) -> None:
    low, high = STEP_DAYS[thread.stage]
    thread.days(low, high, SEGMENTS[thread.segment][2])


def _advances(thread: LeadThread) -> bool:
    return thread.story.chance(advance_chance(thread))


def advance_chance(thread: LeadThread) -> float:
    """The chance the deal leaves its stage forward: the seeded weak rep's lower rate at their
    weak stage until they are coached (`config.WeakSpot`), else the usual rate."""
    spot = thread.cfg.weak_spot
    weak = spot is not None and thread.stage == spot.stage and thread.story.at.date() < spot.coached_on
    if weak and spot is not None and thread.rep() == spot.rep_id:
        return spot.advance
    return ADVANCE[thread.stage]


def _move(thread: LeadThread, to_stage: str) -> Iterator[Draft]:
    data: Data = {
        "deal_id": thread.deal_id,
        "rep_id": thread.rep(),
        "from_stage": thread.stage,
        "to_stage": to_stage,
    }
    thread.stage = to_stage
    yield thread.event("DealStageChanged", data)


def _lose(thread: LeadThread, reason: str | None = None) -> Iterator[Draft]:
    reason = reason or thread.story.pick(LOSS_REASONS[thread.stage])
    data: Data = {"deal_id": thread.deal_id, "rep_id": thread.rep(), "reason": reason}
    if reason == "competitor":
        data["competitor"] = thread.story.rng.choice(names.COMPETITORS)
    thread.stage, thread.loss_reason = "lost", reason
    yield thread.event("DealLost", data)


def _assess_needs(thread: LeadThread) -> Iterator[Draft]:
    _wait(thread)
    if thread.story.chance(0.6):
        yield meeting(thread, "discovery")
    if not _advances(thread):
        yield from _lose(thread)
        return
    rng = thread.story.rng
    data: Data = {
        "deal_id": thread.deal_id,
        "rep_id": thread.rep(),
        "pain_points": rng.sample(names.PAIN_POINTS, rng.randint(1, 3)),
        "requirements": rng.sample(names.REQUIREMENTS, rng.randint(0, 3)),
    }
    thread.stage = "needs_assessed"
    yield thread.event("NeedsAssessed", data)


def _present(thread: LeadThread) -> Iterator[Draft]:
    _wait(thread)
    story = thread.story
    if thread.se is None and story.chance(0.5):
        engineer = thread.org.pick(story.rng, thread.team_id, (SE,), story.at.date())
        thread.se = engineer.rep_id if engineer else None
    presenter = thread.current(thread.se) if thread.se else thread.rep()
    yield meeting(thread, "demo", presenter)
    if not _advances(thread):
        yield from _lose(thread)
        return
    if not thread.products:
        thread.products = names.products(story.rng, thread.segment)
    proposed = round(thread.size * story.rng.uniform(1.0, 1.15) / 100) * 100
    data: Data = {
        "deal_id": thread.deal_id,
        "rep_id": presenter,
        "products": thread.products,
        "proposed_amount": thread.money(proposed),
    }
    thread.stage, thread.proposal_amount = "solution_presented", proposed
    yield thread.event("SolutionPresented", data)


def _decide_path(thread: LeadThread) -> Iterator[Draft]:
    _wait(thread)
    if thread.story.chance(0.5):
        yield from email(thread, "positive" if thread.story.chance(0.4) else None, deal=True)
    if not _advances(thread):
        yield from _lose(thread)
        return
    yield from _move(thread, "objection_handling" if thread.story.chance(0.55) else "closing")


def _handle_objections(thread: LeadThread) -> Iterator[Draft]:
    story = thread.story
    open_categories = []
    for _ in range(story.rng.randint(1, 3)):
        thread.days(0, 3)
        thread.objections += 1
        objection = f"obj-{thread.deal_id}-{thread.objections}"
        category = story.pick(OBJECTIONS)
        data: Data = {
            "deal_id": thread.deal_id,
            "rep_id": thread.rep(),
            "objection_id": objection,
            "category": category,
        }
        yield thread.event("ObjectionRaised", data)
        if story.chance(0.85):
            thread.days(1, 4)
            data = {"deal_id": thread.deal_id, "rep_id": thread.rep(), "objection_id": objection}
            yield thread.event("ObjectionResolved", data)
        else:
            open_categories.append(category)
    _wait(thread)
    if not _advances(thread) or (open_categories and story.chance(0.5)):
        reason = open_categories[0] if open_categories and open_categories[0] != "other" else None
        yield from _lose(thread, reason)
        return
    yield from _move(thread, "closing")


def _close(thread: LeadThread) -> Iterator[Draft]:
    story = thread.story
    story.minutes_later(30, 300)
    yield _proposal(thread, round(thread.proposal_amount * story.rng.uniform(0.92, 1.0) / 100) * 100)
    _wait(thread)
    if story.chance(0.5):
        yield meeting(thread, "proposal_review")
    if story.chance(0.05):  # the buyer's scope changed: back to needs assessment (an extra move)
        yield from _move(thread, "needs_assessed")
        return
    if story.chance(0.2):
        yield _proposal(thread, round(thread.proposal_amount * story.rng.uniform(0.9, 0.95) / 100) * 100)
        thread.days(1, 5)
    if story.chance(0.4):
        yield call(thread, "connected", story.rng.randint(600, 2400), deal=True)
    if _advances(thread):
        thread.days(0, 2)
        yield _won(thread)
    else:
        yield from _lose(thread)


def _proposal(thread: LeadThread, amount: int) -> Draft:
    thread.proposals += 1
    thread.proposal_amount = amount
    valid_until = thread.story.at.date() + timedelta(days=30)
    data: Data = {
        "deal_id": thread.deal_id,
        "rep_id": thread.rep(),
        "proposal_id": f"prop-{thread.deal_id}-{thread.proposals}",
        "amount": thread.money(amount),
        "products": thread.products,
        "valid_until": valid_until.isoformat(),
    }
    return thread.event("ProposalSent", data)


def _won(thread: LeadThread) -> Draft:
    owner = thread.rep()
    data: Data = {"deal_id": thread.deal_id, "customer_id": thread.customer_id, "rep_id": owner}
    data |= {"amount": thread.money(thread.proposal_amount), "products": thread.products}
    partner, share = _partner(thread, owner)
    if partner is None:
        data["credit_splits"] = [{"rep_id": owner, "share_percent": "100"}]
    else:
        data["credit_splits"] = [
            {"rep_id": owner, "share_percent": str(100 - share)},
            {"rep_id": partner, "share_percent": str(share)},
        ]
    thread.stage = "won"
    return thread.event("DealWon", data)


def _partner(thread: LeadThread, owner: str) -> tuple[str | None, int]:
    """Who shares the credit, and their percentage: sometimes the SDR who sourced the deal, the
    sales engineer who presented it, or a fellow account executive who co-sold it."""
    day, rng = thread.story.at.date(), thread.story.rng
    candidates: list[tuple[str, int]] = []
    if thread.sdr and thread.org.reps[thread.sdr].active_on(day) and rng.random() < 0.5:
        candidates.append((thread.sdr, 10))
    if thread.se and thread.org.reps[thread.se].active_on(day) and rng.random() < 0.5:
        candidates.append((thread.se, 20))
    if rng.random() < 0.1:
        peers = [rep.rep_id for rep in thread.org.members(thread.team_id, day, (AE,)) if rep.rep_id != owner]
        candidates += [(rng.choice(peers), 50)] if peers else []
    candidates = [(rep_id, share) for rep_id, share in candidates if rep_id != owner]
    return candidates[0] if candidates else (None, 0)


STEPS: dict[str, Callable[[LeadThread], Iterator[Draft]]] = {
    "qualified": _assess_needs,
    "needs_assessed": _present,
    "solution_presented": _decide_path,
    "objection_handling": _handle_objections,
    "closing": _close,
}
"""What happens in each open stage of the default process, until the deal moves on or is lost."""
