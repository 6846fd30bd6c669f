"""Statements from events: the incentive ledger folded from a history, read back into statements.

The commission maths itself is tested in test_incentives.py; here the facts come from events, as
the live projector and a replay see them: which plan version (and which contract version), which
credit, which quota, which churn, which manual adjustments, and that any order or partitioning of
the history gives the same statement.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from events import Envelope
from events.incentives import CompPlanPublished
from events.plan_rules import MarginalTiers, TierScope
from projections.incentives import LineKind, ledger, terms_of
from projections.incentives.books import payouts, rep_statement
from projections.incentives.facts import book_of
from sales.process import load_process
from services.outbox.relay import partition_for
from services.projector.readmodels import read_models
from tests.delivery import delivered_twice
from tests.samples import money, older_sample_event, sample_event

TZ = "Europe/Berlin"


def marginal(rule_id: str, *tiers: tuple[str, str]) -> dict[str, Any]:
    return {
        "kind": "marginal_tiers",
        "rule_id": rule_id,
        "tiers": [{"threshold": t, "rate_percent": r} for t, r in tiers],
    }


def plan(
    version: int, start: str, end: str | None, *rules: dict[str, Any], at: str = "2026-06-01T09:00:00Z"
) -> Envelope:
    return sample_event(
        "CompPlanPublished",
        at,
        f"plan-v{version}",
        plan_id="plan-ae",
        plan_version=version,
        effective_from=start,
        effective_to=end,
        rules=list(rules),
    )


def assigned(rep: str, start: str = "2026-01-01", plan_id: str = "plan-ae") -> Envelope:
    return sample_event(
        "CompPlanAssigned",
        "2026-06-01T09:00:00Z",
        f"assign-{rep}",
        rep_id=rep,
        plan_id=plan_id,
        effective_from=start,
    )


def won(deal: str, amount: str, at: str, *splits: tuple[str, str]) -> Envelope:
    shares = splits or (("rep-ada", "100"),)
    return sample_event(
        "DealWon",
        at,
        f"won-{deal}-{at}",
        deal_id=deal,
        customer_id=f"cust-{deal}",
        rep_id=shares[0][0],
        amount=money(amount),
        credit_splits=[{"rep_id": rep, "share_percent": share} for rep, share in shares],
    )


def churned(deal: str, at: str) -> Envelope:
    return sample_event("CustomerChurned", at, f"churn-{deal}", customer_id=f"cust-{deal}", deal_ids=[deal])


def quota(rep: str, amount: str, start: str = "2026-07-01", end: str = "2026-09-30") -> Envelope:
    return sample_event(
        "QuotaAssigned",
        "2026-06-15T09:00:00Z",
        f"quota-{rep}",
        quota_id=f"quota-{rep}",
        assignee="rep",
        assignee_id=rep,
        period={"kind": "quarter", "start": start, "end": end},
        metric="bookings",
        amount=money(amount),
    )


MARGINAL = marginal("base", ("0", "5"), ("10000", "7"), ("25000", "10"))


def statement_of(events: list[Envelope], rep: str = "rep-ada", period: str = "2026-Q3") -> Any:
    return rep_statement(book_of(ledger.fold(events), TZ), rep, period)


def test_a_won_deal_under_the_assigned_plan_earns_its_tiers_with_the_events_named() -> None:
    history = [
        plan(1, "2026-01-01", None, MARGINAL),
        assigned("rep-ada"),
        won("deal-1", "30000.00", "2026-08-03T10:00:00Z"),
    ]
    result = statement_of(history)
    assert result.totals() == {"EUR": Decimal("2050.00")}
    (one,) = result.statements
    assert (one.plan_id, one.plan_version) == ("plan-ae", 1)
    commission = [line for line in one.lines if line.deal_id == "deal-1"]
    assert commission and all(line.event_ids == ("won-deal-1-2026-08-03T10:00:00Z",) for line in commission)
    assert sum(line.earning for line in one.lines) == one.total


def test_each_deal_is_rated_under_the_plan_version_in_force_on_the_day_it_is_credited() -> None:
    history = [
        plan(1, "2026-01-01", "2026-07-31", marginal("base", ("0", "5"))),
        plan(2, "2026-08-01", None, marginal("base", ("0", "10")), at="2026-07-20T09:00:00Z"),
        assigned("rep-ada"),
        won("deal-july", "1000.00", "2026-07-15T10:00:00Z"),
        won("deal-august", "1000.00", "2026-08-15T10:00:00Z"),
    ]
    result = statement_of(history)
    assert [(s.plan_version, s.total) for s in result.statements] == [
        (1, Decimal("50.00")),
        (2, Decimal("100.00")),
    ]
    assert result.totals() == {"EUR": Decimal("150.00")}


def test_a_split_deal_credits_each_rep_their_share_and_nothing_is_created_or_lost() -> None:
    history = [
        plan(1, "2026-01-01", None, marginal("base", ("0", "10"))),
        assigned("rep-ada"),
        assigned("rep-sam"),
        assigned("rep-kim"),
        won(
            "deal-3",
            "1000.00",
            "2026-08-03T10:00:00Z",
            ("rep-ada", "33.34"),
            ("rep-sam", "33.33"),
            ("rep-kim", "33.33"),
        ),
    ]
    book = book_of(ledger.fold(history), TZ)
    everyone = payouts(book, "2026-Q3")
    assert [(s.rep_id, s.totals()["EUR"]) for s in everyone] == [
        ("rep-ada", Decimal("33.34")),
        ("rep-kim", Decimal("33.33")),
        ("rep-sam", Decimal("33.33")),
    ]
    credited = sum(s.statements[0].credited for s in everyone)
    assert credited == Decimal("1000.00")


def test_a_deal_won_again_after_reopening_is_credited_once() -> None:
    history = [
        plan(1, "2026-01-01", None, marginal("base", ("0", "10"))),
        assigned("rep-ada"),
        won("deal-1", "1000.00", "2026-08-03T10:00:00Z"),
        won("deal-1", "5000.00", "2026-08-20T10:00:00Z"),
    ]
    assert statement_of(history).totals() == {"EUR": Decimal("100.00")}


def test_credit_without_a_plan_in_force_earns_nothing_and_is_listed_as_unrated() -> None:
    history = [plan(1, "2026-01-01", None, MARGINAL), won("deal-1", "1000.00", "2026-08-03T10:00:00Z")]
    result = statement_of(history)
    assert result.statements == () and [line.deal_id for line in result.unrated] == ["deal-1"]


def test_the_reps_quota_for_the_period_drives_quota_based_tiers() -> None:
    accelerator = {
        "kind": "marginal_tiers",
        "rule_id": "accelerator",
        "basis": "quota_attainment",
        "tiers": [{"threshold": "0", "rate_percent": "5"}, {"threshold": "100", "rate_percent": "10"}],
    }
    history = [
        plan(1, "2026-01-01", None, accelerator),
        assigned("rep-ada"),
        quota("rep-ada", "100000.00"),
        won("deal-1", "150000.00", "2026-08-03T10:00:00Z"),
    ]
    assert statement_of(history).totals() == {"EUR": Decimal("10000.00")}  # 5% of 100k + 10% of 50k


def test_a_churn_within_the_clawback_window_takes_back_what_was_earned_on_the_deal() -> None:
    clawback = {"kind": "clawback", "rule_id": "clawback", "window_days": 180}
    history = [
        plan(1, "2026-01-01", None, marginal("base", ("0", "5")), clawback),
        assigned("rep-ada"),
        won("deal-1", "10000.00", "2026-06-10T10:00:00Z"),
        churned("deal-1", "2026-08-20T10:00:00Z"),
    ]
    assert statement_of(history, period="2026-06").totals() == {"EUR": Decimal("500.00")}
    august = statement_of(history, period="2026-08")
    assert august.totals() == {"EUR": Decimal("-500.00")}
    (line,) = [line for s in august.statements for line in s.lines if line.earning]
    assert line.deal_id == "deal-1" and "churn-deal-1" in line.event_ids


def test_order_and_partitioning_of_the_history_do_not_change_a_statement() -> None:
    history = [
        plan(1, "2026-01-01", None, MARGINAL),
        assigned("rep-ada"),
        assigned("rep-sam"),
        *(
            won(
                f"deal-{i}",
                f"{4000 + 1000 * i}.00",
                f"2026-08-{i + 1:02d}T10:00:00Z",
                ("rep-ada", "60"),
                ("rep-sam", "40"),
            )
            for i in range(8)
        ),
        adjusted("adj-0", "250.00", "Handover of the Acme account", rep="rep-sam"),
    ]
    expected = [(s.rep_id, s.statements) for s in payouts(book_of(ledger.fold(history), TZ), "2026-Q3")]
    model = next(m for m in read_models(load_process(None), TZ) if m.name == "incentives")
    for seed in range(5):
        shuffled = history[:]
        random.Random(seed).shuffle(shuffled)
        routed = [(event, partition_for(event.partition_key, 1 + seed % 4)) for event in shuffled]
        book = book_of(ledger.merge_all(delivered_twice(routed, model)), TZ)
        assert [(s.rep_id, s.statements) for s in payouts(book, "2026-Q3")] == expected


# --- manual adjustments ----------------------------------------------------------------------------


def adjusted(
    adjustment: str,
    amount: str,
    reason: str,
    *,
    direction: str = "add",
    period: tuple[str, str, str] = ("quarter", "2026-07-01", "2026-09-30"),
    deal: str | None = None,
    rep: str = "rep-ada",
    currency: str = "EUR",
) -> Envelope:
    kind, start, end = period
    return sample_event(
        "CommissionAdjusted",
        "2026-09-25T09:00:00Z",
        f"evt-{adjustment}",
        adjustment_id=adjustment,
        rep_id=rep,
        period={"kind": kind, "start": start, "end": end},
        amount=money(amount, currency),
        direction=direction,
        reason=reason,
        requested_by="rep-grace",
        deal_id=deal,
    )


ON_PLAN = [
    plan(1, "2026-01-01", None, MARGINAL),
    assigned("rep-ada"),
    won("deal-1", "30000.00", "2026-08-03T10:00:00Z"),
]


def adjustment_lines(result: Any) -> list[Any]:
    return [line for one in result.statements for line in one.lines if line.kind is LineKind.ADJUSTMENT]


def test_an_adjustment_of_250_is_its_own_line_with_its_reason_on_the_statement() -> None:
    reason = "Workshop sold with deal-1 was credited to nobody"
    result = statement_of([*ON_PLAN, adjusted("adj-1", "250.00", reason, deal="deal-1")])
    assert result.totals() == {"EUR": Decimal("2300.00")}  # 2,050 of tiers + 250
    (line,) = adjustment_lines(result)
    assert (line.rule_id, line.deal_id, line.rate_percent) == (None, "deal-1", None)
    assert (line.base, line.earning, line.event_ids) == (Decimal("250.00"), Decimal("250.00"), ("evt-adj-1",))
    assert line.explanation == f"adjustment adj-1 on deal-1, requested by rep-grace: {reason}"
    assert result.statements[0].lines[-1] == line  # after every rule of the plan


def test_a_negative_adjustment_deducts_its_amount_from_the_statement() -> None:
    deduction = adjusted("adj-2", "100.00", "Duplicate SPIFF paid in July", direction="deduct")
    result = statement_of([*ON_PLAN, deduction])
    assert result.totals() == {"EUR": Decimal("1950.00")}
    (line,) = adjustment_lines(result)
    assert (line.base, line.earning, line.deal_id) == (Decimal("100.00"), Decimal("-100.00"), None)


def test_an_adjustment_for_another_period_is_not_on_this_statement() -> None:
    august = adjusted("adj-3", "250.00", "August correction", period=("month", "2026-08-01", "2026-08-31"))
    history = [*ON_PLAN, august]
    quarter = statement_of(history)
    assert quarter.totals() == {"EUR": Decimal("2050.00")} and adjustment_lines(quarter) == []
    assert quarter.adjustments == ()
    month = statement_of(history, period="2026-08")
    assert [line.earning for line in adjustment_lines(month)] == [Decimal("250.00")]


def test_an_adjustment_is_neither_capped_nor_absorbed_by_the_draw() -> None:
    cap = {"kind": "cap", "rule_id": "cap", "max_amount": "2000.00"}
    draw = {"kind": "draw", "rule_id": "draw", "amount": "3000.00", "recoverable": False}
    history = [
        plan(1, "2026-01-01", None, MARGINAL, cap, draw),
        assigned("rep-ada"),
        won("deal-1", "30000.00", "2026-08-03T10:00:00Z"),
        adjusted("adj-4", "250.00", "Onboarding bonus agreed at hire"),
    ]
    (one,) = statement_of(history).statements
    assert one.by_rule() == {
        "base": Decimal("2050.00"),
        "cap": Decimal("-50.00"),
        "draw": Decimal("1000.00"),  # tops 2,000 up to 3,000: the adjustment does not count toward it
        None: Decimal("250.00"),
    }
    assert one.total == Decimal("3250.00")


def test_an_adjustment_lands_on_the_plan_version_in_force_on_the_last_day_or_apart() -> None:
    history = [
        plan(1, "2026-01-01", "2026-07-31", marginal("base", ("0", "5"))),
        plan(2, "2026-08-01", None, marginal("base", ("0", "10")), at="2026-07-20T09:00:00Z"),
        assigned("rep-ada"),
        won("deal-july", "1000.00", "2026-07-15T10:00:00Z"),
        adjusted("adj-5", "250.00", "Territory handover"),
        adjusted("adj-6", "40.00", "Expenses paid in dollars", currency="USD"),
    ]
    result = statement_of(history)
    assert [(s.plan_version, s.total) for s in result.statements] == [
        (1, Decimal("50.00")),
        (2, Decimal("250.00")),  # no credit under v2, but v2 is in force on 30 September
    ]
    (apart,) = result.adjustments  # never converted to the plan's EUR
    assert (apart.adjustment_id, apart.earning, apart.currency) == ("adj-6", Decimal("40.00"), "USD")
    assert result.totals() == {"EUR": Decimal("300.00"), "USD": Decimal("40.00")}


def test_an_adjustment_for_a_rep_without_a_plan_is_still_counted_in_the_totals() -> None:
    history = [
        plan(1, "2026-01-01", None, MARGINAL),
        adjusted("adj-7", "250.00", "Guarantee before the plan"),
    ]
    book = book_of(ledger.fold(history), TZ)
    (result,) = payouts(book, "2026-Q3")
    assert (result.rep_id, result.statements) == ("rep-ada", ())
    assert [a.event_id for a in result.adjustments] == ["evt-adj-7"]
    assert result.totals() == {"EUR": Decimal("250.00")}


def test_a_churned_deal_takes_back_what_the_rules_earned_on_it_not_an_adjustment() -> None:
    clawback = {"kind": "clawback", "rule_id": "clawback", "window_days": 180}
    june = ("month", "2026-06-01", "2026-06-30")
    history = [
        plan(1, "2026-01-01", None, marginal("base", ("0", "5")), clawback),
        assigned("rep-ada"),
        won("deal-1", "10000.00", "2026-06-10T10:00:00Z"),
        adjusted("adj-8", "100.00", "Deal-1 onsite workshop", period=june, deal="deal-1"),
        churned("deal-1", "2026-08-20T10:00:00Z"),
    ]
    assert statement_of(history, period="2026-06").totals() == {"EUR": Decimal("600.00")}
    assert statement_of(history, period="2026-08").totals() == {"EUR": Decimal("-500.00")}


# --- plan contract v2 ------------------------------------------------------------------------------

SCHEDULE = (("0", "2"), ("5000", "4"))
DEALS_4K_8K = [
    won("deal-4k", "4000.00", "2026-08-03T10:00:00Z"),
    won("deal-8k", "8000.00", "2026-08-10T10:00:00Z"),
]


def plan_v1(*rules: dict[str, Any]) -> Envelope:
    """A plan published as a v1 document (no ``schemaversion``), upcast by the gate."""
    return older_sample_event(
        "CompPlanPublished",
        1,
        "2026-06-01T09:00:00Z",
        "plan-v1-document",
        plan_id="plan-ae",
        plan_version=1,
        effective_from="2026-01-01",
        effective_to=None,
        rules=list(rules),
    )


def test_a_v2_plan_tiered_per_deal_pays_300_where_the_v1_plan_pays_380_on_deals_of_4000_and_8000() -> None:
    per_deal = {**marginal("base", *SCHEDULE), "scope": "per_deal"}
    v2 = statement_of([plan(1, "2026-01-01", None, per_deal), assigned("rep-ada"), *DEALS_4K_8K])
    v1 = statement_of([plan_v1(marginal("base", *SCHEDULE)), assigned("rep-ada"), *DEALS_4K_8K])
    assert [line.earning for line in v2.statements[0].lines] == [Decimal(80), Decimal(100), Decimal(120)]
    assert v2.totals() == {"EUR": Decimal("300.00")}  # each deal tiered from zero
    assert [line.earning for line in v1.statements[0].lines] == [Decimal(80), Decimal(20), Decimal(280)]
    assert v1.totals() == {"EUR": Decimal("380.00")}  # on the period-to-date total of 12,000


def test_a_v1_plan_document_still_parses_and_means_period_to_date() -> None:
    event = plan_v1(marginal("base", *SCHEDULE))
    assert isinstance(event, CompPlanPublished) and event.schemaversion == 2
    (rule,) = event.data.rules
    assert isinstance(rule, MarginalTiers) and rule.scope is TierScope.PERIOD_TO_DATE
    assert rule.decelerator is None
    assert terms_of(event.data).draw is None
