"""A lead's first chapter: captured from a source, researched, touched until it answers (or not),
then qualified on BANT into a deal, disqualified with a reason, or left to go quiet.

Its fate is drawn up front from the source's qualification rate, and the touches are written to
fit it: a qualified lead connects (a call answered or a positive reply) and has a discovery
meeting; an unreachable one never connects.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from services.simulator import names
from services.simulator.activities import call, email, meeting, social
from services.simulator.config import DISQUALIFIED_SHARE, SEGMENTS, SOURCES, SimConfig, deal_size
from services.simulator.customers import customer_story
from services.simulator.deals import deal_story
from services.simulator.org import AE, SDR, Org
from services.simulator.story import Data, Draft, Story
from services.simulator.thread import MARKETING, LeadThread

CHANNELS = {
    "cold_call": {"call": 6, "email": 3, "social": 1},
    "email": {"email": 6, "call": 3, "social": 1},
    "social": {"social": 5, "email": 3, "call": 2},
    "inbound": {"email": 5, "call": 4, "social": 1},
    "networking": {"call": 5, "email": 4, "social": 1},
    "referral": {"call": 5, "email": 4, "social": 1},
}
"""How reps reach a lead from each source (relative weights)."""
SDR_SOURCES = frozenset({"cold_call", "email", "social", "inbound"})
DISQUALIFIED = {
    "no_budget": 5,
    "no_need": 5,
    "no_timeline": 4,
    "no_authority": 3,
    "competitor_locked_in": 3,
    "duplicate": 1,
    "other": 1,
}
NOTES = {
    "no_budget": "Budget frozen until next fiscal year.",
    "no_need": "Happy with their spreadsheets for now.",
    "no_timeline": "Not before next year.",
    "no_authority": "Contact cannot sign; no access to the buyer.",
    "competitor_locked_in": "Three-year contract with a competitor.",
    "duplicate": "Same company as an open lead.",
    "other": "Outside our target market.",
    "unreachable": "No answer after a full cadence.",
}


def lead_story(cfg: SimConfig, org: Org, number: int, at: datetime, team_id: str) -> Iterator[Draft]:
    """Everything that happens to lead ``number``, captured at ``at`` by ``team_id``."""
    thread = _routed(
        cfg, org, Story(cfg.seed, f"lead-{number:06d}", at, f"lead-{number:06d}"), number, team_id
    )
    qualifies = SOURCES[thread.source][1]
    fate = thread.story.pick(
        {
            "qualified": qualifies,
            "disqualified": (1 - qualifies) * DISQUALIFIED_SHARE,
            "quiet": (1 - qualifies) * (1 - DISQUALIFIED_SHARE),
        }
    )
    yield from _captured(thread)
    if fate == "qualified":
        yield from _touches(thread, thread.story.rng.randint(0, 4), connect=True)
        yield from _discovery(thread)
        yield from _qualified(thread)
        yield from deal_story(thread)
        if thread.stage == "won":
            yield from customer_story(thread)
    elif fate == "disqualified":
        yield from _disqualified(thread)
    else:
        yield from _touches(thread, thread.story.rng.randint(1, 4), connect=False)


def _routed(cfg: SimConfig, org: Org, story: Story, number: int, team_id: str) -> LeadThread:
    """The lead's source, segment and size, and who works it: an SDR for most cold and inbound
    leads when the team has one, else an account executive covering the segment."""
    rng, day = story.rng, story.at.date()
    source = story.pick({name: share for name, (share, _) in SOURCES.items()})
    worker = org.pick(rng, team_id, (SDR,), day) if source in SDR_SOURCES and rng.random() < 0.6 else None
    segment = story.pick({name: share for name, (share, _, _) in SEGMENTS.items()})
    worker = worker or org.account_executive(rng, team_id, day, segment)
    size = deal_size(cfg.mean_deal, segment, rng.gauss(0, 1))
    thread = LeadThread(
        cfg, org, story, number, team_id, source, segment, names.company(rng), worker.rep_id, size
    )
    thread.sdr = worker.rep_id if worker.role == SDR else None
    return thread


def _captured(thread: LeadThread) -> Iterator[Draft]:
    """The capture (some inbound leads arrive before anyone is assigned), and outbound research."""
    data: Data = {"lead_id": thread.lead_id, "rep_id": thread.worker, "source": thread.source}
    if thread.source == "inbound" and thread.story.chance(0.3):
        del data["rep_id"]
    data["company"] = thread.company
    yield thread.event("LeadCaptured", data, MARKETING if thread.source == "inbound" else None)
    if thread.source in ("inbound", "referral") or not thread.story.chance(0.7):
        return
    for _ in range(thread.story.rng.randint(1, 2)):
        thread.story.minutes_later(5, 120)
        minutes = thread.story.rng.randint(10, 90)
        data = {"rep_id": thread.rep(), "lead_id": thread.lead_id, "minutes": minutes}
        yield thread.event("ProspectResearchLogged", data)


def _disqualified(thread: LeadThread) -> Iterator[Draft]:
    """Either never reached after a full cadence, or reached and found not to fit."""
    rng = thread.story.rng
    unreachable = rng.random() < 0.4
    yield from _touches(thread, rng.randint(5, 8) if unreachable else rng.randint(0, 4), not unreachable)
    if not unreachable and rng.random() < 0.5:
        yield from _discovery(thread)
    thread.days(0, 3)
    reason = "unreachable" if unreachable else thread.story.pick(DISQUALIFIED)
    data: Data = {"lead_id": thread.lead_id, "rep_id": thread.rep(), "reason": reason, "notes": NOTES[reason]}
    yield thread.event("LeadDisqualified", data)


def _touches(thread: LeadThread, misses: int, connect: bool) -> Iterator[Draft]:
    """``misses`` unanswered touches, then (if ``connect``) one that reaches the buyer."""
    story = thread.story
    for index in range(misses):
        thread.days(0 if index == 0 else 1, 3)
        channel = story.pick(CHANNELS[thread.source])
        if channel == "call":
            outcome = story.pick({"no_answer": 5, "voicemail": 4, "busy": 1, "wrong_number": 0.3})
            yield call(thread, outcome, 0)
        elif channel == "email":
            yield from email(thread, "out_of_office" if story.chance(0.08) else None)
        else:
            yield social(thread)
    if connect:
        thread.days(0 if misses == 0 else 1, 3)
        if story.pick(CHANNELS[thread.source]) == "email":
            yield from email(thread, story.pick({"positive": 3, "neutral": 1}))
        else:
            yield call(thread, "connected", story.rng.randint(120, 900))


def _discovery(thread: LeadThread) -> Iterator[Draft]:
    thread.days(1, 5)
    yield meeting(thread, "discovery", deal=False)


def _qualified(thread: LeadThread) -> Iterator[Draft]:
    """BANT met on every criterion (the default process requires all four): the deal opens."""
    story = thread.story
    story.minutes_later(30, 240)
    owner, day = thread.org.reps[thread.rep()], story.at.date()
    if owner.role != AE:  # the SDR hands the qualified lead to an account executive of their team
        owner = thread.org.account_executive(story.rng, owner.team_on(day), day, thread.segment)
    thread.owner = owner.rep_id
    budget = round(thread.size * story.rng.uniform(1.0, 1.5) / 1000 + 0.5) * 1000
    decision_by = story.at.date() + timedelta(days=story.rng.randint(30, 120))
    bant = {
        "budget_met": True,
        "budget": thread.money(budget),
        "authority_met": True,
        "decision_maker": story.rng.choice(names.DECISION_MAKERS),
        "need_met": True,
        "need": story.rng.choice(names.PAIN_POINTS),
        "timeline_met": True,
        "decision_by": decision_by.isoformat(),
    }
    data: Data = {"lead_id": thread.lead_id, "deal_id": thread.deal_id, "rep_id": owner.rep_id, "bant": bant}
    yield thread.event("LeadQualified", data)
