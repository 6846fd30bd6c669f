"""The access decisions, pure: who sees which rep, team and territory on which days (no server)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from projections import org
from projections.org import OrgState
from services.access.policies import POLICIES, ROLES, Policy, days_of, owned_refusal, refusal
from services.auth.roles import Principal, Role
from tests.unit.test_org import assigned, moved, onboarded
from tests.unit.test_process_story import make

NOW = datetime(2026, 4, 15, 12, tzinfo=UTC)
STATE = org.fold(
    [
        make("TeamFormed", team_id="team-1", name="One", manager_id="mgr-1", parent_team_id=None),
        make("TeamFormed", team_id="team-2", name="Two", manager_id="mgr-2", parent_team_id=None),
        make("TeamFormed", team_id="team-1a", name="One A", manager_id=None, parent_team_id="team-1"),
        onboarded("rep-a", "team-1", "2026-01-05"),
        onboarded("rep-b", "team-2", "2026-01-05"),
        onboarded("rep-c", "team-2", "2026-01-05"),
        moved("team-1", "2026-03-01", rep="rep-c", from_team="team-2"),
        onboarded("rep-d", "team-1a", "2026-01-05"),
        assigned("terr-1", "rep-a", "2026-01-05"),
        assigned("terr-2", "rep-b", "2026-01-05"),
    ]
)

REP_A = Principal("k1", Role.REP, subject="rep-a")
MGR_1 = Principal("k2", Role.MANAGER, subject="mgr-1")
MGR_2 = Principal("k3", Role.MANAGER, subject="mgr-2")
PUBLISHER = Principal("k4", Role.PUBLISHER, frozenset({"/dialer/x"}))
AUDITOR = Principal("k5", Role.AUDITOR)


def decide(principal: Principal, policy: Policy, path: dict[str, str], query: dict[str, str]) -> str | None:
    return refusal(principal, policy, path, query, STATE, days_of(path, query, "UTC", NOW))


def test_a_rep_in_march_is_the_new_managers_from_march_and_the_old_managers_until_then() -> None:
    march = {"rep_id": "rep-c", "period": "2026-03"}
    february = {"rep_id": "rep-c", "period": "2026-02"}
    assert decide(MGR_1, Policy.REP, march, {}) is None
    assert decide(MGR_1, Policy.REP, february, {}) is not None
    assert decide(MGR_2, Policy.REP, february, {}) is None
    assert decide(MGR_2, Policy.REP, march, {}) is not None
    # a quarter that spans the move is both managers'
    assert decide(MGR_1, Policy.REP, {"rep_id": "rep-c", "period": "2026-Q1"}, {}) is None
    assert decide(MGR_2, Policy.REP, {"rep_id": "rep-c", "period": "2026-Q1"}, {}) is None
    # without a period: today (after the move)
    assert decide(MGR_1, Policy.REP, {"rep_id": "rep-c"}, {}) is None
    assert decide(MGR_2, Policy.REP, {"rep_id": "rep-c"}, {}) is not None
    assert decide(MGR_2, Policy.REP, {"rep_id": "rep-c"}, {"as_of": "2026-02-10T00:00:00Z"}) is None


def test_a_manager_sees_teams_rolling_up_into_theirs_and_their_reps_and_territories() -> None:
    assert decide(MGR_1, Policy.SCOPE, {}, {"scope": "team", "id": "team-1a"}) is None
    assert decide(MGR_1, Policy.REP, {"rep_id": "rep-d"}, {}) is None
    assert decide(MGR_1, Policy.SCOPE, {}, {"scope": "territory", "id": "terr-1"}) is None
    assert decide(MGR_1, Policy.SCOPE, {}, {"scope": "territory", "id": "terr-2"}) is not None
    assert decide(MGR_1, Policy.SCOPE, {}, {"scope": "team", "id": "team-2"}) is not None
    assert decide(MGR_2, Policy.REP, {"rep_id": "rep-d"}, {}) is not None


def test_a_team_review_is_its_managers_and_their_managers_never_a_reps() -> None:
    review = {"team_id": "team-1a", "period": "2026-Q1"}
    assert decide(MGR_1, Policy.TEAM, review, {}) is None  # team-1a rolls up into mgr-1's team-1
    assert decide(MGR_1, Policy.TEAM, {"team_id": "team-1", "period": "2026-Q1"}, {}) is None
    assert decide(MGR_1, Policy.TEAM, {"team_id": "team-2", "period": "2026-Q1"}, {}) is not None
    assert decide(MGR_2, Policy.TEAM, review, {}) is not None
    assert decide(REP_A, Policy.TEAM, {"team_id": "team-1", "period": "2026-Q1"}, {}) is not None
    assert decide(Principal("k6", Role.ADMIN), Policy.TEAM, review, {}) is None


def test_a_rep_sees_only_themselves_and_the_territories_they_own() -> None:
    assert decide(REP_A, Policy.REP, {"rep_id": "rep-a", "period": "2026-Q1"}, {}) is None
    assert decide(REP_A, Policy.REP, {"rep_id": "rep-b", "period": "2026-Q1"}, {}) is not None
    assert decide(REP_A, Policy.SCOPE, {}, {"scope": "rep", "id": "rep-a"}) is None
    assert decide(REP_A, Policy.SCOPE, {}, {"scope": "territory", "id": "terr-1"}) is None
    assert decide(REP_A, Policy.SCOPE, {}, {"scope": "team", "id": "team-1"}) is not None
    assert decide(REP_A, Policy.SCOPE, {}, {}) is not None  # scope=org by default


def test_lists_must_be_narrowed_to_the_keys_reach_by_every_filter_named() -> None:
    assert decide(REP_A, Policy.FILTERED, {}, {}) is not None
    assert decide(REP_A, Policy.FILTERED, {}, {"rep": "rep-a"}) is None
    assert decide(REP_A, Policy.FILTERED, {}, {"rep": "rep-a", "team": "team-1"}) is not None
    assert decide(MGR_1, Policy.FILTERED, {}, {"team": "team-1", "territory": "terr-1"}) is None
    assert decide(MGR_1, Policy.FILTERED, {}, {"team": "team-1", "rep": "rep-b"}) is not None


def test_a_deal_or_lead_is_seen_when_its_rep_is() -> None:
    days = [date(2026, 4, 15)]
    assert owned_refusal(MGR_1, STATE, {"deal": {"deal_id": "d", "rep_id": "rep-a"}}, days) is None
    assert owned_refusal(MGR_2, STATE, {"deal": {"deal_id": "d", "rep_id": "rep-a"}}, days) is not None
    assert owned_refusal(REP_A, STATE, {"lead": {"lead_id": "l", "rep_id": None}}, days) is not None
    assert owned_refusal(REP_A, STATE, {"lead": None, "history": []}, days) is not None  # not caught up
    assert owned_refusal(AUDITOR, STATE, {"lead": {"lead_id": "l", "rep_id": None}}, days) is None


@pytest.mark.parametrize(
    "policy", [Policy.ORG, Policy.REP, Policy.SCOPE, Policy.FILTERED, Policy.OWNED, Policy.TEAM]
)
def test_a_publisher_reads_nothing_and_an_auditor_everything(policy: Policy) -> None:
    assert decide(PUBLISHER, policy, {"rep_id": "rep-a", "team_id": "team-1"}, {"rep": "rep-a"}) is not None
    assert decide(AUDITOR, policy, {"rep_id": "rep-b", "team_id": "team-2"}, {}) is None
    assert decide(REP_A, Policy.ORG, {}, {}) is not None and decide(MGR_1, Policy.ORG, {}, {}) is not None


def test_only_publisher_and_admin_keys_publish() -> None:
    assert decide(PUBLISHER, Policy.PUBLISH, {}, {}) is None
    assert decide(Principal("k", Role.ADMIN, frozenset({"/crm"})), Policy.PUBLISH, {}, {}) is None
    for principal in (REP_A, MGR_1, AUDITOR):
        assert decide(principal, Policy.PUBLISH, {}, {}) is not None


def test_every_policy_names_the_roles_it_admits_and_the_table_knows_every_route() -> None:
    assert set(ROLES) == set(Policy)
    assert {policy for policy in POLICIES.values()} == set(Policy)


def test_the_days_of_a_request_are_its_periods_or_its_as_of_day_or_today() -> None:
    assert len(days_of({"period": "2026"}, {}, "UTC", NOW)) == 365
    assert days_of({}, {"period": "2026-W10"}, "UTC", NOW)[0] == date(2026, 3, 2)
    assert days_of({}, {"as_of": "2026-02-01T23:30:00-05:00"}, "UTC", NOW) == [date(2026, 2, 2)]
    assert days_of({}, {"as_of": "not a time", "period": "2026-99"}, "UTC", NOW) == [date(2026, 4, 15)]


def test_an_empty_organisation_leaves_a_manager_nothing_but_themselves() -> None:
    empty = OrgState()
    assert refusal(MGR_1, Policy.REP, {"rep_id": "rep-a"}, {}, empty, [date(2026, 4, 15)]) is not None
    assert refusal(MGR_1, Policy.REP, {"rep_id": "mgr-1"}, {}, empty, [date(2026, 4, 15)]) is None
