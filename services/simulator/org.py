"""The organisation's plan: teams, territories, reps, and who joins, moves and leaves when.

The plan is drawn once, up front, from the seed, so every story can ask who owned a lead on a given
day: a rep who leaves hands their leads, deals, customers and territory to a successor hired in
the same team and role shortly before their last day. Only reps without a territory (SDRs, sales
engineers, account managers) move between teams, so every team keeps an account executive.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta, timezone

from services.simulator import names
from services.simulator.clock import add_business_days, business_days
from services.simulator.config import ATTRITION_PER_YEAR, TEAM_MOVES_PER_YEAR, TEAM_SIZE, SimConfig

AE, SDR, AM, SE, MANAGER = (
    "account_executive",
    "sales_development_rep",
    "account_manager",
    "sales_engineer",
    "sales_manager",
)
ROLE_PATTERN = (AE, AE, SDR, AE, SE, AM, SDR, AE)
"""Roles of a team's sellers by position: every team starts with an account executive."""
REGIONS: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("emea", 1, ("DE", "FR", "GB", "NL", "SE", "ES", "IT", "PL")),
    ("na", -5, ("US", "CA")),
    ("apac", 8, ("SG", "AU", "JP", "IN")),
)
SEGMENT_CYCLE = ("smb", "mid_market", "enterprise", "smb", "mid_market")
"""Territory segments of a team's account executives, in hiring order."""
ROOT_TEAM = "team-sales"


@dataclass(frozen=True, slots=True)
class Team:
    team_id: str
    name: str
    tz: timezone
    countries: tuple[str, ...]
    manager_id: str


@dataclass(slots=True)
class Rep:
    rep_id: str
    name: str
    role: str
    team_id: str
    started_on: date
    last_day: date | None = None
    successor: str | None = None
    move: tuple[date, str] | None = None
    """(first day in the new team, the new team)."""
    territory: tuple[str, str, tuple[str, ...]] | None = None
    """(territory id, segment, countries) for account executives."""
    territory_from: date | None = None

    def team_on(self, day: date) -> str:
        return self.move[1] if self.move and day >= self.move[0] else self.team_id

    def active_on(self, day: date) -> bool:
        return self.started_on <= day and (self.last_day is None or day <= self.last_day)


@dataclass(slots=True)
class Org:
    """Everyone in the plan; `reps` holds managers and sellers, hires included, in id order."""

    vp: Rep
    teams: list[Team]
    reps: dict[str, Rep] = field(default_factory=dict)

    @property
    def sellers(self) -> list[Rep]:
        return [rep for rep in self.reps.values() if rep.role != MANAGER]

    def team(self, team_id: str) -> Team:
        return next(team for team in self.teams if team.team_id == team_id)

    def tz_of(self, rep: Rep, day: date) -> timezone:
        """The time zone ``rep`` works in on ``day`` (their team's; the first team's for the head)."""
        team_id = rep.team_on(day)
        return self.teams[0].tz if team_id == ROOT_TEAM else self.team(team_id).tz

    def owner(self, rep_id: str, day: date) -> str:
        """Who has ``rep_id``'s book on ``day``: the rep, or the successor of one who left."""
        rep = self.reps[rep_id]
        while rep.last_day is not None and day > rep.last_day and rep.successor is not None:
            rep = self.reps[rep.successor]
        return rep.rep_id

    def members(self, team_id: str, day: date, roles: tuple[str, ...]) -> list[Rep]:
        """Active reps of these roles in the team on ``day``, in id order."""
        return [
            rep
            for rep in self.reps.values()
            if rep.role in roles and rep.active_on(day) and rep.team_on(day) == team_id
        ]

    def members_of_role(self, role: str, day: date) -> list[Rep]:
        return [rep for rep in self.reps.values() if rep.role == role and rep.active_on(day)]

    def pick(self, rng: random.Random, team_id: str, roles: tuple[str, ...], day: date) -> Rep | None:
        members = self.members(team_id, day, roles)
        return rng.choice(members) if members else None

    def account_executive(
        self, rng: random.Random, team_id: str, day: date, segment: str | None = None
    ) -> Rep:
        """An account executive of the team on ``day``, whose territory is ``segment`` if the team has
        one (else any of the team's, else of any team, else the team's manager)."""
        executives = self.members(team_id, day, (AE,))
        fitting = [rep for rep in executives if rep.territory and rep.territory[1] == segment]
        rep = rng.choice(fitting or executives) if executives else None
        if rep is None:
            everyone = [r for r in self.reps.values() if r.role == AE and r.active_on(day)]
            rep = rng.choice(everyone) if everyone else self.reps[self.team(team_id).manager_id]
        return rep


def plan_org(cfg: SimConfig) -> Org:
    """Teams of about `TEAM_SIZE` sellers under a manager each, spread over three regions."""
    rng = random.Random(f"salesledger-sim/{cfg.seed}/org-plan")
    ids = (f"rep-{n:03d}" for n in range(1, 1_000_000))
    vp = Rep(next(ids), names.person(rng), MANAGER, ROOT_TEAM, cfg.first_day)
    org = Org(vp, [], {vp.rep_id: vp})
    _teams(org, cfg, rng, ids)
    _sellers(org, cfg, rng, ids)
    _plan_moves(org, cfg, rng)
    _plan_departures(org, cfg, rng, ids)
    return org


def _teams(org: Org, cfg: SimConfig, rng: random.Random, ids: Iterator[str]) -> None:
    for index in range(max(1, round(cfg.reps / TEAM_SIZE))):
        region, offset, countries = REGIONS[index % len(REGIONS)]
        number = index // len(REGIONS) + 1
        manager = Rep(next(ids), names.person(rng), MANAGER, f"team-{region}-{number}", cfg.first_day)
        tz = timezone(timedelta(hours=offset))
        org.teams.append(Team(manager.team_id, f"{region.upper()} {number}", tz, countries, manager.rep_id))
        org.reps[manager.rep_id] = manager


def _sellers(org: Org, cfg: SimConfig, rng: random.Random, ids: Iterator[str]) -> None:
    """Sellers dealt round the teams; account executives get a territory (countries, a segment)."""
    for index in range(cfg.reps):
        team = org.teams[index % len(org.teams)]
        position = index // len(org.teams)
        role = ROLE_PATTERN[position % len(ROLE_PATTERN)]
        rep = Rep(next(ids), names.person(rng), role, team.team_id, cfg.first_day)
        if role == AE:
            countries = rng.sample(team.countries, min(len(team.countries), rng.randint(1, 3)))
            segment = SEGMENT_CYCLE[len(org.members(team.team_id, cfg.first_day, (AE,))) % len(SEGMENT_CYCLE)]
            territory_id = f"terr-{team.team_id.removeprefix('team-')}-{position + 1}"
            rep.territory, rep.territory_from = (
                (territory_id, segment, tuple(sorted(countries))),
                cfg.first_day,
            )
        org.reps[rep.rep_id] = rep


def _window(cfg: SimConfig, after: int, before: int) -> list[date]:
    """Business days from ``after`` business days into the history to ``before`` before its end."""
    return business_days(add_business_days(cfg.first_day, after), add_business_days(cfg.last_day, -before))


def _per_run(per_year: float, cfg: SimConfig) -> float:
    return 1 - math.pow(1 - per_year, cfg.weeks / 52)


def _plan_moves(org: Org, cfg: SimConfig, rng: random.Random) -> None:
    """Some reps without a territory move to another team (only once, and not in their last weeks)."""
    if len(org.teams) < 2:
        return
    days = _window(cfg, 20, 10)
    for rep in org.sellers:
        if rep.role == AE or not days or rng.random() >= _per_run(TEAM_MOVES_PER_YEAR, cfg):
            continue
        others = [team.team_id for team in org.teams if team.team_id != rep.team_id]
        rep.move = (rng.choice(days), rng.choice(others))


def _plan_departures(org: Org, cfg: SimConfig, rng: random.Random, ids: Iterator[str]) -> None:
    """Some sellers leave; a successor in the same team and role starts up to two weeks before."""
    for rep in org.sellers:
        days = [day for day in _window(cfg, 30, 5) if not rep.move or day > rep.move[0] + timedelta(days=14)]
        if not days or rng.random() >= _per_run(ATTRITION_PER_YEAR, cfg):
            continue
        rep.last_day = rng.choice(days)
        hired = max(add_business_days(cfg.first_day, 1), add_business_days(rep.last_day, -rng.randint(0, 10)))
        successor = Rep(next(ids), names.person(rng), rep.role, rep.team_on(rep.last_day), hired)
        if rep.territory is not None:
            successor.territory, successor.territory_from = rep.territory, rep.last_day + timedelta(days=1)
        rep.successor = successor.rep_id
        org.reps[successor.rep_id] = successor
