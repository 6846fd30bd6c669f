"""The organisation's story is drawn up front (it is small: a few dozen events per rep and year),
in any order, then sorted by time and numbered, so its ids follow its time order."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone

from services.simulator.clock import WORK_END, WORK_START, local
from services.simulator.config import SimConfig
from services.simulator.org import Org
from services.simulator.story import Data, Draft

HR, SPM, LMS = "/sim/hr", "/sim/spm", "/sim/lms"
"""Source systems of the organisation's events: HR, sales performance management, learning."""


class OrgTimeline:
    """Collects the org's events in any order, then hands them out sorted and numbered."""

    def __init__(self, cfg: SimConfig, org: Org) -> None:
        self.cfg, self.org = cfg, org
        self.rng = random.Random(f"salesledger-sim/{cfg.seed}/org-events")
        self.hq: timezone = org.teams[0].tz
        self.items: list[tuple[datetime, int, str, str, str, Data]] = []
        first_to_open = max((team.tz for team in org.teams), key=lambda tz: tz.utcoffset(None))
        self._setup = local(cfg.first_day, 7 * 60, first_to_open)

    def add(self, at: datetime, type_: str, source: str, subject: str, data: Data) -> None:
        self.items.append((at, len(self.items), type_, source, subject, data))

    def setup_time(self) -> datetime:
        """Set-up is recorded at 07:00 where the first team starts work, one event a second."""
        self._setup += timedelta(seconds=1)
        return self._setup

    def working_time(self, day: date, tz: timezone | None = None) -> datetime:
        """A random moment of working hours on ``day`` (headquarters' time by default)."""
        minute, second = self.rng.randint(WORK_START, WORK_END), self.rng.randrange(60)
        return local(day, minute, tz or self.hq, second)

    def drafts(self) -> Iterator[Draft]:
        """The events in time order, numbered ``sim-<seed>-org-<n>``, up to the history's end."""
        actor = f"user:{self.org.vp.rep_id}"
        for number, (at, _, type_, source, subject, data) in enumerate(sorted(self.items), 1):
            if at >= self.cfg.until:
                return
            yield Draft(at, f"sim-{self.cfg.seed}-org-{number}", type_, source, subject, data, actor)


def period(kind: str, start: date, end: date) -> dict[str, str]:
    return {"kind": kind, "start": start.isoformat(), "end": end.isoformat()}


def money(amount: int, currency: str) -> dict[str, str]:
    return {"amount": f"{amount}.00", "currency": currency}
