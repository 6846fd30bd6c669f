"""The process file: the shipped default, a custom process, and the errors a bad file gets."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from sales import ProcessConfigError, load_process, parse_process, stage_probability
from sales.process import DEFAULT_PROCESS_FILE
from tests.unit.test_process_story import DEFAULT, Ledger, make, moved, qualified

FOUR_STAGES = """
name = "four-step"
description = "A short enterprise process: discovery, demo, proposal, negotiation."

[[stages]]
name = "discovery"
probability = 0.2

[[stages]]
name = "demo"
probability = 0.4
requires = ["needs_assessed"]
reached_by = "SolutionPresented"

[[stages]]
name = "proposal"
probability = 0.6
reached_by = "ProposalSent"

[[stages]]
name = "negotiation"
probability = 0.9
requires = ["objections_resolved"]

[lead]
bant_required = ["budget", "need"]
requalify_disqualified = true

[deal]
open_stage = "discovery"
allow_skip_ahead = true
backward = "any"
won_from = ["proposal", "negotiation"]
reopen_won = true

[deal.prerequisites]
DealWon = ["objections_resolved", "proposal_sent"]
"""

MINIMAL = """
name = "minimal"
[[stages]]
name = "open"
probability = 0.5
[deal]
open_stage = "open"
"""


def errors_of(toml: str) -> str:
    with pytest.raises(ProcessConfigError) as caught:
        parse_process(toml, "bad.toml")
    assert str(caught.value).startswith("bad.toml: ")
    return str(caught.value)


# --- the default -----------------------------------------------------------------------------------


def test_the_default_process_has_the_stages_of_domain_md_in_order() -> None:
    assert DEFAULT.stage_names == (
        "prospecting",
        "qualified",
        "needs_assessed",
        "solution_presented",
        "objection_handling",
        "closing",
    )
    assert DEFAULT.deal.open_stage == "qualified"
    assert DEFAULT.lead.bant_required == ("budget", "authority", "need", "timeline")


def test_load_process_without_a_path_is_the_shipped_file() -> None:
    assert load_process(None) == load_process(DEFAULT_PROCESS_FILE)


def test_probabilities_are_exact_decimals_and_outcomes_are_one_and_zero() -> None:
    assert stage_probability(DEFAULT, "qualified") == Decimal("0.10")
    assert stage_probability(DEFAULT, "closing") == Decimal("0.80")
    assert stage_probability(DEFAULT, "won") == 1
    assert stage_probability(DEFAULT, "lost") == 0


def test_weighted_pipeline_example_from_domain_md() -> None:
    process = parse_process(MINIMAL.replace("0.5", "0.50"))
    amounts = [Decimal(100_000)] * 3
    stages = ["open", "open", "won"]
    weighted = [
        amount * stage_probability(process, stage) for amount, stage in zip(amounts, stages, strict=True)
    ]
    assert weighted == [Decimal(50_000), Decimal(50_000), Decimal(100_000)]


def test_stage_probability_of_a_stage_the_process_lacks_is_an_error() -> None:
    with pytest.raises(ValueError, match="'negotiation' is not in the 'default' process"):
        stage_probability(DEFAULT, "negotiation")


def test_a_minimal_file_grants_nothing_it_does_not_say() -> None:
    process = parse_process(MINIMAL)
    deal = process.deal
    assert (deal.allow_skip_ahead, deal.backward, deal.reopen_lost, deal.reopen_won) == (
        False,
        "none",
        False,
        False,
    )
    assert (deal.won_from, deal.lost_from, deal.extra_moves) == ("any", "any", ())
    assert process.lead.bant_required == ("budget", "authority", "need", "timeline")


# --- a custom process ------------------------------------------------------------------------------


def test_a_custom_four_stage_process_loads_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "four.toml"
    path.write_text(FOUR_STAGES, encoding="utf-8")
    process = load_process(path)
    assert process.name == "four-step"
    assert process.stage_names == ("discovery", "demo", "proposal", "negotiation")
    assert process.stage_reached_by("ProposalSent") == process.stage("proposal")
    assert process.prerequisites_of("DealWon") == ("objections_resolved", "proposal_sent")
    assert stage_probability(process, "negotiation") == Decimal("0.9")


def test_a_custom_process_qualifies_on_its_own_bant_and_lets_deals_skip_ahead() -> None:
    ledger = Ledger(parse_process(FOUR_STAGES))
    ledger.publish(make("LeadCaptured"), qualified(authority_met=False, timeline_met=False))
    assert ledger.deal().stage == "discovery"
    ledger.publish(moved("discovery", "negotiation"))  # skips demo and proposal: allowed here
    ledger.publish(moved("negotiation", "discovery"))  # any backward move is allowed here
    assert ledger.deal().stage == "discovery"
    assert ledger.rule(moved("discovery", "demo")) == "needs_assessed_required"


# --- errors ----------------------------------------------------------------------------------------


def test_duplicate_stage_names_are_rejected() -> None:
    toml = MINIMAL + '[[stages]]\nname = "open"\nprobability = 0.6\n'
    assert "stage names must be unique: open repeated" in errors_of(toml)


def test_probabilities_must_be_between_zero_and_one() -> None:
    assert "stages.0.probability: Input should be less than or equal to 1" in errors_of(
        MINIMAL.replace("0.5", "1.5")
    )
    assert "stages.0.probability" in errors_of(MINIMAL.replace("0.5", "-0.1"))


def test_probabilities_need_not_grow_through_the_order() -> None:
    toml = MINIMAL + '[[stages]]\nname = "later"\nprobability = 0.1\n'
    assert parse_process(toml).stage_names == ("open", "later")


def test_outcomes_are_not_configurable_stages() -> None:
    toml = MINIMAL + '[[stages]]\nname = "won"\nprobability = 1\n'
    assert "'won' is an outcome (DealWon/DealLost), not a stage to configure" in errors_of(toml)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ('open_stage = "start"', "deal.open_stage: unknown stage 'start' (stages: open)"),
        ('won_from = ["closing"]', "deal.won_from: unknown stage 'closing'"),
        ('lost_from = ["closing"]', "deal.lost_from: unknown stage 'closing'"),
        ("won_from = []", 'deal.won_from lists no stage: write "any" or the stages deals close from'),
        ('extra_moves = ["open -> closing"]', "deal.extra_moves: unknown stage 'closing'"),
        ('extra_moves = ["open -> open"]', "open -> open is not a move"),
        ('extra_moves = ["open to closing"]', 'a move is written "from_stage -> to_stage"'),
        ('backward = "two_steps"', "deal.backward: Input should be 'none', 'one_step' or 'any'"),
        ("reopen_window_days = 0", "deal.reopen_window_days: Input should be greater than or equal to 1"),
        ("allow_skip_ahaed = true", "deal.allow_skip_ahaed: Extra inputs are not permitted"),
        ('reopen_lost = "yes"', "deal.reopen_lost: Input should be a valid boolean"),
    ],
)
def test_deal_rules_must_name_stages_that_exist_and_keys_that_exist(setting: str, message: str) -> None:
    toml = MINIMAL.replace(
        'open_stage = "open"', setting if "open_stage" in setting else f'open_stage = "open"\n{setting}'
    )
    assert message in errors_of(toml)


def test_entry_rules_and_prerequisites_use_known_conditions_and_facts() -> None:
    bad_condition = MINIMAL.replace("probability = 0.5", 'probability = 0.5\nrequires = ["budget_ok"]')
    assert "stages.0.requires.0: Input should be 'bant', 'needs_assessed'" in errors_of(bad_condition)
    bad_fact = MINIMAL + '[deal.prerequisites]\nCallLogged = ["bant"]\n'
    assert "deal.prerequisites.CallLogged.[key]" in errors_of(bad_fact)
    bad_reach = MINIMAL.replace("probability = 0.5", 'probability = 0.5\nreached_by = "DealWon"')
    assert "stages.0.reached_by: Input should be 'NeedsAssessed'" in errors_of(bad_reach)


def test_a_fact_reaches_one_stage_at_most() -> None:
    toml = (
        MINIMAL.replace("probability = 0.5", 'probability = 0.5\nreached_by = "ProposalSent"')
        + '[[stages]]\nname = "later"\nprobability = 0.6\nreached_by = "ProposalSent"\n'
    )
    assert "stages: ProposalSent reaches more than one stage" in errors_of(toml)


def test_the_open_stage_may_only_require_bant() -> None:
    toml = MINIMAL.replace("probability = 0.5", 'probability = 0.5\nrequires = ["needs_assessed"]')
    assert "deal.open_stage 'open' may only require 'bant'" in errors_of(toml)


def test_bant_criteria_are_the_four_and_listed_once() -> None:
    assert "lead.bant_required.0: Input should be 'budget'" in errors_of(
        MINIMAL + '[lead]\nbant_required = ["money"]\n'
    )
    assert "lists a criterion twice" in errors_of(MINIMAL + '[lead]\nbant_required = ["need", "need"]\n')


def test_every_problem_is_reported_at_once() -> None:
    toml = MINIMAL.replace('open_stage = "open"', 'open_stage = "start"\nwon_from = ["end"]')
    message = errors_of(toml)
    assert "unknown stage 'start'" in message and "unknown stage 'end'" in message


def test_a_file_that_is_not_toml_or_not_there_is_a_clear_error(tmp_path: Path) -> None:
    assert "not valid TOML" in errors_of("name = ")
    with pytest.raises(ProcessConfigError, match="cannot read the process file"):
        load_process(tmp_path / "missing.toml")
    assert "stages: Field required" in errors_of('name = "x"\n[deal]\nopen_stage = "a"\n')
