"""Effective-dated organisation: team moves, leaving, territory (re)assignments and corrections;
order of independent events, partitioning and redelivery change nothing."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from functools import reduce

from hypothesis import given
from hypothesis import strategies as st

from events.envelope import Envelope
from projections import org
from projections.org import OrgState, owner_of, team_of, territories_of
from sales.process import load_process
from services.projector.readmodels import read_models
from tests.delivery import delivered_twice
from tests.unit.test_pipeline import PROPERTY, interleave, routed_by_key
from tests.unit.test_process_story import make

D = date.fromisoformat


def onboarded(rep: str = "rep-ada", team: str | None = "team-emea-mm", on: str = "2026-01-05") -> Envelope:
    return make("RepOnboarded", rep_id=rep, team_id=team, started_on=on)


def moved(to_team: str, on: str, rep: str = "rep-ada", from_team: str | None = None) -> Envelope:
    return make("RepMovedTeam", rep_id=rep, from_team_id=from_team, to_team_id=to_team, effective_from=on)


def assigned(territory: str, rep: str, start: str, end: str | None = None) -> Envelope:
    return make(
        "TerritoryAssigned", territory_id=territory, rep_id=rep, effective_from=start, effective_to=end
    )


def test_team_move_applies_from_its_effective_date_not_when_it_was_published() -> None:
    state = org.fold([onboarded(), make("RepMovedTeam")])  # the sample: published 2026-06-20, from 07-01
    assert team_of(state, "rep-ada", D("2026-01-04")) is None  # not started yet
    assert team_of(state, "rep-ada", D("2026-01-05")) == "team-emea-mm"
    assert team_of(state, "rep-ada", D("2026-06-30")) == "team-emea-mm"
    assert team_of(state, "rep-ada", D("2026-07-01")) == "team-emea-ent"
    assert team_of(state, "rep-nobody", D("2026-07-01")) is None


def test_rep_who_left_is_in_no_team_after_the_last_day_until_rehired() -> None:
    history = [
        onboarded(),
        make("RepLeft", rep_id="rep-ada", last_day="2026-06-30"),
        onboarded(team="team-apac", on="2026-09-01"),
    ]
    state = org.fold(history)
    assert team_of(state, "rep-ada", D("2026-06-30")) == "team-emea-mm"
    assert team_of(state, "rep-ada", D("2026-07-01")) is None
    assert not org.is_member(state, "rep-ada", D("2026-08-31"))
    assert team_of(state, "rep-ada", D("2026-09-01")) == "team-apac"


def test_of_two_facts_effective_the_same_day_the_one_recorded_later_wins() -> None:
    state = org.fold([onboarded(on="2026-01-05"), moved("team-emea-ent", "2026-01-05")])
    assert team_of(state, "rep-ada", D("2026-01-05")) == "team-emea-ent"


def test_back_dated_move_applies_from_its_own_date() -> None:
    state = org.fold([onboarded(on="2026-01-05"), moved("team-emea-ent", "2026-03-01")])
    state = org.evolve(state, moved("team-apac", "2026-02-01"))  # recorded later, effective earlier
    assert team_of(state, "rep-ada", D("2026-02-15")) == "team-apac"
    assert team_of(state, "rep-ada", D("2026-03-15")) == "team-emea-ent"


def test_territory_reassigned_from_a_date_changes_owner_that_day() -> None:
    state = org.fold(
        [assigned("terr-dach", "rep-ada", "2026-01-01"), assigned("terr-dach", "rep-sam", "2026-07-01")]
    )
    assert owner_of(state, "terr-dach", D("2025-12-31")) is None
    assert owner_of(state, "terr-dach", D("2026-06-30")) == "rep-ada"
    assert owner_of(state, "terr-dach", D("2026-07-01")) == "rep-sam"
    assert territories_of(state, "rep-ada", D("2026-07-01")) == ()


def test_assignment_announced_in_advance_is_not_undone_by_a_back_filled_earlier_one() -> None:
    state = org.fold(
        [
            assigned("terr-uk", "rep-sam", "2026-07-01"),
            assigned("terr-uk", "rep-ada", "2026-01-01", "2026-06-30"),
        ]
    )
    assert owner_of(state, "terr-uk", D("2026-03-01")) == "rep-ada"
    assert owner_of(state, "terr-uk", D("2026-08-01")) == "rep-sam"


def test_reissued_assignment_with_an_earlier_end_shortens_it() -> None:
    state = org.fold(
        [
            make("TerritoryAssigned"),  # the sample: terr-dach-ent to rep-ada, 2026-07-01 .. 2026-12-31
            assigned("terr-dach-ent", "rep-ada", "2026-07-01", "2026-09-30"),
        ]
    )
    assert owner_of(state, "terr-dach-ent", D("2026-09-30")) == "rep-ada"
    assert owner_of(state, "terr-dach-ent", D("2026-10-01")) is None


def test_a_rep_may_own_several_territories_and_keeps_them_after_leaving_until_reassigned() -> None:
    state = org.fold(
        [
            onboarded(),
            assigned("terr-uk", "rep-ada", "2026-01-05"),
            assigned("terr-dach", "rep-ada", "2026-01-05", "2026-12-31"),
            make("RepLeft", rep_id="rep-ada", last_day="2026-06-30"),
        ]
    )
    assert territories_of(state, "rep-ada", D("2026-08-01")) == ("terr-dach", "terr-uk")
    assert territories_of(state, "rep-ada", D("2027-01-01")) == ("terr-uk",)


def test_state_survives_json_storage() -> None:
    state = org.fold([onboarded(), make("RepMovedTeam"), make("RepLeft"), make("TerritoryAssigned")])
    assert OrgState.from_dict(json.loads(json.dumps(state.to_dict()))) == state


def test_events_that_change_no_membership_are_ignored() -> None:
    assert org.key_of(make("TerritoryDefined")) is None
    assert org.evolve(OrgState(), make("TerritoryDefined")) == OrgState()


def formed(team: str, manager: str | None, parent: str | None = None) -> Envelope:
    return make("TeamFormed", team_id=team, name=team, manager_id=manager, parent_team_id=parent)


def test_a_manager_manages_their_teams_and_every_team_rolling_up_into_them() -> None:
    state = org.fold(
        [
            formed("team-emea", "mgr-vp"),
            formed("team-emea-ent", "mgr-grace", "team-emea"),
            formed("team-emea-smb", "mgr-linus", "team-emea"),
            formed("team-dach", None, "team-emea-ent"),
            formed("team-apac", "mgr-other"),
        ]
    )
    assert org.key_of(formed("team-emea", "mgr-vp")) == "team:team-emea"
    assert org.managed_teams(state, "mgr-grace") == {"team-emea-ent", "team-dach"}
    assert org.managed_teams(state, "mgr-vp") == {"team-emea", "team-emea-ent", "team-emea-smb", "team-dach"}
    assert org.managed_teams(state, "rep-nobody") == frozenset()


def test_forming_a_team_again_restates_its_manager_and_a_rollup_cycle_ends_the_walk() -> None:
    state = org.fold([formed("team-a", "mgr-1"), formed("team-a", "mgr-2"), formed("team-b", None, "team-a")])
    assert org.managed_teams(state, "mgr-1") == frozenset()
    assert org.managed_teams(state, "mgr-2") == {"team-a", "team-b"}
    cycle = org.fold([formed("team-a", "mgr-1", "team-b"), formed("team-b", None, "team-a")])
    assert org.managed_teams(cycle, "mgr-1") == {"team-a", "team-b"}


def test_teams_survive_json_storage_and_a_state_saved_before_teams_still_reads() -> None:
    state = org.fold([onboarded(), formed("team-a", "mgr-1")])
    assert OrgState.from_dict(json.loads(json.dumps(state.to_dict()))) == state
    older = {"reps": state.to_dict()["reps"], "territories": {}}
    assert OrgState.from_dict(older) == OrgState(state.reps)


# --- properties ---------------------------------------------------------------------------------

REPS, TEAMS, TERRITORIES = ("rep-a", "rep-b", "rep-c"), ("team-x", "team-y", None), ("terr-1", "terr-2")
DAYS = st.integers(0, 365).map(lambda n: (date(2026, 1, 1) + timedelta(days=n)).isoformat())


@st.composite
def org_event(draw: st.DrawFn) -> Envelope:
    kind, rep, day = (
        draw(st.sampled_from(["on", "move", "left", "assign"])),
        draw(st.sampled_from(REPS)),
        draw(DAYS),
    )
    if kind == "on":
        return onboarded(rep, draw(st.sampled_from(TEAMS)), day)
    if kind == "move":
        return moved(draw(st.sampled_from(TEAMS[:2])), day, rep)
    if kind == "left":
        return make("RepLeft", rep_id=rep, last_day=day)
    end = draw(st.none() | DAYS.filter(lambda d: d >= day))
    return assigned(draw(st.sampled_from(TERRITORIES)), rep, day, end)


def streams_of(events: list[Envelope]) -> list[list[Envelope]]:
    streams: dict[str, list[Envelope]] = {}
    for event in events:
        streams.setdefault(event.partition_key, []).append(event)
    return list(streams.values())


@PROPERTY
@given(
    st.lists(org_event(), max_size=25),
    st.randoms(use_true_random=False),
    st.integers(1, 4),
    st.integers(0, 99),
)
def test_order_of_independent_events_partitions_and_redelivery_change_nothing(
    events: list[Envelope], rng: random.Random, partitions: int, salt: int
) -> None:
    whole = org.fold(events)
    shuffled = interleave(streams_of(events), rng)
    assert org.fold(shuffled) == whole
    model = next(m for m in read_models(load_process(None), "UTC") if m.name == "org")
    partials = delivered_twice(routed_by_key(shuffled, org.key_of, partitions, salt), model)
    assert reduce(org.merge, (state for _, state in partials), OrgState()) == whole


@PROPERTY
@given(st.lists(org_event(), max_size=25), st.integers(0, 25))
def test_merging_a_prefix_of_a_history_with_the_whole_keeps_the_whole(
    events: list[Envelope], cut: int
) -> None:
    whole = org.fold(events)
    assert org.merge(org.fold(events[:cut]), whole) == whole == org.merge(whole, org.fold(events[:cut]))
