"""Routing: every event type has its aggregate, cross-aggregate effects are all or nothing, states
are JSON-safe values, and replay folds without judging."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from events.catalogue import EVENT_TYPES
from sales import (
    KINDS,
    KINDS_WITH_RULES,
    RULES,
    RuleViolation,
    aggregate_of,
    apply,
    customer,
    deal,
    decide_for,
    evolve_event,
    evolve_for,
    lead,
    opens,
    plan,
    quota,
    rep,
    targets,
)
from sales.deal_state import DealState
from sales.names import event_type
from sales.routing import ROUTES, handled_by
from tests.unit.test_process_story import DEFAULT, MISSING_HISTORY, Ledger, all_samples, make, process_from

ROOT = Path(__file__).resolve().parents[2]
MODULES = {"lead": lead, "deal": deal, "customer": customer, "rep": rep, "plan": plan, "quota": quota}
STATE_CLASSES: dict[str, Any] = {
    "lead": lead.LeadState,
    "deal": DealState,
    "customer": customer.CustomerState,
    "rep": rep.RepState,
    "plan": plan.PlanState,
    "quota": quota.QuotaState,
}


def test_every_event_type_belongs_to_an_aggregate_keyed_by_its_partition_key() -> None:
    assert set(ROUTES) == set(EVENT_TYPES)
    assert {kind for kind, _ in ROUTES.values()} == set(KINDS)
    for event in all_samples():
        _, key = aggregate_of(event)
        assert key == event.partition_key, event_type(event)


def test_each_kind_with_rules_handles_exactly_the_events_that_change_it() -> None:
    assert set(MODULES) == KINDS_WITH_RULES
    for kind, module in MODULES.items():
        assert handled_by(kind) == module.HANDLES, kind


def test_a_qualification_opens_its_deal_and_a_win_opens_its_customer() -> None:
    assert opens(make("LeadQualified")) == [("deal", "deal-001")]
    assert targets(make("DealWon")) == [("deal", "deal-001"), ("customer", "cust-acme-robotics")]
    assert [event for event in all_samples() if opens(event)] == [
        event for event in all_samples() if event_type(event) in {"LeadQualified", "DealWon"}
    ]


def test_kinds_without_rules_count_their_events() -> None:
    state = apply("team", None, make("TeamFormed"), DEFAULT)
    assert apply("team", state, make("TeamFormed"), DEFAULT) == {"events": 2}
    assert evolve_for("spiff")(None, make("SpiffAnnounced"), DEFAULT) == {"events": 1}
    assert decide_for("objective")(None, make("ObjectiveSet"), DEFAULT) is None


def test_apply_refuses_an_event_for_another_kind_or_an_unknown_kind() -> None:
    with pytest.raises(TypeError, match="CallLogged does not change a deal"):
        apply("deal", None, make("CallLogged"), DEFAULT)
    with pytest.raises(ValueError, match="unknown aggregate kind 'account'"):
        apply("account", None, make("CallLogged"), DEFAULT)


def test_apply_judges_one_aggregate_and_leaves_the_stored_state_as_it_was() -> None:
    stored = apply("lead", None, make("LeadCaptured"), DEFAULT)
    snapshot = json.dumps(stored)
    with pytest.raises(RuleViolation) as caught:
        apply("lead", stored, make("LeadCaptured"), DEFAULT)
    assert caught.value.as_dict() == {
        "rule": "lead_already_captured",
        "message": "lead-001 was captured from referral",
    }
    assert json.dumps(stored) == snapshot


def test_states_survive_a_json_round_trip_unchanged() -> None:
    ledger = Ledger()
    for event in all_samples():
        if event_type(event) not in MISSING_HISTORY:
            ledger.publish(event)
    assert {kind for kind, _ in ledger.states} == set(KINDS)
    for (kind, key), state in ledger.states.items():
        assert json.loads(json.dumps(state)) == state
        if kind in STATE_CLASSES:
            assert STATE_CLASSES[kind].from_dict(state).to_dict() == state, (kind, key)


def test_a_snapshot_of_another_version_is_refused() -> None:
    state = apply("lead", None, make("LeadCaptured"), DEFAULT)
    with pytest.raises(ValueError, match="snapshot version 2 is not 1"):
        lead.LeadState.from_dict({**state, "state_version": 2})


def test_replay_folds_recorded_events_even_if_the_process_has_since_changed() -> None:
    ledger = Ledger()
    for event in all_samples():
        if event_type(event) not in MISSING_HISTORY:
            ledger.publish(event)
    stricter = process_from(
        (ROOT / "sales/default_process.toml")
        .read_text()
        .replace('won_from = ["closing"]', 'won_from = ["objection_handling"]')
    )
    replayed: dict[tuple[str, str], dict[str, object]] = {}
    for event in all_samples():
        if event_type(event) not in MISSING_HISTORY:
            replayed.update(evolve_event(event, replayed, stricter))
    assert replayed == ledger.states


# --- the rule registry and its documentation -------------------------------------------------------


def test_an_unregistered_rule_cannot_be_raised() -> None:
    with pytest.raises(ValueError, match="unregistered rule 'made_up'"):
        RuleViolation("made_up", "no such rule")


def test_every_rule_is_documented_with_its_name() -> None:
    docs = (ROOT / "docs" / "process.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^### `([a-z_0-9]+)`", docs, flags=re.MULTILINE))
    assert documented == set(RULES)


def test_every_rule_has_a_worked_example_in_these_tests() -> None:
    tests = "".join(
        path.read_text(encoding="utf-8") for path in (ROOT / "tests" / "unit").glob("test_process_*.py")
    )
    missing = [name for name in RULES if f'"{name}"' not in tests]
    assert missing == []


def test_every_key_of_the_process_file_is_documented() -> None:
    from sales.process import DealRules, LeadRules, ProcessConfig, StageConfig

    docs = (ROOT / "docs" / "process.md").read_text(encoding="utf-8")
    for model in (ProcessConfig, StageConfig, LeadRules, DealRules):
        for key in model.model_fields:
            assert f"`{key}`" in docs, f"{model.__name__}.{key}"
