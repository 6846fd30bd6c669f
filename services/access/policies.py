"""What each endpoint reads, and the pure decision whether a key's role may read it.

Every route of the worker has one `Policy` in `POLICIES` (a route without one does not start:
`services.bootstrap.routes` looks each up). The OpenAPI document states each operation's policy and
the roles it admits (``x-salesledger-access``), and the access matrix test is generated from it.

Narrowed roles (rep, manager) are decided against the effective-dated organisation
(`projections.org`) over the days a request is about (`days_of`): the days of its ``period``, the day
of its ``as_of``, or today. A manager sees a rep on a day the rep is in one of the teams they manage
(`projections.org.managed_teams`), so a rep who moved in March is the new manager's from March and
the old manager's until then; a territory on a day its owner is a rep they see that day.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from projections import org
from projections.org import OrgState
from projections.periods import local_day, period_days
from services.auth.roles import MAY_PUBLISH, READS_EVERYTHING, Principal, Role


class Policy(StrEnum):
    PUBLIC = "public"
    """Anyone, without a key: health, the contracts."""
    PEER = "peer"
    """Workers of the group, by their signature (`services.queries.peers`), not by API key."""
    PUBLISH = "publish"
    """Publisher and admin keys, as their sources only (the gate checks the source)."""
    ORG = "org"
    """Answers across the whole organisation: auditor and admin keys."""
    REP = "rep"
    """One rep named in the path: that rep, their managers, auditors, admins."""
    SCOPE = "scope"
    """The ``scope`` and ``id`` query: a rep their own, a manager their teams, territories and reps;
    ``scope=org`` (the default) as `ORG`."""
    FILTERED = "filtered"
    """A list a narrowed key must filter by ``rep``, ``team`` or ``territory`` within its reach."""
    OWNED = "owned"
    """One deal or lead: seen when its rep is (decided on the answer's ``rep_id``)."""
    TEAM = "team"
    """One team named in the path (``{team_id}``): a manager of it (or of a team it rolls up
    into), auditors, admins; rep keys are refused (a rep reads no team's numbers)."""


ROLES: Mapping[Policy, tuple[Role, ...]] = {
    Policy.PUBLIC: tuple(Role),
    Policy.PEER: (),
    Policy.PUBLISH: tuple(sorted(MAY_PUBLISH)),
    Policy.ORG: tuple(sorted(READS_EVERYTHING)),
    Policy.REP: (Role.ADMIN, Role.AUDITOR, Role.MANAGER, Role.REP),
    Policy.SCOPE: (Role.ADMIN, Role.AUDITOR, Role.MANAGER, Role.REP),
    Policy.FILTERED: (Role.ADMIN, Role.AUDITOR, Role.MANAGER, Role.REP),
    Policy.OWNED: (Role.ADMIN, Role.AUDITOR, Role.MANAGER, Role.REP),
    Policy.TEAM: (Role.ADMIN, Role.AUDITOR, Role.MANAGER),
}
"""The roles a policy admits at all (narrowed roles then only within their reach)."""

POLICIES: Mapping[tuple[str, str], Policy] = {
    ("GET", "/v1/health"): Policy.PUBLIC,
    ("GET", "/v1/health/ready"): Policy.PUBLIC,
    ("GET", "/v1/health/live"): Policy.PUBLIC,
    ("GET", "/v1/openapi.json"): Policy.PUBLIC,
    ("GET", "/v1/asyncapi.json"): Policy.PUBLIC,
    ("GET", "/v1/schemas"): Policy.PUBLIC,
    ("GET", "/v1/schemas/{event_type}"): Policy.PUBLIC,
    ("GET", "/metrics"): Policy.PUBLIC,
    ("GET", "/v1/internal/partials/{name}"): Policy.PEER,
    ("POST", "/v1/events"): Policy.PUBLISH,
    ("POST", "/v1/events:batch"): Policy.PUBLISH,
    ("GET", "/v1/reps/activity"): Policy.ORG,
    ("GET", "/v1/reps/{rep_id}/activity"): Policy.REP,
    ("GET", "/v1/pipeline"): Policy.SCOPE,
    ("GET", "/v1/funnel"): Policy.ORG,
    ("GET", "/v1/kpis"): Policy.SCOPE,
    ("GET", "/v1/forecast"): Policy.SCOPE,
    ("GET", "/v1/leaderboards"): Policy.ORG,
    ("GET", "/v1/statements/{rep_id}/{period}"): Policy.REP,
    ("GET", "/v1/statements/{rep_id}/{period}/restated"): Policy.REP,
    ("GET", "/v1/payouts"): Policy.ORG,
    ("POST", "/v1/what-if"): Policy.ORG,
    ("GET", "/v1/deals"): Policy.FILTERED,
    ("GET", "/v1/deals/{deal_id}"): Policy.OWNED,
    ("GET", "/v1/leads"): Policy.FILTERED,
    ("GET", "/v1/leads/{lead_id}"): Policy.OWNED,
    ("GET", "/v1/events/{event_id}/history"): Policy.ORG,
    ("GET", "/v1/coaching/flags"): Policy.SCOPE,
    ("GET", "/v1/reps/{rep_id}/development"): Policy.REP,
    ("GET", "/v1/reviews/{team_id}/{period}"): Policy.TEAM,
    # The browser dashboard (services.ui, docs/dashboard.md): the same keys and roles as the API;
    # each section of a page is further narrowed by the policy of the API request it shows.
    ("GET", "/ui/"): Policy.PUBLIC,  # lists only what the key sees; no key: the login form
    ("GET", "/ui/login"): Policy.PUBLIC,
    ("POST", "/ui/login"): Policy.PUBLIC,
    ("POST", "/ui/logout"): Policy.PUBLIC,
    ("GET", "/ui/static/{name}"): Policy.PUBLIC,
    ("GET", "/ui/teams/{team_id}"): Policy.TEAM,
    ("GET", "/ui/reps/{rep_id}"): Policy.REP,
    ("GET", "/ui/deals/{deal_id}"): Policy.OWNED,
}

MOST_DAYS = 400
"""The longest span of days a request is decided over (a year is the longest period)."""

FILTERS = ("rep", "team", "territory")


def days_of(path: Mapping[str, str], query: Mapping[str, str], timezone: str, now: datetime) -> list[date]:
    """The days a request is about: its period's, its ``as_of``'s, or today (org time zone).
    Unreadable values fall back to today: the handler then refuses them with 400."""
    key = path.get("period") or query.get("period")
    if key:
        try:
            first, last = period_days(key)
        except ValueError:
            pass
        else:
            return [first + timedelta(days=n) for n in range(min((last - first).days + 1, MOST_DAYS))]
    raw = query.get("as_of")
    if raw:
        try:
            at = datetime.fromisoformat(raw)
            if at.utcoffset() is not None:
                return [local_day(at, timezone)]
        except (ValueError, OverflowError):
            pass
    return [local_day(now, timezone)]


def sees_rep(principal: Principal, state: OrgState, rep_id: str, days: list[date]) -> bool:
    """Whether a narrowed key sees ``rep_id`` on one of ``days``."""
    if rep_id == principal.subject:
        return True
    if principal.role is not Role.MANAGER or principal.subject is None:
        return False
    managed = org.managed_teams(state, principal.subject)
    return any(org.team_of(state, rep_id, day) in managed for day in days)


def sees_team(principal: Principal, state: OrgState, team_id: str) -> bool:
    """A team's numbers are its manager's (and their managers'); a rep reads no team's."""
    if principal.role is not Role.MANAGER or principal.subject is None:
        return False
    return team_id in org.managed_teams(state, principal.subject)


def sees_territory(principal: Principal, state: OrgState, territory_id: str, days: list[date]) -> bool:
    """A territory is seen on a day its owner is a rep the key sees that day."""
    for day in days:
        owner = org.owner_of(state, territory_id, day)
        if owner is not None and sees_rep(principal, state, owner, [day]):
            return True
    return False


def _sees(principal: Principal, state: OrgState, kind: str, ident: str, days: list[date]) -> bool:
    if kind == "rep":
        return sees_rep(principal, state, ident, days)
    if kind == "team":
        return sees_team(principal, state, ident)
    if kind == "territory":
        return sees_territory(principal, state, ident, days)
    return False


def _reach(principal: Principal) -> str:
    if principal.role is Role.REP:
        return f"a rep key reads rep {principal.subject!r} only"
    return f"a manager key reads the teams {principal.subject!r} manages, their reps and territories"


def refusal(
    principal: Principal,
    policy: Policy,
    path: Mapping[str, str],
    query: Mapping[str, str],
    state: OrgState | None,
    days: list[date],
) -> str | None:
    """Why ``principal`` may not make this request (the 403 message), or None when it may.

    ``state`` is the organisation, needed only for narrowed roles on narrowed policies."""
    if policy in (Policy.PUBLIC, Policy.PEER):
        return None
    if policy is Policy.PUBLISH:
        return None if principal.role in MAY_PUBLISH else f"a {principal.role} key publishes nothing"
    if principal.role in READS_EVERYTHING:
        return None
    if principal.role is Role.PUBLISHER:
        return "a publisher key reads nothing: use a rep, manager, auditor or admin key"
    if policy is Policy.ORG:
        return "this answer covers the whole organisation: it needs an auditor or admin key"
    if policy is Policy.OWNED:
        return None  # decided on the answer (`owned_refusal`)
    assert state is not None, "narrowed policies are decided against the organisation"
    if policy is Policy.TEAM:
        team_id = path.get("team_id", "")
        if principal.role is Role.REP:
            return f"{_reach(principal)}: a rep key reads no team's review"
        return None if sees_team(principal, state, team_id) else f"{_reach(principal)}, not team {team_id!r}"
    if policy is Policy.REP:
        rep_id = path.get("rep_id", "")
        return None if sees_rep(principal, state, rep_id, days) else f"{_reach(principal)}, not {rep_id!r}"
    if policy is Policy.SCOPE:
        kind, ident = query.get("scope", "org"), query.get("id")
        if kind == "org" or ident is None:
            return f"{_reach(principal)}: name scope=rep|team|territory and its id (org needs an auditor key)"
        return (
            None
            if _sees(principal, state, kind, ident, days)
            else f"{_reach(principal)}, not {kind} {ident!r}"
        )
    named = [(kind, query[kind]) for kind in FILTERS if query.get(kind)]
    if not named:
        return f"{_reach(principal)}: filter the list by rep, team or territory"
    for kind, ident in named:
        if not _sees(principal, state, kind, ident, days):
            return f"{_reach(principal)}, not {kind} {ident!r}"
    return None


def owned_refusal(principal: Principal, state: OrgState, body: Any, days: list[date]) -> str | None:
    """Why a narrowed key may not see this deal or lead answer (by the ``rep_id`` of its ``deal`` or
    ``lead``), or None. One whose read model has not caught up (no rep yet) is refused: its history
    could name anyone."""
    if principal.role in READS_EVERYTHING:
        return None
    item = body.get("deal") or body.get("lead") or body if isinstance(body, Mapping) else None
    rep_id = item.get("rep_id") if isinstance(item, Mapping) else None
    if isinstance(rep_id, str) and sees_rep(principal, state, rep_id, days):
        return None
    return f"{_reach(principal)}: this one is not theirs"
