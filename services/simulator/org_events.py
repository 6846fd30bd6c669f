"""The organisation's story: set-up, planning, careers (hires, team moves, departures) and
enablement (training modules and coaching sessions), in time order.

At set-up the head of sales, the teams and their managers, the territories, the plans and the
first sellers are recorded on the first morning. A successor is onboarded shortly before the rep
they replace leaves and takes over their territory the day after; a rep who leaves hands back the
territory with an `effective_to`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

from services.simulator import names
from services.simulator.clock import add_business_days, local, quarter_start
from services.simulator.config import SimConfig
from services.simulator.org import AE, AM, MANAGER, ROOT_TEAM, SDR, SE, Org, Rep
from services.simulator.planning import QUOTA_ROLES, plan_versions, quarters, quota
from services.simulator.plans import PLAN_OF_ROLE
from services.simulator.story import Data, Draft
from services.simulator.timeline import HR, LMS, SPM, OrgTimeline

FOCUS = {
    SDR: {"prospecting": 4, "qualification": 3, "time_management": 2, "objection_handling": 1},
    AE: {
        "needs_assessment": 2,
        "presentation": 2,
        "objection_handling": 3,
        "closing": 3,
        "product_knowledge": 1,
    },
    AM: {"follow_up": 3, "nurturing": 3, "objection_handling": 1, "closing": 1},
    SE: {"presentation": 3, "product_knowledge": 3, "needs_assessment": 1},
    MANAGER: {"time_management": 1, "closing": 1, "other": 1},
}
"""What coaching focuses on, by role (relative weights)."""
ONBOARDING = ("lms-onboarding-product", "lms-onboarding-process", "lms-onboarding-crm")


def org_events(cfg: SimConfig, org: Org) -> Iterator[Draft]:
    """Every event of the organisation's story, in time order."""
    t = OrgTimeline(cfg, org)
    _set_up(t)
    plan_versions(t)
    for rep in org.reps.values():
        _career(t, rep)
    quarters(t)
    for rep in org.reps.values():
        _training(t, rep)
        _coaching(t, rep)
    if cfg.weak_spot is not None:
        _weak_spot_coached(t)
    return t.drafts()


def _set_up(t: OrgTimeline) -> None:
    org = t.org
    _onboard(t, org.vp, t.setup_time())
    root: Data = {"team_id": ROOT_TEAM, "name": "Sales", "manager_id": org.vp.rep_id}
    t.add(t.setup_time(), "TeamFormed", HR, ROOT_TEAM, root)
    for team in org.teams:
        data: Data = {"team_id": team.team_id, "name": team.name, "manager_id": team.manager_id}
        t.add(t.setup_time(), "TeamFormed", HR, team.team_id, data | {"parent_team_id": ROOT_TEAM})
    for rep in org.reps.values():
        if rep.territory is not None and rep.started_on == t.cfg.first_day:
            territory, segment, countries = rep.territory
            data = {"territory_id": territory, "name": f"{' '.join(countries)} {segment}"}
            data |= {"countries": list(countries), "segments": [segment]}
            t.add(t.setup_time(), "TerritoryDefined", SPM, territory, data)


def _onboard(t: OrgTimeline, rep: Rep, at: datetime) -> None:
    data: Data = {"rep_id": rep.rep_id, "display_name": rep.name, "role": rep.role, "team_id": rep.team_id}
    if rep is not t.org.vp:
        data["manager_id"] = t.org.vp.rep_id if rep.role == MANAGER else t.org.team(rep.team_id).manager_id
    t.add(at, "RepOnboarded", HR, rep.rep_id, data | {"started_on": rep.started_on.isoformat()})
    plan: Data = {
        "effective_from": rep.started_on.isoformat(),
        "rep_id": rep.rep_id,
        "plan_id": PLAN_OF_ROLE[rep.role],
    }
    overlaid = _managed_teams(t.org, rep)
    if overlaid:  # a manager's plan pays an override on their teams' deals (overlay credit)
        plan["overlay"] = {"team_ids": overlaid}
    t.add(at + timedelta(minutes=5), "CompPlanAssigned", SPM, rep.rep_id, plan)


def _managed_teams(org: Org, rep: Rep) -> list[str]:
    """The teams whose deals roll up to ``rep``: their own teams; every team for the VP."""
    if rep is org.vp:
        return [team.team_id for team in org.teams]
    return [team.team_id for team in org.teams if team.manager_id == rep.rep_id]


def _career(t: OrgTimeline, rep: Rep) -> None:
    """Onboarding (with territory and first quota for hires), a team move, leaving."""
    tz = t.org.tz_of(rep, rep.started_on)
    hired = rep.started_on > t.cfg.first_day
    if rep is not t.org.vp:
        _onboard(t, rep, local(rep.started_on, 9 * 60, tz) if hired else t.setup_time())
    if rep.territory is not None and rep.territory_from is not None:
        at = local(rep.started_on, 9 * 60 + 10, tz) if hired else t.setup_time()
        _territory(t, rep, at, rep.territory_from, None)
    if hired and rep.role in QUOTA_ROLES:
        quota(t, rep, quarter_start(rep.started_on), local(rep.started_on, 9 * 60 + 15, tz))
    if rep.move is not None:
        day, to_team = rep.move
        data: Data = {"rep_id": rep.rep_id, "from_team_id": rep.team_id, "to_team_id": to_team}
        data["effective_from"] = day.isoformat()
        t.add(local(day, 9 * 60 + 30, tz), "RepMovedTeam", HR, rep.rep_id, data)
    if rep.last_day is not None:
        leaving = local(rep.last_day, 16 * 60 + 30, t.org.tz_of(rep, rep.last_day))
        t.add(
            leaving, "RepLeft", HR, rep.rep_id, {"rep_id": rep.rep_id, "last_day": rep.last_day.isoformat()}
        )
        if rep.territory is not None and rep.territory_from is not None:
            _territory(t, rep, leaving + timedelta(minutes=5), rep.territory_from, rep.last_day)


def _territory(t: OrgTimeline, rep: Rep, at: datetime, first: date, last: date | None) -> None:
    assert rep.territory is not None
    data: Data = {"effective_from": first.isoformat()}
    if last is not None:
        data["effective_to"] = last.isoformat()
    data |= {"territory_id": rep.territory[0], "rep_id": rep.rep_id}
    t.add(at, "TerritoryAssigned", SPM, rep.territory[0], data)


def _last_day(t: OrgTimeline, rep: Rep) -> date:
    return min(rep.last_day or t.cfg.last_day, t.cfg.last_day)


def _training(t: OrgTimeline, rep: Rep) -> None:
    """Onboarding modules for hires in their first weeks, then a module every couple of months."""
    if rep.started_on > t.cfg.first_day:
        for offset, module in enumerate(ONBOARDING, 1):
            _module(t, rep, add_business_days(rep.started_on, 3 * offset), module)
    later = [module for module in names.TRAINING_MODULES if module not in ONBOARDING]
    day = add_business_days(rep.started_on, t.rng.randint(15, 40))
    while day <= _last_day(t, rep):
        _module(t, rep, day, t.rng.choice(later))
        day = add_business_days(day, t.rng.randint(25, 50))


def _module(t: OrgTimeline, rep: Rep, day: date, module: str) -> None:
    score = t.rng.randint(55, 100)
    data: Data = {"rep_id": rep.rep_id, "module_id": module, "module_name": names.TRAINING_MODULES[module]}
    data |= {"score_percent": score, "passed": score >= 70}
    t.add(t.working_time(day, t.org.tz_of(rep, day)), "TrainingCompleted", LMS, rep.rep_id, data)


def _weak_spot_coached(t: OrgTimeline) -> None:
    """The seeded weak rep's coaching session on their weak stage, by their team's manager."""
    spot = t.cfg.weak_spot
    assert spot is not None
    rep = t.org.reps[spot.rep_id]
    data: Data = {"rep_id": rep.rep_id, "coach_id": t.org.team(rep.team_on(spot.coached_on)).manager_id}
    data |= {"focus_area": spot.focus, "duration_seconds": 3600}
    at = t.working_time(spot.coached_on, t.org.tz_of(rep, spot.coached_on))
    t.add(at, "CoachingSessionHeld", LMS, rep.rep_id, data)


def _coaching(t: OrgTimeline, rep: Rep) -> None:
    """Sellers meet their team's manager every two to three weeks; managers the head of sales monthly."""
    if rep is t.org.vp:
        return
    focus = FOCUS[rep.role]
    day = add_business_days(rep.started_on, t.rng.randint(3, 10))
    while day <= _last_day(t, rep):
        coach = t.org.vp.rep_id if rep.role == MANAGER else t.org.team(rep.team_on(day)).manager_id
        data: Data = {"rep_id": rep.rep_id, "coach_id": coach}
        data["focus_area"] = t.rng.choices(list(focus), weights=list(focus.values()))[0]
        data["duration_seconds"] = 60 * t.rng.choice((30, 30, 45, 60))
        t.add(t.working_time(day, t.org.tz_of(rep, day)), "CoachingSessionHeld", LMS, rep.rep_id, data)
        day = add_business_days(day, t.rng.randint(15, 25) if rep.role == MANAGER else t.rng.randint(8, 15))
