"""Deal rules under the default process (and a few variants): opening, moves, facts, close, reopen."""

from __future__ import annotations

from events.deals import DealWon
from events.envelope import Envelope
from sales.process import DEFAULT_PROCESS_FILE
from tests.unit.test_process_story import (
    Ledger,
    deal_in_closing,
    make,
    moved,
    open_deal,
    process_from,
    qualified,
)

DEFAULT_TOML = DEFAULT_PROCESS_FILE.read_text(encoding="utf-8")
LOST_AT = "2026-11-03T12:00:00+01:00"


def lost() -> Envelope:
    return make("DealLost", deal_id="deal-001", at=LOST_AT)


# --- opening ---------------------------------------------------------------------------------------


def test_a_deal_exists_only_once_its_lead_is_qualified() -> None:
    ledger = Ledger()
    assert ledger.rule(make("NeedsAssessed")) == "deal_not_open"
    assert ledger.rule(moved("qualified", "needs_assessed")) == "deal_not_open"
    assert ledger.rule(make("DealWon")) == "deal_not_open"
    open_deal(ledger)
    deal = ledger.deal()
    assert (deal.stage, deal.lead_id, deal.rep_id, deal.events) == ("qualified", "lead-001", "rep-ada", 1)


def test_a_qualification_cannot_open_a_deal_that_is_already_open() -> None:
    ledger = Ledger()
    open_deal(ledger)
    ledger.publish(make("LeadCaptured", lead_id="lead-002"))
    assert ledger.rule(make("LeadQualified", lead_id="lead-002")) == "deal_already_open"
    assert ledger.lead("lead-002").outcome is None  # rejected on the lead too: all or nothing


def test_a_deal_may_announce_the_stage_it_opened_in_but_only_first() -> None:
    ledger = Ledger()
    open_deal(ledger)
    ledger.publish(moved(None, "qualified"))
    assert (ledger.deal().stage, ledger.deal().stage_changes) == ("qualified", 0)
    ledger.publish(moved(None, "needs_assessed"))
    assert ledger.rule(moved(None, "solution_presented")) == "stage_mismatch"


# --- moves -----------------------------------------------------------------------------------------


def test_a_deal_enters_only_stages_of_the_process() -> None:
    ledger = Ledger()
    open_deal(ledger)
    violation = ledger.rejects(moved("qualified", "negotiation"))
    assert violation.rule == "stage_unknown"
    assert "prospecting, qualified" in violation.message


def test_a_stage_change_starts_from_the_current_stage() -> None:
    ledger = Ledger()
    open_deal(ledger)
    assert ledger.rule(moved("needs_assessed", "solution_presented")) == "stage_mismatch"
    ledger.publish(moved("qualified", "needs_assessed"))
    assert ledger.deal().stage == "needs_assessed"


def test_a_deal_does_not_skip_a_required_stage_but_passes_over_an_optional_one() -> None:
    ledger = Ledger()
    open_deal(ledger)
    ledger.publish(make("NeedsAssessed"))
    assert ledger.rule(moved("needs_assessed", "closing")) == "stage_skip_not_allowed"
    ledger.publish(
        make("SolutionPresented"), moved("solution_presented", "closing")
    )  # over objection_handling
    assert ledger.deal().stage == "closing"


def test_facts_move_a_deal_forward_into_the_stage_they_reach_and_never_back() -> None:
    ledger = Ledger()
    open_deal(ledger)
    ledger.publish(make("NeedsAssessed"))
    assert (ledger.deal().stage, ledger.deal().stage_changes) == ("needs_assessed", 1)
    ledger.publish(make("SolutionPresented"))
    assert ledger.deal().stage == "solution_presented"
    ledger.publish(moved("solution_presented", "closing"), make("NeedsAssessed"))  # needs revisited
    assert ledger.deal().stage == "closing"


def test_a_deal_moves_back_one_step_passing_over_optional_stages_or_along_an_extra_move() -> None:
    ledger = Ledger()
    deal_in_closing(ledger)
    assert ledger.rule(moved("closing", "qualified")) == "backward_move_not_allowed"
    ledger.publish(moved("closing", "objection_handling"), moved("objection_handling", "closing"))
    ledger.publish(moved("closing", "solution_presented"), moved("solution_presented", "closing"))
    ledger.publish(moved("closing", "needs_assessed"))  # extra_moves: requirements changed
    assert ledger.deal().stage == "needs_assessed"


def test_a_process_without_backward_moves_keeps_deals_moving_forward() -> None:
    ledger = Ledger(process_from(DEFAULT_TOML.replace('backward = "one_step"', 'backward = "none"')))
    deal_in_closing(ledger)
    assert ledger.rule(moved("closing", "objection_handling")) == "backward_move_not_allowed"
    ledger.publish(moved("closing", "needs_assessed"))  # the extra move still holds


# --- entry rules and prerequisites ---------------------------------------------------------------------


def test_a_solution_is_not_presented_before_needs_are_assessed() -> None:
    ledger = Ledger()
    open_deal(ledger)
    violation = ledger.rejects(make("SolutionPresented"))
    assert violation.rule == "needs_assessed_required"
    assert (
        violation.message
        == "SolutionPresented requires needs_assessed: no NeedsAssessed recorded for deal-001 yet"
    )
    ledger.publish(moved("qualified", "needs_assessed"))  # the CRM moved it; the assessment is not recorded
    assert ledger.rule(moved("needs_assessed", "solution_presented")) == "needs_assessed_required"
    ledger.publish(make("NeedsAssessed"), moved("needs_assessed", "solution_presented"))


def test_no_proposal_and_no_objection_handling_before_a_solution_was_presented() -> None:
    ledger = Ledger()
    open_deal(ledger)
    ledger.publish(make("NeedsAssessed"))
    assert ledger.rule(make("ProposalSent")) == "solution_presented_required"
    ledger.publish(moved("needs_assessed", "solution_presented"))
    assert ledger.rule(moved("solution_presented", "objection_handling")) == "solution_presented_required"
    ledger.publish(make("SolutionPresented"), make("ProposalSent"))
    assert ledger.deal().expected_amount is not None and str(ledger.deal().expected_amount) == "112500.00 EUR"


def test_bant_is_judged_by_the_process_in_force_when_the_deal_moves() -> None:
    lenient = process_from(
        DEFAULT_TOML.replace('"budget", "authority", "need", "timeline"', '"budget", "need"')
    )
    ledger = Ledger(lenient)
    ledger.publish(make("LeadCaptured"), qualified(timeline_met=False))
    ledger.process = process_from(DEFAULT_TOML)  # the organisation tightened its process
    violation = ledger.rejects(moved("qualified", "needs_assessed"))
    assert violation.rule == "bant_required"
    assert "BANT timeline not met at qualification" in violation.message


def test_a_process_may_require_a_proposal_and_no_open_objection_before_a_win() -> None:
    strict = process_from(DEFAULT_TOML + 'DealWon = ["proposal_sent", "objections_resolved"]\n')
    ledger = Ledger(strict)
    open_deal(ledger)
    ledger.publish(make("NeedsAssessed"), make("SolutionPresented"), moved("solution_presented", "closing"))
    assert ledger.rule(make("DealWon")) == "proposal_sent_required"
    ledger.publish(make("ProposalSent"), make("ObjectionRaised"))
    violation = ledger.rejects(make("DealWon"))
    assert violation.rule == "objections_resolved_required"
    assert "objections obj-deal-001-1 are still open" in violation.message
    ledger.publish(make("ObjectionResolved"), make("DealWon"))


# --- objections ------------------------------------------------------------------------------------


def test_an_objection_is_raised_once_and_resolved_once() -> None:
    ledger = Ledger()
    open_deal(ledger)
    assert ledger.rule(make("ObjectionResolved")) == "objection_unknown"
    ledger.publish(make("ObjectionRaised"))  # a price objection during qualification: a fact
    assert ledger.rule(make("ObjectionRaised", category="timing")) == "objection_already_raised"
    ledger.publish(make("ObjectionResolved"))
    assert ledger.rule(make("ObjectionResolved")) == "objection_already_resolved"
    assert ledger.rule(make("ObjectionRaised")) == "objection_already_raised"
    assert (ledger.deal().open_objections, ledger.deal().resolved_objections) == ((), ("obj-deal-001-1",))


# --- closing ---------------------------------------------------------------------------------------


def test_a_deal_is_won_from_closing_and_lost_from_any_stage() -> None:
    ledger = Ledger()
    open_deal(ledger)
    violation = ledger.rejects(make("DealWon"))
    assert violation.rule == "close_not_allowed_from_stage"
    assert violation.message == "a deal is won from closing, and deal-001 is in 'qualified'"
    ledger.publish(lost())
    assert (ledger.deal().stage, ledger.deal().loss_reason) == ("lost", "competitor")


def test_a_won_deal_has_an_amount_and_opens_its_customer() -> None:
    ledger = Ledger()
    deal_in_closing(ledger)
    ledger.publish(make("DealWon"))
    deal = ledger.deal()
    assert (deal.stage, deal.customer_id, deal.wins) == ("won", "cust-acme-robotics", 1)
    assert deal.won_amount is not None and str(deal.won_amount) == "112500.00 EUR"
    assert ledger.customer().won_deals == ("deal-001",)


def test_credit_splits_of_a_win_total_100_percent() -> None:
    ledger = Ledger()
    deal_in_closing(ledger)
    won = make("DealWon")
    assert isinstance(won, DealWon)
    # The contract rejects such a win at the gate; the rule guards states against hand-built events.
    seventy = won.model_copy(
        update={"data": won.data.model_copy(update={"credit_splits": won.data.credit_splits[:1]})}
    )
    violation = ledger.rejects(seventy)
    assert (violation.rule, violation.message) == (
        "credit_splits_total_100",
        "credit splits total 70%, not 100%",
    )


def test_a_closed_deal_takes_no_pipeline_events() -> None:
    ledger = Ledger()
    deal_in_closing(ledger)
    ledger.publish(make("DealWon"))
    assert ledger.rule(make("NeedsAssessed")) == "deal_closed"
    assert ledger.rule(make("DealWon")) == "deal_closed"
    assert ledger.rule(make("DealLost", deal_id="deal-001")) == "deal_closed"
    assert ledger.rule(moved("closing", "needs_assessed")) == "deal_closed"


# --- reopening -------------------------------------------------------------------------------------


def test_a_won_deal_is_not_reopened_by_default() -> None:
    ledger = Ledger()
    deal_in_closing(ledger)
    ledger.publish(make("DealWon"))
    violation = ledger.rejects(moved("won", "closing"))
    assert (violation.rule, violation.message) == (
        "reopen_not_allowed",
        "the process does not reopen won deals",
    )


def test_a_process_may_reopen_won_deals_and_a_second_win_counts_as_such() -> None:
    ledger = Ledger(process_from(DEFAULT_TOML.replace("reopen_won = false", "reopen_won = true")))
    deal_in_closing(ledger)
    ledger.publish(make("DealWon"), moved("won", "closing"))
    assert (ledger.deal().stage, ledger.deal().won_amount) == ("closing", None)
    ledger.publish(make("DealWon"))
    assert ledger.deal().wins == 2 and ledger.customer().won_deals == ("deal-001",)


def test_a_lost_deal_is_reopened_within_the_window_into_a_stage_it_may_enter() -> None:
    ledger = Ledger()
    open_deal(ledger)
    ledger.publish(lost())
    reopened_at = "2027-05-02T12:00:00+01:00"  # exactly 180 days after the loss
    assert ledger.rule(moved("lost", "closing", at=reopened_at)) == "solution_presented_required"
    ledger.publish(moved("lost", "qualified", at=reopened_at))
    deal = ledger.deal()
    assert (deal.stage, deal.loss_reason, deal.closed_at) == ("qualified", None, None)


def test_a_lost_deal_is_not_reopened_after_the_window() -> None:
    ledger = Ledger()
    open_deal(ledger)
    ledger.publish(lost())
    violation = ledger.rejects(moved("lost", "qualified", at="2027-05-02T12:01:00+01:00"))
    assert violation.rule == "reopen_window_passed"
    assert violation.message == "deal-001 closed on 2026-11-03; it may be reopened within 180 days"


def test_a_stage_change_on_a_closed_deal_must_reopen_it_from_its_outcome() -> None:
    ledger = Ledger()
    open_deal(ledger)
    ledger.publish(lost())
    assert ledger.rule(moved("qualified", "needs_assessed")) == "deal_closed"
    assert ledger.rule(moved("won", "needs_assessed")) == "deal_closed"
    assert ledger.rule(moved(None, "needs_assessed")) == "deal_closed"


def test_a_process_may_forbid_reopening_lost_deals() -> None:
    ledger = Ledger(process_from(DEFAULT_TOML.replace("reopen_lost = true", "reopen_lost = false")))
    open_deal(ledger)
    ledger.publish(lost())
    assert ledger.rule(moved("lost", "qualified")) == "reopen_not_allowed"
