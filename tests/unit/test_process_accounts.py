"""Customer, rep, plan and quota rules: life after the sale, and the organisation behind it."""

from __future__ import annotations

from events.envelope import Envelope
from sales.plan import PlanState
from sales.quota import QuotaState
from sales.rep import RepState
from tests.unit.test_process_story import Ledger, deal_in_closing, make

ACME = "cust-acme-robotics"


def won_customer() -> Ledger:
    ledger = Ledger()
    deal_in_closing(ledger)
    ledger.publish(make("DealWon"))
    return ledger


def win_again(ledger: Ledger) -> None:
    """deal-002 for the same customer, from lead-002."""
    ledger.publish(
        make("LeadCaptured", lead_id="lead-002"),
        make("LeadQualified", lead_id="lead-002", deal_id="deal-002"),
    )
    for event in ("NeedsAssessed", "SolutionPresented", "ProposalSent"):
        ledger.publish(make(event, deal_id="deal-002"))
    ledger.publish(make("DealStageChanged", deal_id="deal-002"), make("DealWon", deal_id="deal-002"))


# --- customers -------------------------------------------------------------------------------------


def test_a_customer_renews_expands_or_churns_only_after_a_win() -> None:
    ledger = Ledger()
    assert ledger.rule(make("CustomerRenewed")) == "customer_unknown"
    assert ledger.rule(make("CustomerExpanded")) == "customer_unknown"
    assert ledger.rule(make("CustomerChurned", customer_id=ACME, deal_ids=[])) == "customer_unknown"
    ledger = won_customer()
    ledger.publish(make("CustomerExpanded"), make("CustomerRenewed"))
    assert (ledger.customer().expansions, ledger.customer().renewals) == (1, 1)


def test_a_churned_customer_renews_or_expands_only_once_won_again() -> None:
    ledger = won_customer()
    ledger.publish(make("CustomerChurned", customer_id=ACME, deal_ids=["deal-001"]))
    assert ledger.rule(make("CustomerRenewed")) == "customer_churned"
    assert ledger.rule(make("CustomerExpanded")) == "customer_churned"
    assert ledger.rule(make("CustomerChurned", customer_id=ACME, deal_ids=[])) == "customer_churned"
    win_again(ledger)
    assert ledger.customer().won_deals == ("deal-001", "deal-002") and not ledger.customer().churned
    ledger.publish(make("CustomerRenewed"))


def test_follow_ups_and_churn_name_deals_won_for_that_customer() -> None:
    ledger = won_customer()
    assert ledger.rule(make("FollowUpDone", deal_id="deal-999")) == "deal_not_won_for_customer"
    violation = ledger.rejects(make("CustomerChurned", customer_id=ACME, deal_ids=["deal-001", "deal-014"]))
    assert (violation.rule, violation.message) == (
        "deal_not_won_for_customer",
        f"deal-014 not won for {ACME}",
    )
    ledger.publish(make("FollowUpDone"))
    assert Ledger().rule(make("FollowUpDone")) == "deal_not_won_for_customer"  # no customer yet


def test_nurture_touches_are_facts_accepted_for_any_customer() -> None:
    ledger = Ledger()
    ledger.publish(make("NurtureTouch"))  # a prospect account on a newsletter: not a customer yet
    assert ledger.customer().nurture_touches == 1 and not ledger.customer().active
    ledger = won_customer()
    ledger.publish(make("CustomerChurned", customer_id=ACME, deal_ids=[]), make("NurtureTouch"))  # win-back
    ledger.publish(make("FollowUpDone"))  # an exit interview on the deal they had
    assert ledger.customer().nurture_touches == 1 and ledger.customer().follow_ups == 1


# --- reps ------------------------------------------------------------------------------------------


def rep(ledger: Ledger, rep_id: str = "rep-ada") -> RepState:
    return RepState.from_dict(ledger.states[("rep", rep_id)])


def test_a_rep_is_onboarded_once_until_they_leave_and_may_be_rehired() -> None:
    ledger = Ledger()
    ledger.publish(make("RepOnboarded"))
    assert ledger.rule(make("RepOnboarded")) == "rep_already_active"
    ledger.publish(make("RepLeft", rep_id="rep-ada"), make("RepOnboarded", team_id="team-emea-ent"))
    assert rep(ledger).active and rep(ledger).team_id == "team-emea-ent"


def test_only_an_active_rep_moves_team_leaves_or_gets_a_plan() -> None:
    ledger = Ledger()
    assert ledger.rule(make("RepLeft", rep_id="rep-ada")) == "rep_not_active"
    ledger.publish(make("RepOnboarded"), make("RepLeft", rep_id="rep-ada"))
    violation = ledger.rejects(make("CompPlanAssigned"))
    assert (violation.rule, violation.message) == ("rep_not_active", "rep-ada left")
    assert ledger.rule(make("RepMovedTeam")) == "rep_not_active"
    assert ledger.rule(make("RepLeft", rep_id="rep-ada")) == "rep_not_active"


def test_a_team_move_starts_from_the_reps_current_team() -> None:
    ledger = Ledger()
    ledger.publish(make("RepOnboarded"))  # into team-emea-mm
    assert ledger.rule(make("RepMovedTeam", from_team_id=None)) == "team_mismatch"
    ledger.publish(make("RepMovedTeam"), make("CompPlanAssigned"))
    assert (
        ledger.rule(make("RepMovedTeam", to_team_id="team-emea-mm", from_team_id="team-dach"))
        == "team_mismatch"
    )
    assert (rep(ledger).team_id, rep(ledger).plan_id) == ("team-emea-ent", "plan-ae-2026")


def test_a_payout_is_approved_once_for_a_rep_who_was_onboarded_even_after_they_left() -> None:
    ledger = Ledger()
    assert ledger.rule(make("PayoutApproved")) == "rep_unknown"
    ledger.publish(make("RepOnboarded"), make("RepLeft", rep_id="rep-ada"), make("PayoutApproved"))
    assert ledger.rule(make("PayoutApproved")) == "payout_already_approved"
    ledger.publish(make("PayoutApproved", payout_id="payout-ada-2026-11-correction"))


def test_a_commission_is_adjusted_only_for_a_rep_who_was_onboarded_even_after_they_left() -> None:
    ledger = Ledger()
    violation = ledger.rejects(make("CommissionAdjusted"))
    assert (violation.rule, violation.message) == ("adjustment_rep_unknown", "rep-ada was never onboarded")
    ledger.publish(make("RepOnboarded"), make("CommissionAdjusted"))
    again = make("CommissionAdjusted", direction="deduct")
    assert ledger.rule(again) == "adjustment_already_made"  # the same adjustment id, a new event id
    ledger.publish(make("RepLeft", rep_id="rep-ada"), make("CommissionAdjusted", adjustment_id="adj-2"))
    assert rep(ledger).events == 4 and not rep(ledger).active
    assert rep(ledger).adjustments == ("adj-ada-2026-12-1", "adj-2")


def test_a_rep_snapshot_of_version_1_loads_with_no_adjustments_known() -> None:
    ledger = Ledger()
    ledger.publish(make("RepOnboarded"))
    old = {key: value for key, value in rep(ledger).to_dict().items() if key != "adjustments"}
    assert RepState.from_dict({**old, "state_version": 1}) == rep(ledger)


def test_training_and_coaching_are_facts_accepted_for_anyone() -> None:
    ledger = Ledger()
    ledger.publish(make("TrainingCompleted"), make("CoachingSessionHeld", rep_id="rep-ada"))
    assert rep(ledger).events == 2 and not rep(ledger).onboarded


# --- plans and quotas ------------------------------------------------------------------------------


def published(version: int) -> Envelope:
    return make("CompPlanPublished", plan_id="plan-ae-2026", plan_version=version)


def test_each_published_plan_version_is_newer_than_the_last() -> None:
    ledger = Ledger()
    ledger.publish(published(2))  # gaps are allowed
    assert ledger.rule(published(2)) == "plan_version_not_newer"
    violation = ledger.rejects(published(1))
    assert violation.message == "plan-ae-2026 version 1 is not newer than version 2"
    ledger.publish(published(3))
    assert PlanState.from_dict(ledger.states[("plan", "plan-ae-2026")]).versions == (2, 3)


def test_a_quota_revision_changes_the_amount_but_not_who_or_when() -> None:
    ledger = Ledger()
    ledger.publish(
        make("QuotaAssigned"), make("QuotaAssigned", amount={"amount": "450000", "currency": "EUR"})
    )
    quota = QuotaState.from_dict(ledger.states[("quota", "quota-ada-2026q4")])
    assert (quota.revisions, quota.period) == (1, "quarter 2026-10-01..2026-12-31")
    assert ledger.rule(make("QuotaAssigned", assignee_id="rep-sam")) == "quota_identity_changed"
    next_quarter = {"kind": "quarter", "start": "2027-01-01", "end": "2027-03-31"}
    assert ledger.rule(make("QuotaAssigned", period=next_quarter)) == "quota_identity_changed"
