"""The whole history: the organisation's story and every lead's story, merged in time order.

Leads arrive on business days (more early in the week, a little more as the year goes on) to a
team chosen by its size. A lead's story starts only when its capture is due and the merge holds one
pending event per running story, so memory grows with the stories in flight, not the history.
Ties in time go to arrivals first, then to whichever story was scheduled first: the order is a
pure function of the seed.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from datetime import datetime

from services.simulator.clock import WORK_END, WORK_START, business_days, local
from services.simulator.config import SimConfig
from services.simulator.leads import lead_story
from services.simulator.org import AE, SDR, Org, plan_org
from services.simulator.org_events import org_events
from services.simulator.story import Draft

WEEKDAY_WEIGHT = (1.15, 1.1, 1.0, 0.95, 0.8)
GROWTH = 0.3
"""Lead flow grows by this share from the first to the last day."""


def arrivals(cfg: SimConfig, org: Org) -> list[tuple[datetime, str]]:
    """When each lead is captured, and by which team, in time order."""
    rng = random.Random(f"salesledger-sim/{cfg.seed}/arrivals")
    days = business_days(cfg.first_day, cfg.last_day)
    weights = [WEEKDAY_WEIGHT[day.weekday()] * (1 + GROWTH * i / len(days)) for i, day in enumerate(days)]
    sizes = [len(org.members(team.team_id, cfg.first_day, (AE, SDR))) or 1 for team in org.teams]
    captured = []
    for day in rng.choices(days, weights=weights, k=cfg.leads):
        team = rng.choices(org.teams, weights=sizes)[0]
        captured.append(
            (local(day, rng.randint(WORK_START, WORK_END), team.tz, rng.randrange(60)), team.team_id)
        )
    return sorted(captured)


def history(cfg: SimConfig) -> Iterator[Draft]:
    """Every event of the simulation, in time order, ending before `SimConfig.until`."""
    org = plan_org(cfg)
    due = arrivals(cfg, org)
    heap: list[tuple[datetime, int, Draft, Iterator[Draft]]] = []
    order = 0

    def schedule(story: Iterator[Draft]) -> None:
        nonlocal order
        draft = next(story, None)
        if draft is not None:
            order += 1
            heapq.heappush(heap, (draft.at, order, draft, story))

    schedule(org_events(cfg, org))
    number = 0
    while heap or number < len(due):
        if number < len(due) and (not heap or due[number][0] <= heap[0][0]):
            at, team_id = due[number]
            number += 1
            schedule(lead_story(cfg, org, number, at, team_id))
            continue
        at, _, draft, story = heapq.heappop(heap)
        if at >= cfg.until:
            return
        yield draft
        schedule(story)
