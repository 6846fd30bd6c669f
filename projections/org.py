"""Effective-dated organisation: which team a rep is in, and which territories they own, on a day.

Business rules:

- **Teams.** `RepOnboarded` puts a rep in its ``team_id`` (or none) from ``started_on``;
  `RepMovedTeam` puts them in ``to_team_id`` from ``effective_from``; `RepLeft` takes them out of
  every team from the day after ``last_day`` (a rehire is a new `RepOnboarded`).
- **Territories.** `TerritoryAssigned` gives a territory to one rep from ``effective_from`` to
  ``effective_to`` (inclusive; open-ended if absent). A territory has one owner a day.
- **One rule for both:** on a given day, the fact with the latest effective date on or before
  that day decides; of facts with the same date, the one recorded later (later in its
  aggregate's stream) wins. So a move announced in advance applies from its date, a back-dated
  correction applies from its own date, and re-issuing an assignment with the same start and an
  earlier ``effective_to`` shortens it. A territory whose deciding assignment ended before the day
  is unowned that day. Publication times (``time``) never matter, only the business dates.
- A rep who left keeps their territories until they are reassigned: that is what "their
  territories need a new owner" reports look for. `TerritoryDefined` does not change membership
  and is not folded here.
- **Who manages what.** `TeamFormed` names a team's manager and the team it rolls up into; the
  latest formation of a team stands (forming it again re-states both). A manager manages their
  teams and every team that rolls up into them (`managed_teams`): the access rules of the API
  (`services.auth.access`) read it, so a manager sees the reps of those teams on the days they
  are in them.

**Partitioning.** Rep events are keyed by the rep, territory events by the territory and team
events by the team, and each
history depends only on its own aggregate's events, so events of different aggregates commute.
The shell keeps one partial per (source partition, `key_of(event)`), each an `OrgState` holding
that one history, and `merge`s them all into the global state every worker reads (org events are
few). Two partials of one key are prefixes of one stream, so `merge` keeps the longer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar

from events.envelope import Envelope
from events.organisation import RepLeft, RepMovedTeam, RepOnboarded, TeamFormed, TerritoryAssigned


@dataclass(frozen=True, slots=True)
class Membership:
    """From ``effective_from`` on, the rep is in ``team_id`` (None: no team), or has left."""

    effective_from: date
    team_id: str | None
    active: bool = True


@dataclass(frozen=True, slots=True)
class Assignment:
    """The territory belongs to ``rep_id`` from ``effective_from`` to ``effective_to`` inclusive."""

    effective_from: date
    effective_to: date | None
    rep_id: str

    def covers(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


@dataclass(frozen=True, slots=True)
class Formation:
    """A team as formed: who manages it and the team it rolls up into."""

    manager_id: str | None
    parent_team_id: str | None


@dataclass(frozen=True, slots=True)
class OrgState:
    """Each rep's membership history, each territory's assignment history and each team's
    formations, in stream order."""

    reps: Mapping[str, tuple[Membership, ...]] = field(default_factory=dict)
    territories: Mapping[str, tuple[Assignment, ...]] = field(default_factory=dict)
    teams: Mapping[str, tuple[Formation, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "reps": {rep: [_membership_out(m) for m in history] for rep, history in self.reps.items()},
            "territories": {
                territory: [_assignment_out(a) for a in history]
                for territory, history in self.territories.items()
            },
        }
        if self.teams:  # absent when empty: states saved before teams were folded read the same
            out["teams"] = {
                team: [{"manager_id": f.manager_id, "parent_team_id": f.parent_team_id} for f in history]
                for team, history in self.teams.items()
            }
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OrgState:
        reps = {rep: tuple(_membership_in(m) for m in history) for rep, history in data["reps"].items()}
        territories = {
            territory: tuple(_assignment_in(a) for a in history)
            for territory, history in data["territories"].items()
        }
        teams = {
            team: tuple(Formation(f["manager_id"], f["parent_team_id"]) for f in history)
            for team, history in data.get("teams", {}).items()
        }
        return cls(reps, territories, teams)


Dated = TypeVar("Dated", Membership, Assignment)


def key_of(event: Envelope) -> str | None:
    """The aggregate whose history ``event`` extends (``rep:<id>``, ``territory:<id>``,
    ``team:<id>``), or None."""
    if isinstance(event, RepOnboarded | RepMovedTeam | RepLeft):
        return f"rep:{event.data.rep_id}"
    if isinstance(event, TerritoryAssigned):
        return f"territory:{event.data.territory_id}"
    if isinstance(event, TeamFormed):
        return f"team:{event.data.team_id}"
    return None


def evolve(org: OrgState, event: Envelope) -> OrgState:
    """Append the dated fact ``event`` states to its rep's or territory's history."""
    match event:
        case RepOnboarded(data=data):
            return _with_membership(org, data.rep_id, Membership(data.started_on, data.team_id))
        case RepMovedTeam(data=data):
            return _with_membership(org, data.rep_id, Membership(data.effective_from, data.to_team_id))
        case RepLeft(data=data):
            left = Membership(data.last_day + timedelta(days=1), None, active=False)
            return _with_membership(org, data.rep_id, left)
        case TerritoryAssigned(data=data):
            assignment = Assignment(data.effective_from, data.effective_to, data.rep_id)
            history = (*org.territories.get(data.territory_id, ()), assignment)
            return OrgState(org.reps, {**org.territories, data.territory_id: history}, org.teams)
        case TeamFormed(data=data):
            formations = (*org.teams.get(data.team_id, ()), Formation(data.manager_id, data.parent_team_id))
            return OrgState(org.reps, org.territories, {**org.teams, data.team_id: formations})
    return org


def _with_membership(org: OrgState, rep_id: str, membership: Membership) -> OrgState:
    history = (*org.reps.get(rep_id, ()), membership)
    return OrgState({**org.reps, rep_id: history}, org.territories, org.teams)


def fold(events: Iterable[Envelope]) -> OrgState:
    """The organisation from a whole history (what a replay computes)."""
    org = OrgState()
    for event in events:
        org = evolve(org, event)
    return org


def merge(a: OrgState, b: OrgState) -> OrgState:
    """Both partials' histories; for a key in both, the longer (the other is a prefix of it)."""
    return merge_all((a, b))


def merge_all(partials: Iterable[OrgState]) -> OrgState:
    """Every partial merged as `merge` does, in one pass (merging pairwise would copy the whole
    organisation once per partial: quadratic with one partial per rep)."""
    reps: dict[str, tuple[Membership, ...]] = {}
    territories: dict[str, tuple[Assignment, ...]] = {}
    teams: dict[str, tuple[Formation, ...]] = {}
    for partial in partials:
        for rep, history in partial.reps.items():
            reps[rep] = _longer(reps.get(rep, ()), history)
        for territory, assignments in partial.territories.items():
            territories[territory] = _longer(territories.get(territory, ()), assignments)
        for team, formations in partial.teams.items():
            teams[team] = _longer(teams.get(team, ()), formations)
    return OrgState(reps, territories, teams)


def _longer(a: tuple[Any, ...], b: tuple[Any, ...]) -> tuple[Any, ...]:
    return a if len(a) >= len(b) else b


def _deciding(history: Iterable[Dated], on: date) -> Dated | None:
    """The fact in force on ``on``: latest effective date on or before it, then latest recorded."""
    dated = [(fact.effective_from, index, fact) for index, fact in enumerate(history)]
    in_force = [entry for entry in dated if entry[0] <= on]
    return max(in_force, key=lambda entry: entry[:2])[2] if in_force else None


def team_of(org: OrgState, rep_id: str, on: date) -> str | None:
    """The rep's team on ``on``: None before they started, after they left, or while in no team."""
    membership = _deciding(org.reps.get(rep_id, ()), on)
    if membership is None or not membership.active:
        return None
    return membership.team_id


def is_member(org: OrgState, rep_id: str, on: date) -> bool:
    """Whether the rep had started and not left on ``on``."""
    membership = _deciding(org.reps.get(rep_id, ()), on)
    return membership is not None and membership.active


def owner_of(org: OrgState, territory_id: str, on: date) -> str | None:
    """The rep who owns the territory on ``on``, or None when it is unowned that day."""
    assignment = _deciding(org.territories.get(territory_id, ()), on)
    if assignment is None or not assignment.covers(on):
        return None
    return assignment.rep_id


def territories_of(org: OrgState, rep_id: str, on: date) -> tuple[str, ...]:
    """The territories the rep owns on ``on``, sorted (a rep may own several)."""
    return tuple(sorted(t for t in org.territories if owner_of(org, t, on) == rep_id))


def managed_teams(org: OrgState, manager_id: str) -> frozenset[str]:
    """The teams ``manager_id`` manages (by each team's latest formation) and every team that
    rolls up into one of them, however deep; a cycle in the roll-ups ends the walk."""
    current = {team: formations[-1] for team, formations in org.teams.items() if formations}
    found = {team for team, formation in current.items() if formation.manager_id == manager_id}
    frontier = set(found)
    while frontier:
        frontier = {
            team
            for team, formation in current.items()
            if formation.parent_team_id in frontier and team not in found
        }
        found |= frontier
    return frozenset(found)


def _membership_out(membership: Membership) -> dict[str, Any]:
    return {
        "effective_from": membership.effective_from.isoformat(),
        "team_id": membership.team_id,
        "active": membership.active,
    }


def _membership_in(data: Mapping[str, Any]) -> Membership:
    return Membership(date.fromisoformat(data["effective_from"]), data["team_id"], bool(data["active"]))


def _assignment_out(assignment: Assignment) -> dict[str, Any]:
    to = assignment.effective_to
    return {
        "effective_from": assignment.effective_from.isoformat(),
        "effective_to": None if to is None else to.isoformat(),
        "rep_id": assignment.rep_id,
    }


def _assignment_in(data: Mapping[str, Any]) -> Assignment:
    to = data["effective_to"]
    return Assignment(
        date.fromisoformat(data["effective_from"]),
        None if to is None else date.fromisoformat(to),
        data["rep_id"],
    )
