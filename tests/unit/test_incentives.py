"""Commission maths: every worked example of docs/incentives.md, the edge cases, and properties.

Plans are built as engine terms (`projections.incentives.terms`) with readable rule ids; credit
lines are one rep's (``rep-ada``) unless a test says otherwise, in EUR, in 2026-Q4. Published
samples from ``tests/data/events`` check that v1 and v2 plans read into the same terms.
"""

from __future__ import annotations

import random
import re
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.deals import DealWon
from events.incentives import CompPlanPublished, SpiffAnnounced
from events.money import Money
from events.objectives import Kpi
from events.plan_rules import TierBasis
from projections.incentives import (
    Adjustment,
    CreditLine,
    KpiReading,
    LineKind,
    Reversal,
    Statement,
    credit_lines,
    spiff_terms_of,
    split_amount,
    statement,
    terms_of,
)
from projections.incentives.amounts import rounded
from projections.incentives.terms import (
    CapTerms,
    ClawbackTerms,
    Decelerator,
    DrawTerms,
    FlatTerms,
    KpiBonusTerms,
    MarginalTerms,
    PlanTerms,
    RuleTerms,
    SpiffRuleTerms,
    Tier,
    TierScope,
)
from projections.incentives.tiers import flat_earning, marginal_earning
from tests.samples import older_sample_event, sample_event

ROOT = Path(__file__).resolve().parents[2]
REP = "rep-ada"
NOV = date(2026, 11, 2)
CENT = Decimal("0.01")


def d(value: str | int | Decimal) -> Decimal:
    return Decimal(str(value))


def tiers(*pairs: tuple[str, str]) -> tuple[Tier, ...]:
    return tuple(Tier(d(threshold), d(rate)) for threshold, rate in pairs)


def plan(*rules: RuleTerms, draw: DrawTerms | None = None) -> PlanTerms:
    return PlanTerms("plan-ae", 1, "EUR", date(2026, 1, 1), date(2026, 12, 31), rules, draw)


def credit(
    deal: str,
    amount: str | int | Decimal,
    on: date = NOV,
    *,
    rep: str = REP,
    share: str = "100",
    currency: str = "EUR",
    products: tuple[str, ...] = (),
    team: str | None = None,
) -> CreditLine:
    return CreditLine(
        deal, rep, d(amount), currency, on, d(share), (f"evt-won-{deal}",), None, products, team
    )


def eur(amount: str | int | Decimal) -> Money:
    return Money(amount=d(amount), currency="EUR")


def rated(lines: list[CreditLine], terms: PlanTerms, quota: Money | None = None, **extra: Any) -> Statement:
    return statement(lines, terms, quota, rep_id=REP, **extra)


def earned(result: Statement, rule_id: str | None = None, deal_id: str | None = None) -> Decimal:
    return sum(
        (
            line.earning
            for line in result.lines
            if (rule_id is None or line.rule_id == rule_id) and (deal_id is None or line.deal_id == deal_id)
        ),
        Decimal(0),
    )


MARGINAL = MarginalTerms("base", tiers(("0", "5"), ("10000", "7"), ("25000", "10")))
BRACKETS = FlatTerms("bracket", tiers(("0", "1"), ("10000", "2"), ("50000", "3")))
ACCELERATOR = MarginalTerms("accelerator", tiers(("0", "5"), ("100000", "6"), ("125000", "7")))
ON_QUOTA = MarginalTerms(
    "accelerator", tiers(("0", "5"), ("100", "6"), ("125", "7")), TierBasis.QUOTA_ATTAINMENT
)
SCHEDULE = tiers(("0", "2"), ("5000", "4"))


# Worked examples of docs/incentives.md ------------------------------------------------------------


def test_marginal_tiers_pay_2050_on_30000() -> None:
    result = rated([credit("deal-1", 30000)], plan(MARGINAL))
    assert [(line.rate_percent, line.base, line.earning) for line in result.lines] == [
        (d(5), d(10000), d("500.00")),
        (d(7), d(15000), d("1050.00")),
        (d(10), d(5000), d("500.00")),
    ]
    assert result.total == d("2050.00") == marginal_earning(MARGINAL.tiers, d(30000))


def test_flat_brackets_rate_5k_15k_and_60k_at_1_2_and_3_percent() -> None:
    result = rated(
        [credit("deal-5k", 5000), credit("deal-15k", 15000), credit("deal-60k", 60000)], plan(BRACKETS)
    )
    assert [(line.deal_id, line.rate_percent, line.earning) for line in result.lines] == [
        ("deal-15k", d(2), d("300.00")),
        ("deal-5k", d(1), d("50.00")),
        ("deal-60k", d(3), d("1800.00")),
    ]
    assert flat_earning(BRACKETS.tiers, d(60000)) == d(1800)


def test_accelerator_pays_8250_on_150000() -> None:
    result = rated([credit("deal-1", 150000)], plan(ACCELERATOR))
    assert [line.earning for line in result.lines] == [d(5000), d(1500), d(1750)]
    assert result.total == d("8250.00")


def test_accelerator_on_quota_attainment_pays_8250_at_150_percent_of_a_100000_quota() -> None:
    result = rated([credit("deal-1", 60000), credit("deal-2", 90000)], plan(ON_QUOTA), eur(100000))
    assert result.total == d("8250.00")
    assert result.attainment_percent == d("150.00")


def test_retroactive_tier_re_rates_the_whole_period_once_the_total_crosses_a_threshold() -> None:
    retroactive = replace(BRACKETS, rule_id="retro", retroactive=True)
    before = rated([credit("deal-1", 5000, date(2026, 11, 2))], plan(retroactive))
    after = rated(
        [credit("deal-1", 5000, date(2026, 11, 2)), credit("deal-2", 8000, date(2026, 11, 20))],
        plan(retroactive),
    )
    assert before.total == d("50.00")  # 5,000 at 1 %
    assert [line.earning for line in after.lines] == [d("100.00"), d("160.00")]  # 13,000: both at 2 %
    assert "period-to-date 13,000" in after.lines[0].explanation
    per_deal = rated([credit("deal-1", 5000), credit("deal-2", 8000)], plan(BRACKETS))
    marginal = rated(
        [credit("deal-1", 5000), credit("deal-2", 8000)], plan(replace(MARGINAL, tiers=BRACKETS.tiers))
    )
    assert (per_deal.total, marginal.total) == (d("130.00"), d("160.00"))  # 50 + 80; 100 + 60


def test_per_deal_tiering_pays_300_and_period_to_date_pays_380_on_deals_of_4000_and_8000() -> None:
    deals = [credit("deal-4k", 4000, date(2026, 11, 2)), credit("deal-8k", 8000, date(2026, 11, 9))]
    per_deal = rated(deals, plan(MarginalTerms("tiers", SCHEDULE, scope=TierScope.PER_DEAL)))
    to_date = rated(deals, plan(MarginalTerms("tiers", SCHEDULE, scope=TierScope.PERIOD_TO_DATE)))
    assert [line.earning for line in per_deal.lines] == [d(80), d(100), d(120)]
    assert per_deal.total == d("300.00")
    assert [line.earning for line in to_date.lines] == [d(80), d(20), d(280)]
    assert to_date.total == d("380.00")


def test_decelerator_pays_2_percent_instead_of_4_while_attainment_is_under_50_percent() -> None:
    rule = FlatTerms("base", tiers(("0", "4")), decelerator=Decelerator(d(50), rate_percent=d(2)))
    under = rated([credit("deal-1", 40000)], plan(rule), eur(100000))
    over = rated([credit("deal-1", 40000), credit("deal-2", 20000)], plan(rule), eur(100000))
    assert under.total == d("800.00")
    assert "decelerated" in under.lines[0].explanation
    assert over.total == d("2400.00")


def test_kpi_bonus_pays_1000_for_a_30_percent_win_rate_on_10_closed_deals() -> None:
    terms = plan(KpiBonusTerms("win-rate-bonus", Kpi.WIN_RATE, d(30), d(1000), min_observations=10))
    met = rated([], terms, kpis={"win_rate": KpiReading(d(30), observations=10)})
    missed = rated([], terms, kpis={"win_rate": KpiReading(d("29.99"), observations=40)})
    too_few = rated([], terms, kpis={"win_rate": KpiReading(d(60), observations=9)})
    unknown = rated([], terms)
    assert met.total == d("1000.00")
    assert [r.total for r in (missed, too_few, unknown)] == [0, 0, 0]
    assert "fewer than 10" in too_few.lines[0].explanation
    assert "no win_rate reading" in unknown.lines[0].explanation


def test_cap_cuts_12000_of_commission_to_10000() -> None:
    terms = plan(FlatTerms("commission", tiers(("0", "3"))), CapTerms("cap", d(10000), ("commission",)))
    result = rated([credit("deal-1", 150000), credit("deal-2", 250000)], terms)
    assert earned(result, "commission") == d(12000)
    (cap,) = [line for line in result.lines if line.kind is LineKind.CAP]
    assert (cap.base, cap.earning, cap.event_ids) == (
        d(12000),
        d(-2000),
        ("evt-won-deal-1", "evt-won-deal-2"),
    )
    assert result.total == d("10000.00")


def sample_spiff() -> SpiffAnnounced:
    event = sample_event("SpiffAnnounced", "2026-10-10T08:00:00Z")
    assert isinstance(event, SpiffAnnounced)
    return event


SPIFF = spiff_terms_of(sample_spiff().data)  # 250 EUR per deal, 2026-10-15..12-15, SAP connector, 20k+


def connector(
    deal: str, amount: int = 25000, on: date = NOV, team: str | None = "team-emea-ent"
) -> CreditLine:
    return credit(deal, amount, on, products=("sku-sap-connector",), team=team)


def test_spiff_pays_250_on_each_of_4_qualifying_deals() -> None:
    deals = [connector(f"deal-{i}") for i in range(1, 5)] + [connector("deal-late", on=date(2026, 12, 16))]
    result = rated(deals, plan(SpiffRuleTerms("q4-spiff", SPIFF.spiff_id)), spiffs=[SPIFF])
    assert [line.earning for line in result.lines] == [d(250)] * 4 + [d(0)]
    assert "outside 2026-10-15..2026-12-15" in result.lines[-1].explanation
    assert result.total == d("1000.00")


def test_clawback_takes_back_500_on_the_statement_of_the_month_the_deal_was_cancelled() -> None:
    cancelled = Reversal(
        "deal-june",
        d(500),
        "EUR",
        date(2026, 6, 10),
        date(2026, 8, 5),
        ("evt-won-deal-june", "evt-cancelled"),
    )
    august = rated([], plan(ClawbackTerms("clawback", 90)), reversals=[cancelled])
    (line,) = august.lines
    assert (line.kind, line.deal_id, line.earning, line.rate_percent) == (
        LineKind.CLAWBACK,
        "deal-june",
        d(-500),
        d(100),
    )
    assert line.event_ids == ("evt-won-deal-june", "evt-cancelled")
    assert august.total == d("-500.00")


def test_prorated_clawback_takes_back_half_after_6_of_12_months() -> None:
    day_one = date(2026, 1, 1)
    cancelled = Reversal("deal-1", d(500), "EUR", day_one, day_one + timedelta(days=180), ("evt-won-deal-1",))
    result = rated([], plan(ClawbackTerms("clawback", 360, prorated=True)), reversals=[cancelled])
    assert [(line.rate_percent, line.earning) for line in result.lines] == [(d(50), d(-250))]
    assert "after 180 of 360 days" in result.lines[0].explanation


def test_split_of_1000_at_50_50_credits_500_each() -> None:
    assert split_amount(d("1000.00"), [d(50), d(50)], CENT) == (d(500), d(500))
    ada, sam = credit("deal-1", 500, share="50"), credit("deal-1", 500, rep="rep-sam", share="50")
    terms = plan(FlatTerms("commission", tiers(("0", "10"))))
    assert rated([ada], terms).total == statement([sam], terms, rep_id="rep-sam").total == d("50.00")


def test_non_recoverable_draw_tops_up_to_the_guarantee_and_is_never_owed_back() -> None:
    terms = plan(FlatTerms("commission", tiers(("0", "5"))), draw=DrawTerms(d(3000), recoverable=False))
    lean = rated([credit("deal-1", 40000)], terms)
    good = rated([credit("deal-2", 80000)], terms)
    assert (earned(lean, "commission"), earned(lean, "draw"), lean.total) == (d(2000), d(1000), d(3000))
    assert (earned(good, "draw"), good.total) == (d(0), d(4000))
    assert lean.draw_balance == good.draw_balance == 0


def test_recoverable_draw_advances_and_recovers_from_later_earnings_above_the_draw() -> None:
    terms = plan(FlatTerms("commission", tiers(("0", "5"))), draw=DrawTerms(d(3000), recoverable=True))
    october = rated([credit("deal-1", 20000, date(2026, 10, 5))], terms)
    assert (earned(october, "draw"), october.total, october.draw_balance) == (d(2000), d(3000), d(2000))
    november = rated([credit("deal-2", 120000)], terms, draw_balance=october.draw_balance)
    assert (earned(november, "draw"), november.total, november.draw_balance) == (d(-2000), d(4000), d(0))
    assert november.lines[-1].kind is LineKind.DRAW_RECOVERY


# Edge cases ---------------------------------------------------------------------------------------


def test_an_amount_exactly_on_a_bracket_boundary_takes_the_higher_tier() -> None:
    result = rated([credit("deal-10k", 10000), credit("deal-50k", 50000)], plan(BRACKETS))
    assert [line.rate_percent for line in result.lines] == [d(2), d(3)]


def test_a_period_total_exactly_on_a_marginal_threshold_starts_the_next_deal_in_the_higher_tier() -> None:
    deals = [credit("deal-1", 10000, date(2026, 11, 2)), credit("deal-2", 1000, date(2026, 11, 3))]
    result = rated(deals, plan(MARGINAL))
    assert [(line.deal_id, line.rate_percent, line.base) for line in result.lines] == [
        ("deal-1", d(5), d(10000)),
        ("deal-2", d(7), d(1000)),
    ]


def test_attainment_exactly_on_the_decelerator_floor_earns_the_normal_rate() -> None:
    rule = FlatTerms("base", tiers(("0", "4")), decelerator=Decelerator(d(50), multiplier=d("0.5")))
    assert rated([credit("deal-1", 50000)], plan(rule), eur(100000)).total == d(2000)
    assert rated([credit("deal-1", "49999.99")], plan(rule), eur(100000)).lines[0].rate_percent == d(2)


def test_a_decelerator_never_raises_a_rate() -> None:
    with pytest.raises(ValueError, match="never raises a rate"):
        Decelerator(d(50), multiplier=d("1.5"))
    slow = Decelerator(d(50), rate_percent=d(2))
    rule = FlatTerms("accelerator", tiers(("0", "0"), ("100000", "3")), decelerator=slow)
    assert rated([credit("deal-1", 10000)], plan(rule), eur(100000)).lines[0].rate_percent == 0


@pytest.mark.parametrize(
    ("quota", "reason"),
    [
        (None, "no quota for the period"),
        (eur(0), "a quota of 0"),
        (Money(amount=d(100000), currency="USD"), "the quota is in USD"),
    ],
)
def test_rules_set_in_percent_of_quota_yield_explained_zero_lines_without_a_usable_quota(
    quota: Money | None, reason: str
) -> None:
    decelerated = FlatTerms("slow", tiers(("0", "4")), decelerator=Decelerator(d(50), rate_percent=d(2)))
    result = rated([credit("deal-1", 150000)], plan(MARGINAL, ON_QUOTA, decelerated), quota)
    unrated = [line for line in result.lines if line.rule_id != "base"]
    assert [(line.rule_id, line.earning) for line in unrated] == [("accelerator", d(0)), ("slow", d(0))]
    assert all(reason in line.explanation for line in unrated)
    assert result.attainment_percent is None
    assert earned(result, "base") == marginal_earning(MARGINAL.tiers, d(150000))  # amounts need no quota


def test_a_deal_in_another_currency_gets_an_explained_zero_line_and_is_never_converted() -> None:
    result = rated([credit("deal-eur", 10000), credit("deal-usd", 10000, currency="USD")], plan(BRACKETS))
    (usd,) = [line for line in result.lines if line.deal_id == "deal-usd"]
    assert (usd.earning, usd.rate_percent) == (d(0), None)
    assert "10,000 USD, the plan pays in EUR (never converted)" in usd.explanation
    assert (result.credited, result.total) == (d(10000), d(200))


def test_credit_on_a_day_the_plan_version_is_not_in_force_is_not_rated() -> None:
    result = rated([credit("deal-2027", 10000, date(2027, 1, 4))], plan(BRACKETS))
    assert result.total == 0
    assert "plan-ae v1 is not in force on 2027-01-04" in result.lines[0].explanation


def test_a_deal_split_three_ways_credits_every_cent_exactly_once() -> None:
    thirds = [d("33.34"), d("33.33"), d("33.33")]
    assert split_amount(d("100.00"), thirds, CENT) == (d("33.34"), d("33.33"), d("33.33"))
    assert split_amount(d("0.02"), thirds, CENT) == (d("0.01"), d("0.01"), d("0.00"))
    assert split_amount(d("100.00"), [d("33.3333"), d("33.3333"), d("33.3334")], CENT) == (
        d("33.33"),
        d("33.33"),
        d("33.34"),
    )
    assert split_amount(d("10.005"), [d(50), d(50)], CENT) == (d("5.003"), d("5.002"))  # its own last place


def test_credit_lines_of_a_won_deal_follow_its_credit_splits() -> None:
    won = sample_event("DealWon", "2026-11-12T17:45:00+01:00", event_id="evt-won-1")
    assert isinstance(won, DealWon)
    lines = credit_lines(won.data, date(2026, 11, 12), ("evt-won-1",))
    assert [(line.rep_id, line.amount, line.share_percent) for line in lines] == [
        ("rep-ada", d("78750.00"), d(70)),
        ("rep-sam", d("33750.00"), d(30)),
    ]
    assert {line.deal_amount for line in lines} == {d("112500.00")}


def test_a_split_deal_tiered_per_deal_pays_each_rep_their_share_of_the_whole_deals_commission() -> None:
    terms = plan(MarginalTerms("tiers", SCHEDULE, scope=TierScope.PER_DEAL))
    whole = rated([credit("deal-8k", 8000)], terms)
    half = rated([credit("deal-8k", 4000, share="50")], terms)
    assert (whole.total, half.total) == (d(220), d(110))


def test_a_split_deal_pays_each_rep_their_share_of_the_spiff() -> None:
    line = replace(connector("deal-1"), share_percent=d(50), amount=d(12500), deal_amount=d(25000))
    result = rated([line], plan(SpiffRuleTerms("q4-spiff", SPIFF.spiff_id)), spiffs=[SPIFF])
    assert [(line.rate_percent, line.earning) for line in result.lines] == [(d(50), d(125))]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (replace(connector("deal-1"), products=("sku-other",)), "none of the SPIFF's products"),
        (connector("deal-1", amount=19999), "under the minimum 20,000.00"),
        (connector("deal-1", team="team-apac"), "team team-apac not eligible"),
        (connector("deal-1", team=None), "team (none) not eligible"),
    ],
)
def test_a_deal_that_does_not_qualify_for_the_spiff_says_why(line: CreditLine, reason: str) -> None:
    result = rated([line], plan(SpiffRuleTerms("q4-spiff", SPIFF.spiff_id)), spiffs=[SPIFF])
    assert result.total == 0
    assert reason in result.lines[0].explanation


def test_a_spiff_the_caller_did_not_pass_is_an_explained_zero() -> None:
    result = rated([connector("deal-1")], plan(SpiffRuleTerms("q4-spiff", "spiff-unknown")))
    (line,) = result.lines
    assert (line.earning, line.explanation) == (d(0), "spiff-unknown not announced")


def test_a_per_deal_cap_cuts_each_deal_separately() -> None:
    terms = plan(FlatTerms("commission", tiers(("0", "10"))), CapTerms("deal-cap", d(5000), per_deal=True))
    result = rated([credit("deal-big", 80000), credit("deal-small", 20000)], terms)
    caps = [(line.deal_id, line.earning) for line in result.lines if line.kind is LineKind.CAP]
    assert caps == [("deal-big", d(-3000)), ("deal-small", 0)]
    assert result.total == d(7000)


def test_a_whole_plan_cap_covers_commission_bonuses_and_spiffs() -> None:
    terms = plan(
        FlatTerms("commission", tiers(("0", "10"))),
        KpiBonusTerms("bonus", Kpi.WIN_RATE, d(30), d(1000)),
        SpiffRuleTerms("q4-spiff", SPIFF.spiff_id),
        CapTerms("plan-cap", d(3000)),
    )
    result = rated([connector("deal-1")], terms, kpis={"win_rate": KpiReading(d(35))}, spiffs=[SPIFF])
    assert (earned(result, "commission"), earned(result, "bonus"), earned(result, "q4-spiff")) == (
        d(2500),
        d(1000),
        d(250),
    )
    assert (earned(result, "plan-cap"), result.total) == (d(-750), d(3000))


def test_a_kpi_where_lower_is_better_is_met_at_or_below_the_threshold() -> None:
    terms = plan(KpiBonusTerms("fast", Kpi.SALES_CYCLE_DAYS, d(45), d(500)))
    assert rated([], terms, kpis={"sales_cycle_days": KpiReading(d(45))}).total == d(500)
    assert rated([], terms, kpis={"sales_cycle_days": KpiReading(d(46))}).total == 0


def test_a_money_kpi_in_another_currency_is_not_compared() -> None:
    terms = plan(KpiBonusTerms("revenue-bonus", Kpi.REVENUE, d(100000), d(500)))
    result = rated([], terms, kpis={"revenue": KpiReading(d(200000), currency="USD")})
    assert result.total == 0
    assert "not compared" in result.lines[0].explanation


def test_a_reversal_outside_the_clawback_window_takes_nothing_back() -> None:
    late = Reversal("deal-1", d(500), "EUR", date(2026, 1, 1), date(2026, 4, 2), ("evt-won-deal-1",))
    result = rated([], plan(ClawbackTerms("clawback", 90)), reversals=[late])
    assert result.total == 0
    assert "outside the 90-day window" in result.lines[0].explanation


def test_a_plan_without_a_clawback_rule_says_it_takes_nothing_back() -> None:
    reversal = Reversal("deal-1", d(500), "EUR", date(2026, 6, 1), date(2026, 6, 2))
    result = rated([], plan(MARGINAL), reversals=[reversal])
    assert [(line.rule_id, line.earning) for line in result.lines] == [(None, d(0))]


def test_clawbacks_are_not_absorbed_by_the_draw() -> None:
    terms = plan(ClawbackTerms("clawback", 90), draw=DrawTerms(d(3000), recoverable=False))
    reversal = Reversal("deal-1", d(500), "EUR", date(2026, 10, 1), date(2026, 11, 1))
    result = rated([], terms, reversals=[reversal])
    assert (earned(result, "draw"), earned(result, "clawback"), result.total) == (d(3000), d(-500), d(2500))


def test_an_adjustment_in_another_currency_is_an_explained_zero_line_and_never_converted() -> None:
    dollars = Adjustment("adj-1", d("-40.00"), "USD", "Expenses", "rep-grace", "evt-adj-1")
    euros = Adjustment("adj-2", d("10.005"), "EUR", "Rounding", "rep-grace", "evt-adj-2")
    result = rated([], plan(MARGINAL), adjustments=[euros, dollars])
    assert [(line.kind, line.base, line.earning) for line in result.lines] == [
        (LineKind.ADJUSTMENT, d("40.00"), d(0)),
        (LineKind.ADJUSTMENT, d("10.005"), d("10.00")),  # rounded once, half to even
    ]
    assert result.lines[0].explanation.startswith("not added: 40.00 USD, the plan pays in EUR")


def test_recovering_a_recoverable_draw_never_takes_pay_below_the_draw() -> None:
    terms = plan(FlatTerms("commission", tiers(("0", "5"))), draw=DrawTerms(d(3000), recoverable=True))
    result = rated([credit("deal-1", 80000)], terms, draw_balance=d(2000))
    assert (earned(result, "draw"), result.total, result.draw_balance) == (d(-1000), d(3000), d(1000))


def test_earnings_are_rounded_half_to_even_once_per_line() -> None:
    terms = plan(FlatTerms("commission", tiers(("0", "2.5"))))
    result = rated([credit("deal-a", "5.00"), credit("deal-b", "5.40")], terms)  # 0.125 and 0.135
    assert [line.earning for line in result.lines] == [d("0.12"), d("0.14")]
    assert result.total == d("0.26")


def test_credit_lines_of_another_rep_are_refused() -> None:
    with pytest.raises(ValueError, match="rep-sam"):
        rated([credit("deal-1", 100, rep="rep-sam")], plan(MARGINAL))


def test_terms_of_a_published_v1_plan_take_the_documented_defaults() -> None:
    event = older_sample_event("CompPlanPublished", 1, "2026-06-15T12:00:00Z")
    assert isinstance(event, CompPlanPublished) and event.schemaversion == 2
    terms = terms_of(event.data)
    assert (terms.plan_id, terms.plan_version, terms.currency, terms.draw) == ("plan-ae-2026", 2, "EUR", None)
    base, accelerator, services, cap, *_ = terms.rules
    assert isinstance(base, MarginalTerms) and base.scope is TierScope.PERIOD_TO_DATE
    assert base.decelerator is None and base.tiers[1] == Tier(d(10000), d(7))
    assert isinstance(accelerator, MarginalTerms) and accelerator.basis is TierBasis.QUOTA_ATTAINMENT
    assert isinstance(services, FlatTerms) and services.retroactive
    assert (
        isinstance(cap, CapTerms)
        and not cap.per_deal
        and cap.applies_to == ("base-commission", "accelerator")
    )
    assert [type(rule).__name__ for rule in terms.rules[4:]] == [
        "SpiffRuleTerms",
        "KpiBonusTerms",
        "ClawbackTerms",
    ]
    assert isinstance(terms.rules[5], KpiBonusTerms) and terms.rules[5].min_observations == 0


def test_terms_of_a_published_v2_plan_read_every_field_v1_could_not_say() -> None:
    event = sample_event("CompPlanPublished", "2026-12-10T10:00:00Z")
    assert isinstance(event, CompPlanPublished)
    terms = terms_of(event.data)
    assert terms.draw == DrawTerms(d(3000), recoverable=True, rule_id="ramp-draw")
    base, accelerator, services, deal_cap, period_cap, bonus, clawback = terms.rules
    assert isinstance(base, MarginalTerms) and base.scope is TierScope.PER_DEAL
    assert base.decelerator == Decelerator(d(50), rate_percent=d(1))
    assert isinstance(accelerator, MarginalTerms) and accelerator.scope is TierScope.PERIOD_TO_DATE
    assert isinstance(services, FlatTerms) and services.decelerator == Decelerator(d(50), multiplier=d("0.5"))
    assert isinstance(deal_cap, CapTerms) and deal_cap.per_deal
    assert deal_cap.applies_to == ("base-commission",)
    assert isinstance(period_cap, CapTerms) and not period_cap.per_deal
    assert isinstance(bonus, KpiBonusTerms) and bonus.min_observations == 10
    assert isinstance(clawback, ClawbackTerms) and clawback.prorated


# Properties ---------------------------------------------------------------------------------------

RICH = plan(
    MARGINAL,
    replace(ON_QUOTA, tiers=tiers(("0", "0"), ("100", "2"), ("125", "3"))),
    MarginalTerms("per-deal", SCHEDULE, scope=TierScope.PER_DEAL),
    replace(BRACKETS, rule_id="services", retroactive=True),
    FlatTerms("slow", tiers(("0", "4")), decelerator=Decelerator(d(50), multiplier=d("0.5"))),
    KpiBonusTerms("win-rate-bonus", Kpi.WIN_RATE, d(30), d(1000), min_observations=10),
    SpiffRuleTerms("q4-spiff", SPIFF.spiff_id),
    CapTerms("deal-cap", d(5000), ("base",), per_deal=True),
    CapTerms("plan-cap", d(40000)),
    ClawbackTerms("clawback", 365, prorated=True),
    draw=DrawTerms(d(3000), recoverable=True),
)
AMOUNTS = st.decimals(min_value=0, max_value=200000, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def credit_sets(draw: st.DrawFn) -> list[CreditLine]:
    count = draw(st.integers(0, 10))
    return [
        CreditLine(
            deal_id=f"deal-{draw(st.integers(0, 6))}-{i}",
            rep_id=REP,
            amount=draw(AMOUNTS),
            currency=draw(st.sampled_from(["EUR", "EUR", "EUR", "USD"])),
            credited_on=draw(st.dates(date(2026, 10, 1), date(2027, 1, 10))),
            share_percent=draw(st.sampled_from([d(100), d(50), d("33.34"), d("33.3333")])),
            event_ids=(f"evt-{i}",),
            products=draw(st.sampled_from([(), ("sku-sap-connector",)])),
            team_id=draw(st.sampled_from([None, "team-emea-ent"])),
        )
        for i in range(count)
    ]


@st.composite
def contexts(draw: st.DrawFn) -> dict[str, Any]:
    reversals = [
        Reversal(
            f"deal-old-{i}", draw(AMOUNTS), "EUR", date(2026, 1, 1), date(2026, 1, 1) + timedelta(days=days)
        )
        for i, days in enumerate(draw(st.lists(st.integers(0, 400), max_size=3)))
    ]
    return {
        "quota": draw(st.none() | AMOUNTS.map(eur)),
        "kpis": {
            "win_rate": KpiReading(draw(st.decimals(0, 100, places=2)), observations=draw(st.integers(0, 20)))
        },
        "spiffs": [SPIFF],
        "reversals": reversals,
        "draw_balance": draw(st.decimals(0, 10000, places=2)),
    }


def statement_of(lines: list[CreditLine], context: dict[str, Any]) -> Statement:
    extra = {name: value for name, value in context.items() if name != "quota"}
    return statement(lines, RICH, context["quota"], rep_id=REP, **extra)


@settings(max_examples=150, deadline=None)
@given(credit_sets(), contexts())
def test_statement_lines_sum_to_the_total_in_whole_cents(
    lines: list[CreditLine], context: dict[str, Any]
) -> None:
    result = statement_of(lines, context)
    assert sum((line.earning for line in result.lines), Decimal(0)) == result.total
    assert all(line.earning == line.earning.quantize(CENT) for line in result.lines)
    assert result.draw_balance >= 0


@settings(max_examples=100, deadline=None)
@given(credit_sets(), contexts(), st.randoms(use_true_random=False))
def test_the_order_of_credit_lines_and_reversals_does_not_change_the_statement(
    lines: list[CreditLine], context: dict[str, Any], shuffler: random.Random
) -> None:
    shuffled, reversals = lines[:], context["reversals"][:]
    shuffler.shuffle(shuffled)
    shuffler.shuffle(reversals)
    assert statement_of(shuffled, {**context, "reversals": reversals}) == statement_of(lines, context)


@settings(max_examples=100, deadline=None)
@given(credit_sets(), contexts(), st.lists(st.integers(0, 3), min_size=10, max_size=10))
def test_how_credit_lines_were_partitioned_does_not_change_the_statement(
    lines: list[CreditLine], context: dict[str, Any], partitions: list[int]
) -> None:
    parts: dict[int, list[CreditLine]] = {}
    for line, part in zip(lines, partitions, strict=False):
        parts.setdefault(part, []).append(line)
    merged = [line for part in sorted(parts, reverse=True) for line in parts[part]]
    assert statement_of(merged, context) == statement_of(lines, context)


@settings(max_examples=100, deadline=None)
@given(st.lists(AMOUNTS, max_size=12))
def test_period_to_date_slices_earn_the_schedule_on_the_period_total_within_half_a_cent_per_line(
    amounts: list[Decimal],
) -> None:
    result = rated([credit(f"deal-{i:02}", amount) for i, amount in enumerate(amounts)], plan(MARGINAL))
    exact = marginal_earning(MARGINAL.tiers, sum(amounts, Decimal(0)))
    assert abs(result.total - exact) <= Decimal("0.005") * len(result.lines)


@st.composite
def splits(draw: st.DrawFn) -> tuple[Decimal, list[Decimal]]:
    amount = draw(st.decimals(min_value=0, max_value=10**12, places=draw(st.integers(0, 4))))
    cuts = sorted(draw(st.lists(st.integers(1, 999_999), unique=True, max_size=19)))
    bounds = [0, *cuts, 1_000_000]
    return amount, [Decimal(high - low).scaleb(-4) for low, high in pairwise(bounds)]


@settings(max_examples=300, deadline=None)
@given(splits(), st.sampled_from([Decimal(1), CENT, Decimal("0.001")]))
def test_splitting_a_deal_never_creates_or_loses_money(
    split: tuple[Decimal, list[Decimal]], unit: Decimal
) -> None:
    amount, shares = split
    credits = split_amount(amount, shares, unit)
    assert sum(credits, Decimal(0)) == amount
    finest = min(unit, Decimal(1).scaleb(int(amount.as_tuple().exponent)))
    for credited, share in zip(credits, shares, strict=True):
        assert credited >= 0
        assert abs(credited - amount * share / 100) < finest
        assert credited == rounded(credited, finest)


# The docs and the tests agree ---------------------------------------------------------------------


def test_every_worked_example_in_docs_incentives_is_a_test() -> None:
    """Here for the maths; in test_incentive_statements.py for examples that start from events."""
    docs = (ROOT / "docs" / "incentives.md").read_text(encoding="utf-8")
    modules = (
        "test_incentives",
        "test_incentive_statements",
        "test_approvals",
        "test_what_if",
        "test_draws_and_overlays",
    )
    test_name = re.compile(rf"tests/unit/({'|'.join(modules)})\.py::(test_\w+)")
    examples = [paragraph for paragraph in docs.split("\n\n") if "**Worked example" in paragraph]
    assert len(examples) >= 16, "docs/incentives.md has lost worked examples"
    assert not [example[:80] for example in examples if not test_name.search(example)]
    sources = {module: (ROOT / "tests" / "unit" / f"{module}.py").read_text() for module in modules}
    missing = [f"{m}::{name}" for m, name in test_name.findall(docs) if f"def {name}(" not in sources[m]]
    assert missing == []
