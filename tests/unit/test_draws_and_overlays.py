"""Draw balances carried from period to period, and overlay credit through the effective-dated
organisation (docs/incentives.md, "Draws" and "Overlay credit")."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from events import Envelope
from projections import org
from projections.incentives import ledger
from projections.incentives.approvals import final_payouts, final_statement
from projections.incentives.books import RepStatement
from projections.incentives.context import Context
from tests.samples import sample_event
from tests.unit.test_approvals import approved, recorded
from tests.unit.test_incentive_statements import TZ, assigned, marginal, plan, won

FIVE = marginal("base", ("0", "5"))


def draw(recoverable: bool, amount: str = "3000.00") -> dict[str, Any]:
    return {"kind": "draw", "rule_id": "draw", "amount": amount, "recoverable": recoverable}


def monthly(events: list[Envelope], period: str, rep: str = "rep-ada", **inputs: Any) -> RepStatement:
    return final_statement(ledger.fold(events), TZ, rep, period, **inputs)


def paid(result: RepStatement) -> Decimal:
    return result.totals().get("EUR", Decimal(0))


RECOVERABLE = [
    plan(1, "2026-01-01", None, FIVE, draw(True)),
    assigned("rep-ada", "2026-07-01"),
    won("deal-jul", "20000.00", "2026-07-10T10:00:00Z"),  # earns 1,000: advance 2,000
    # August: nothing won, the draw still pays 3,000, all of it advanced
    won("deal-sep", "200000.00", "2026-09-10T10:00:00Z"),  # earns 10,000: 7,000 above the draw
]


def test_a_recoverable_draw_balance_carries_from_month_to_month_and_is_recovered_above_the_draw() -> None:
    july, august, september = (monthly(RECOVERABLE, m) for m in ("2026-07", "2026-08", "2026-09"))
    assert (paid(july), july.carried_in, july.draw_balance) == (Decimal("3000.00"), 0, Decimal("2000.00"))
    assert (paid(august), august.carried_in, august.draw_balance) == (
        Decimal("3000.00"),
        Decimal("2000.00"),
        Decimal("5000.00"),
    )
    assert (paid(september), september.carried_in, september.draw_balance) == (
        Decimal("5000.00"),  # 10,000 earned, 5,000 recovered: never below the draw of 3,000
        Decimal("5000.00"),
        Decimal("0.00"),
    )
    (line,) = [line for one in september.statements for line in one.lines if line.kind == "draw_recovery"]
    assert line.earning == Decimal("-5000.00") and "recovered" in line.explanation
    # over the quarter, the rep is paid exactly what they earned: 1,000 + 0 + 10,000
    assert paid(july) + paid(august) + paid(september) == Decimal("11000.00")


def test_a_month_with_no_credit_still_pays_a_non_recoverable_draw_and_owes_nothing() -> None:
    history = [plan(1, "2026-01-01", None, FIVE, draw(False)), assigned("rep-ada", "2026-07-01")]
    august = monthly(history, "2026-08")
    (one,) = august.statements
    assert [(line.kind, line.earning) for line in one.lines] == [("draw", Decimal("3000.00"))]
    assert august.draw_balance == 0


def test_before_the_first_assignment_nothing_is_carried_in() -> None:
    assert monthly(RECOVERABLE, "2026-06").carried_in == 0
    assert monthly(RECOVERABLE, "2026-06").statements == ()


def test_a_late_fact_in_an_approved_month_changes_the_balance_it_hands_on_not_what_it_paid() -> None:
    july_approved = approved("2026-07", "2026-07-01", "2026-07-31", "3000.00", "2026-08-01T09:00:00+00:00")
    late = recorded(won("deal-late", "10000.00", "2026-07-20T10:00:00Z"), "2026-08-03T09:00:00+00:00")
    history = [*(recorded(e, "2026-07-10T10:00:01+00:00") for e in RECOVERABLE[:3]), july_approved, late]
    july = monthly(history, "2026-07")
    assert paid(july) == Decimal("3000.00") and july.draw_balance == Decimal("2000.00")  # as approved
    august = monthly(history, "2026-08")
    # July now earned 1,500: still short of the draw, so its pay does not change (no correction),
    # but the rep owes 1,500, not 2,000, coming into August
    assert august.carried_in == Decimal("1500.00") and paid(august) == Decimal("3000.00")
    assert august.draw_balance == Decimal("4500.00")


ORG = [
    sample_event("RepOnboarded", "2026-01-05T09:00:00Z", "on-ada", rep_id="rep-ada", team_id="team-emea"),
    sample_event("RepOnboarded", "2026-01-05T09:00:00Z", "on-sam", rep_id="rep-sam", team_id="team-emea"),
    sample_event("RepOnboarded", "2026-01-05T09:00:00Z", "on-lin", rep_id="rep-linus", team_id="team-us"),
    sample_event("RepOnboarded", "2026-01-05T09:00:00Z", "on-grace", rep_id="mgr-grace", team_id=None),
    sample_event(
        "RepMovedTeam",
        "2026-08-01T09:00:00Z",
        "move-linus",
        rep_id="rep-linus",
        from_team_id="team-us",
        to_team_id="team-emea",
        effective_from="2026-08-01",
    ),
    sample_event(
        "TerritoryAssigned",
        "2026-01-05T09:00:00Z",
        "terr-dach",
        territory_id="terr-dach",
        rep_id="rep-sam",
        effective_from="2026-01-01",
    ),
]


def overlay_assigned(rep: str, **overlay: Any) -> Envelope:
    return sample_event(
        "CompPlanAssigned",
        "2026-06-01T09:00:00Z",
        f"assign-{rep}",
        rep_id=rep,
        plan_id="plan-mgr",
        effective_from="2026-01-01",
        overlay=overlay,
    )


def manager_plan() -> Envelope:
    event = plan(1, "2026-01-01", None, marginal("overlay", ("0", "1")))
    return event.model_copy(
        update={"id": "plan-mgr-v1", "data": event.data.model_copy(update={"plan_id": "plan-mgr"})}
    )


def team_history() -> list[Envelope]:
    return [
        *ORG,
        plan(1, "2026-01-01", None, FIVE),
        manager_plan(),
        assigned("rep-ada"),
        assigned("rep-sam"),
        assigned("rep-linus"),
        overlay_assigned("mgr-grace", team_ids=["team-emea"]),
        won("deal-ada", "10000.00", "2026-07-10T10:00:00Z"),
        won("deal-split", "9000.00", "2026-07-12T10:00:00Z", ("rep-ada", "50"), ("rep-linus", "50")),
        won("deal-lin-jul", "40000.00", "2026-07-20T10:00:00Z", ("rep-linus", "100")),  # team-us then
        won("deal-lin-aug", "30000.00", "2026-08-20T10:00:00Z", ("rep-linus", "100")),  # team-emea now
    ]


def with_org(events: list[Envelope]) -> Context:
    return Context(org.fold(events))


def test_a_manager_is_credited_the_deals_of_their_team_on_the_day_each_was_credited() -> None:
    history = team_history()
    grace = monthly(history, "2026-Q3", "mgr-grace", context=with_org(history))
    (one,) = grace.statements
    lines = {line.deal_id: line for line in one.lines}
    # ada's own deal, ada's half of the split (linus was in team-us in July), linus's August deal
    assert sorted(lines) == ["deal-ada", "deal-lin-aug", "deal-split"]
    assert [lines[d].base for d in sorted(lines)] == [
        Decimal("10000.00"),
        Decimal("30000.00"),
        Decimal("4500.00"),
    ]
    assert one.total == Decimal("445.00")  # 1 % of 44,500
    assert "overlay on rep-ada" in lines["deal-split"].explanation
    assert lines["deal-lin-aug"].event_ids == ("won-deal-lin-aug-2026-08-20T10:00:00Z",)


def test_overlay_credit_is_beside_the_reps_own_never_instead_of_it() -> None:
    history = team_history()
    context = with_org(history)
    ada = monthly(history, "2026-Q3", "rep-ada", context=context)
    assert paid(ada) == Decimal("725.00")  # 5 % of 10,000 + 4,500: untouched by grace's overlay
    everyone = {
        one.rep_id: paid(one) for one in final_payouts(ledger.fold(history), TZ, "2026-Q3", context=context)
    }
    assert everyone["mgr-grace"] == Decimal("445.00") and everyone["rep-ada"] == Decimal("725.00")


def test_a_territory_overlay_credits_a_share_of_the_territory_owners_deals() -> None:
    history = [
        *ORG,
        manager_plan(),
        overlay_assigned("mgr-grace", territory_ids=["terr-dach"], share_percent="50"),
        won("deal-sam", "8000.00", "2026-07-10T10:00:00Z", ("rep-sam", "100")),
        won("deal-ada", "8000.00", "2026-07-11T10:00:00Z"),
    ]
    (one,) = monthly(history, "2026-Q3", "mgr-grace", context=with_org(history)).statements
    assert [(line.deal_id, line.base, line.earning) for line in one.lines] == [
        ("deal-sam", Decimal("4000.00"), Decimal("40.00"))  # half of sam's credit at 1 %
    ]


def test_without_the_organisation_an_overlay_credits_nothing() -> None:
    history = team_history()
    assert monthly(history, "2026-Q3", "mgr-grace").statements == ()
