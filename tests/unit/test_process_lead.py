"""Lead rules: captured once, qualified on BANT or disqualified once; activities always count."""

from __future__ import annotations

from tests.unit.test_process_story import MINIMAL_LENIENT, Ledger, make, process_from, qualified

CALL = "CallLogged"


def test_a_lead_is_captured_once() -> None:
    ledger = Ledger()
    ledger.publish(make("LeadCaptured"))
    assert ledger.lead().captured and ledger.lead().source == "referral"
    assert ledger.rule(make("LeadCaptured", source="inbound")) == "lead_already_captured"


def test_a_lead_is_qualified_or_disqualified_only_after_it_was_captured() -> None:
    ledger = Ledger()
    assert ledger.rule(qualified()) == "lead_not_captured"
    assert ledger.rule(make("LeadDisqualified", lead_id="lead-001")) == "lead_not_captured"
    ledger.publish(make("LeadCaptured"), qualified())
    assert ledger.lead().outcome == "qualified" and ledger.lead().deal_id == "deal-001"


def test_qualifying_needs_every_bant_criterion_the_process_requires() -> None:
    ledger = Ledger()
    ledger.publish(make("LeadCaptured"))
    violation = ledger.rejects(qualified(need_met=False, timeline_met=False))
    assert violation.rule == "bant_required"
    assert "need, timeline" in violation.message
    assert ("deal", "deal-001") not in ledger.states  # the deal is not opened either


def test_a_process_may_require_fewer_bant_criteria() -> None:
    ledger = Ledger(process_from(MINIMAL_LENIENT))  # requires budget and need only
    ledger.publish(make("LeadCaptured"), qualified(authority_met=False, timeline_met=False))
    assert ledger.deal().bant_met == ("budget", "need")


def test_a_qualified_lead_is_a_deal_and_is_not_qualified_or_disqualified_again() -> None:
    ledger = Ledger()
    ledger.publish(make("LeadCaptured"), qualified())
    assert ledger.rule(make("LeadQualified", deal_id="deal-002")) == "lead_already_qualified"
    assert ledger.rule(make("LeadDisqualified", lead_id="lead-001")) == "lead_already_qualified"


def test_a_disqualified_lead_stays_disqualified_by_default() -> None:
    ledger = Ledger()
    ledger.publish(make("LeadCaptured"), make("LeadDisqualified", lead_id="lead-001"))
    assert ledger.lead().disqualified_reason == "no_budget"
    assert ledger.rule(qualified()) == "lead_disqualified"
    assert ledger.rule(make("LeadDisqualified", lead_id="lead-001", reason="no_need")) == "lead_disqualified"


def test_a_process_may_let_a_disqualified_lead_be_qualified_later() -> None:
    ledger = Ledger(process_from(MINIMAL_LENIENT))  # requalify_disqualified = true
    ledger.publish(make("LeadCaptured"), make("LeadDisqualified", lead_id="lead-001"), qualified())
    assert ledger.lead().outcome == "qualified" and ledger.lead().disqualified_reason is None
    assert ledger.deal().stage == "open"


def test_activities_are_facts_accepted_before_capture_and_after_the_decision() -> None:
    ledger = Ledger()
    ledger.publish(make(CALL), make("ProspectResearchLogged"))  # before capture: the dialer was first
    ledger.publish(make("LeadCaptured"), make("LeadDisqualified", lead_id="lead-001"))
    ledger.publish(make("EmailSent"), make("EmailReplied"), make("MeetingHeld"), make("SocialTouch"))
    lead = ledger.lead()
    assert (lead.activities, lead.events, lead.outcome) == (6, 8, "disqualified")
