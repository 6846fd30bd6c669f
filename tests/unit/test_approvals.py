"""Approved periods are frozen; later facts land on the next open period as explained corrections."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from events import Envelope
from projections import kpi_fold, org
from projections.incentives import ledger
from projections.incentives.approvals import final_statement
from projections.incentives.context import context_of
from projections.incentives.restated import restated
from sales.process import load_process
from tests.samples import sample_event
from tests.unit.test_incentive_statements import TZ, assigned, churned, marginal, plan, won


def recorded(event: Envelope, when: str) -> Envelope:
    return event.recorded(datetime.fromisoformat(when))


def approved(month: str, first: str, last: str, amount: str, when: str) -> Envelope:
    event = sample_event(
        "PayoutApproved",
        when,
        f"approve-{month}",
        payout_id=f"payout-{month}",
        rep_id="rep-ada",
        period={"kind": "month", "start": first, "end": last},
        amount={"amount": amount, "currency": "EUR"},
    )
    return recorded(event, when)


BASE = [
    recorded(plan(1, "2026-01-01", None, marginal("base", ("0", "10"))), "2026-01-02T09:00:00+00:00"),
    recorded(assigned("rep-ada"), "2026-01-02T09:00:00+00:00"),
    recorded(won("deal-1", "1000.00", "2026-06-10T10:00:00Z"), "2026-06-10T10:00:01+00:00"),
    approved("2026-06", "2026-06-01", "2026-06-30", "100.00", "2026-07-01T09:00:00+00:00"),
]
LATE = recorded(won("deal-late", "2000.00", "2026-06-20T10:00:00Z"), "2026-07-03T09:00:00+00:00")


def totals(events: list[Envelope], period: str) -> dict[str, Decimal]:
    return final_statement(ledger.fold(events), TZ, "rep-ada", period).totals()


def test_a_fact_recorded_after_the_approval_does_not_change_the_approved_period() -> None:
    assert totals(BASE, "2026-06") == {"EUR": Decimal("100.00")}
    assert totals([*BASE, LATE], "2026-06") == {"EUR": Decimal("100.00")}


def test_it_lands_on_the_next_open_period_as_a_correction_naming_what_it_corrects() -> None:
    july = final_statement(ledger.fold([*BASE, LATE]), TZ, "rep-ada", "2026-07")
    assert july.totals() == {"EUR": Decimal("200.00")}
    (line,) = [line for one in july.statements for line in one.lines] or [None]
    assert line is not None and line.kind == "adjustment" and line.earning == Decimal("200.00")
    assert "corrects 2026-06" in line.explanation and line.event_ids == ("approve-2026-06",)


def test_once_that_period_is_approved_a_further_change_lands_on_the_one_after_and_is_paid_once() -> None:
    july_approved = approved("2026-07", "2026-07-01", "2026-07-31", "200.00", "2026-08-01T09:00:00+00:00")
    later = recorded(won("deal-later", "500.00", "2026-06-25T10:00:00Z"), "2026-08-05T09:00:00+00:00")
    history = [*BASE, LATE, july_approved, later]
    assert totals(history, "2026-06") == {"EUR": Decimal("100.00")}  # frozen
    assert totals(history, "2026-07") == {"EUR": Decimal("200.00")}  # frozen, with the first correction
    assert totals(history, "2026-08") == {"EUR": Decimal("50.00")}  # only what was recorded since
    assert totals(history, "2026-09") == {}


def test_without_approvals_a_statement_is_the_recorded_one() -> None:
    history = [event for event in [*BASE, LATE] if event.type != "PayoutApproved"]  # type: ignore[attr-defined]
    assert totals(history, "2026-06") == {"EUR": Decimal("300.00")}
    assert totals(history, "2026-07") == {}


def test_a_churn_after_the_approval_claws_back_on_its_own_period_and_leaves_the_approved_one() -> None:
    clawback = {"kind": "clawback", "rule_id": "churn-clawback", "window_days": 180}
    history = [
        recorded(
            plan(1, "2026-01-01", None, marginal("base", ("0", "10")), clawback), "2026-01-02T09:00:00+00:00"
        ),
        *BASE[1:],
        recorded(churned("deal-1", "2026-08-10T10:00:00Z"), "2026-08-10T10:00:01+00:00"),
    ]
    assert totals(history, "2026-06") == {"EUR": Decimal("100.00")}  # approved and frozen
    august = final_statement(ledger.fold(history), TZ, "rep-ada", "2026-08")
    (line,) = [line for one in august.statements for line in one.lines]
    assert (line.kind, line.deal_id, line.earning) == ("clawback", "deal-1", Decimal("-100.00"))
    assert "churn-deal-1" in line.event_ids and "won-deal-1-2026-06-10T10:00:00Z" in line.event_ids
    assert totals(history, "2026-07") == {}  # nothing to correct: June's own facts did not change


def test_an_approved_period_is_shown_as_approved_beside_as_known_now_with_the_lines_that_differ() -> None:
    result = restated(ledger.fold([*BASE, LATE]), TZ, "rep-ada", "2026-06")
    assert result.approval is not None and result.approval.event_id == "approve-2026-06"
    assert result.approved is not None and result.approved.totals() == {"EUR": Decimal("100.00")}
    assert result.now.totals() == {"EUR": Decimal("300.00")}
    assert result.totals_difference() == {"EUR": Decimal("200.00")}  # what July's correction carries
    (difference,) = result.differences
    assert (difference.kind, difference.deal_id, difference.approved, difference.now) == (
        "commission",
        "deal-late",
        Decimal("0"),
        Decimal("200.00"),
    )
    assert result.late_event_ids == ("won-deal-late-2026-06-20T10:00:00Z",)
    july = final_statement(ledger.fold([*BASE, LATE]), TZ, "rep-ada", "2026-07")
    assert july.totals() == result.totals_difference()


def test_a_period_never_approved_has_no_approved_side_and_no_differences() -> None:
    result = restated(ledger.fold([*BASE, LATE]), TZ, "rep-ada", "2026-07")
    assert result.approval is None and result.approved is None and result.differences == ()


def test_an_approved_periods_kpi_bonus_reads_the_kpis_as_known_when_it_was_approved() -> None:
    """A KPI bonus earned only through a win recorded after the approval is not in the approved
    statement (it was not earned as the system knew it then); the period as known now has it."""
    two_wins = {
        "kind": "kpi_bonus",
        "rule_id": "two-wins",
        "kpi": "deals_won",
        "threshold": "2",
        "bonus": "1000.00",
    }
    onboarded = sample_event(
        "RepOnboarded", "2026-01-05T09:00:00Z", "on-ada", rep_id="rep-ada", team_id="team-emea"
    )
    approval = sample_event(
        "PayoutApproved",
        "2026-10-01T09:00:00Z",
        "approve-2026-Q3",
        payout_id="payout-2026-Q3",
        rep_id="rep-ada",
        period={"kind": "quarter", "start": "2026-07-01", "end": "2026-09-30"},
        amount={"amount": "100.00", "currency": "EUR"},
    )
    events = [
        recorded(onboarded, "2026-01-05T09:00:00+00:00"),
        recorded(
            plan(1, "2026-01-01", None, marginal("base", ("0", "10")), two_wins), "2026-01-02T09:00:00+00:00"
        ),
        recorded(assigned("rep-ada"), "2026-01-02T09:00:00+00:00"),
        recorded(won("deal-1", "1000.00", "2026-08-03T10:00:00Z"), "2026-08-03T10:00:01+00:00"),
        recorded(approval, "2026-10-01T09:00:00+00:00"),
        recorded(won("deal-2", "1000.00", "2026-08-04T10:00:00Z"), "2026-10-05T09:00:00+00:00"),
    ]
    context = context_of(org.fold(events), kpi_fold.fold(events, TZ), load_process(None))
    result = restated(ledger.fold(events), TZ, "rep-ada", "2026-Q3", context)
    assert result.approved is not None and result.approved.totals() == {"EUR": Decimal("100.00")}
    assert result.now.totals() == {"EUR": Decimal("1200.00")}  # two wins' commission and the bonus
    assert {(d.kind, d.rule_id) for d in result.differences} >= {("kpi_bonus", "two-wins")}
    frozen = final_statement(ledger.fold(events), TZ, "rep-ada", "2026-Q3", context=context)
    assert frozen.totals() == {"EUR": Decimal("100.00")}
