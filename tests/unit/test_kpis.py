"""KPI folds and reports: every worked example of docs/kpis.md, edge cases, and the fold's algebra.

Events are built from the samples in ``tests/data/events`` with readable ids, times and fields.
Times are wall-clock times in Europe/Berlin, the organisation's zone in these tests.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from events.envelope import Envelope
from events.parse import parse_document
from projections.kpi_fold import contributions, evolve, merge_partials
from projections.kpi_scope import KpiValue
from projections.kpis import KpiBook, Scope, fold, kpi_report
from sales.process import ProcessConfig, load_process, parse_process
from services.projector.kpi_codec import decode_partial, encode_partial
from services.projector.readmodels import read_models
from tests.delivery import delivered_twice
from tests.samples import SAMPLES, latest_sample, money, sample_event

PROCESS = load_process(None)

ROOT = Path(__file__).resolve().parents[2]
TZ = "Europe/Berlin"

TEAMS = {"rep-ada": "team-emea", "rep-sam": "team-emea", "rep-lin": "team-apac"}
TERRITORIES = {"rep-ada": ("terr-dach",), "rep-sam": ("terr-dach", "terr-nordics")}


def membership(rep_id: str, day: date) -> tuple[str | None, tuple[str, ...]]:
    return TEAMS.get(rep_id), TERRITORIES.get(rep_id, ())


ORG, ADA, SAM, EMEA = (
    Scope("org"),
    Scope("rep", "rep-ada"),
    Scope("rep", "rep-sam"),
    Scope("team", "team-emea"),
)


# --- building events -------------------------------------------------------------------------


def berlin(day: str, hour: int = 10, minute: int = 0) -> str:
    """``day`` at ``hour:minute`` on the Berlin wall clock, with the right offset for the date."""
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=ZoneInfo(TZ)).isoformat()


def make(type_name: str, at: str, event_id: str | None = None, **data: Any) -> Envelope:
    """The latest sample of ``type_name`` at ``at`` with ``data`` fields replaced (None removes one)."""
    return sample_event(type_name, at, event_id, **data)


eur = money


def captured(lead: str, day: str, rep: str | None = "rep-ada", source: str = "referral") -> Envelope:
    return make("LeadCaptured", berlin(day, 9), lead_id=lead, rep_id=rep, source=source)


def qualified(
    lead: str,
    deal: str,
    day: str,
    rep: str = "rep-ada",
    decision_by: str | None = None,
    budget: int | None = None,
) -> Envelope:
    bant = copy.deepcopy(latest_sample("LeadQualified")["data"]["bant"])
    bant.pop("decision_by", None)
    bant.pop("budget", None)
    bant |= {"decision_by": decision_by} if decision_by else {}
    bant |= {"budget": eur(budget)} if budget is not None else {}
    return make("LeadQualified", berlin(day, 10), lead_id=lead, deal_id=deal, rep_id=rep, bant=bant)


def won(
    deal: str,
    day: str,
    amount: int | str,
    rep: str = "rep-ada",
    splits: dict[str, str] | None = None,
    customer: str = "cust-acme",
    currency: str = "EUR",
) -> Envelope:
    shares = [{"rep_id": r, "share_percent": s} for r, s in (splits or {rep: "100"}).items()]
    return make(
        "DealWon",
        berlin(day, 16),
        deal_id=deal,
        rep_id=rep,
        customer_id=customer,
        amount=eur(amount, currency),
        credit_splits=shares,
    )


def lost(deal: str, day: str, rep: str = "rep-ada") -> Envelope:
    return make("DealLost", berlin(day, 16), deal_id=deal, rep_id=rep, competitor=None, notes=None)


def moved(deal: str, day: str, from_stage: str | None, to_stage: str, rep: str = "rep-ada") -> Envelope:
    return make(
        "DealStageChanged",
        berlin(day, 12),
        deal_id=deal,
        rep_id=rep,
        from_stage=from_stage,
        to_stage=to_stage,
    )


def report(
    events: list[Envelope], scope: Scope, period: str, process: ProcessConfig = PROCESS
) -> dict[str, Any]:
    return kpi_report(fold(events, TZ), scope, period, membership, process)


def value(kpis: dict[str, KpiValue], key: str) -> object:
    """The value of one KPI (a Decimal, or None), typed loosely so it compares with plain numbers."""
    return kpis[key].value


# --- activities and leads --------------------------------------------------------------------


def test_activities_of_a_rep_on_a_day_add_up_calls_emails_meetings_social_and_research() -> None:
    day = "2026-11-02"
    events = [
        make("CallLogged", berlin(day, 9), outcome="connected", duration_seconds=300),
        make("CallLogged", berlin(day, 10), outcome="connected", duration_seconds=120),
        make("CallLogged", berlin(day, 11), outcome="voicemail", duration_seconds=0),
        make("EmailSent", berlin(day, 11)),
        make("EmailSent", berlin(day, 12)),
        make("EmailReplied", berlin(day, 15)),
        make("MeetingHeld", berlin(day, 14), duration_seconds=2700),
        make("SocialTouch", berlin(day, 16)),
        make("ProspectResearchLogged", berlin(day, 8), minutes=90),
        make("ProspectResearchLogged", berlin(day, 17), minutes=30),
        make("CallLogged", berlin(day, 9), rep_id="rep-sam"),  # someone else
        make("CallLogged", berlin("2026-11-03", 9)),  # another day
    ]
    kpis = report(events, ADA, day)
    expected = {
        "calls": 3,
        "connected_calls": 2,
        "talk_seconds": 420,
        "emails_sent": 2,
        "emails_replied": 1,
        "meetings": 1,
        "meeting_seconds": 2700,
        "social_touches": 1,
        "research_minutes": 120,
    }
    assert {key: value(kpis, key) for key in expected} == expected
    assert kpis["research_minutes"].unit == "minutes"


def test_new_leads_by_source_count_leads_captured_in_the_period_on_the_local_clock() -> None:
    events = [
        *(captured(f"lead-r{i}", "2026-11-05", source="referral") for i in range(3)),
        *(captured(f"lead-i{i}", "2026-11-12", source="inbound") for i in range(2)),
        captured("lead-c1", "2026-11-20", rep=None, source="cold_call"),
        make("LeadCaptured", "2026-10-31T23:30:00Z", lead_id="lead-midnight", source="email"),
        captured("lead-oct", "2026-10-30", source="referral"),
    ]
    kpis = report(events, ORG, "2026-11")
    assert value(kpis, "new_leads") == 7
    by_source = {
        source: value(kpis, f"new_leads.{source}") for source in ("referral", "inbound", "cold_call")
    }
    assert by_source == {"referral": 3, "inbound": 2, "cold_call": 1}
    assert value(kpis, "new_leads.email") == 1  # 00:30 on 1 November in Berlin
    assert value(report(events, ADA, "2026-11"), "new_leads") == 6  # the cold call lead has no owner


# --- conversion ------------------------------------------------------------------------------


def test_lead_to_opportunity_of_50_qualified_out_of_200_leads_captured_in_the_quarter_is_25_percent() -> None:
    events = [captured(f"lead-{i}", "2026-10-05") for i in range(200)]
    events += [qualified(f"lead-{i}", f"deal-{i}", "2026-11-10") for i in range(40)]
    events += [qualified(f"lead-{i}", f"deal-{i}", "2027-01-12") for i in range(40, 50)]  # a later quarter
    events += [make("LeadDisqualified", berlin("2026-10-20"), lead_id=f"lead-{i}") for i in range(50, 80)]
    events += [captured(f"lead-sep-{i}", "2026-09-20") for i in range(20)]  # an earlier cohort
    events += [qualified(f"lead-sep-{i}", f"deal-sep-{i}", "2026-10-02") for i in range(20)]
    kpis = report(events, ORG, "2026-Q4")
    assert kpis["lead_to_opportunity_rate"] == KpiValue(Decimal(25), "percent", Decimal(50), Decimal(200))


def test_stage_conversion_counts_deals_that_entered_a_stage_in_the_period_and_moved_on() -> None:
    events: list[Envelope] = []
    for deal in ("deal-1", "deal-2", "deal-3", "deal-4"):
        events += [
            qualified(f"lead-{deal}", deal, "2026-10-15"),
            make("NeedsAssessed", berlin("2026-11-03"), deal_id=deal),
        ]
    events += [make("SolutionPresented", berlin("2026-11-10"), deal_id=deal) for deal in ("deal-1", "deal-2")]
    events += [make("SolutionPresented", berlin("2026-12-01"), deal_id="deal-3")]
    events += [moved("deal-1", "2026-11-20", "solution_presented", "closing"), lost("deal-4", "2026-11-25")]
    november = report(events, ORG, "2026-11")
    assert november["stage_conversion.needs_assessed"].value == 75
    assert (
        november["stage_conversion.needs_assessed"].numerator,
        november["stage_conversion.needs_assessed"].denominator,
    ) == (3, 4)
    assert value(november, "stage_conversion.solution_presented") == 50
    assert value(november, "stage_conversion.qualified") is None  # they entered in October
    assert value(report(events, ORG, "2026-10"), "stage_conversion.qualified") == 100


# --- deals: win rate, size, credit, cycle ----------------------------------------------------


def test_win_rate_of_45_won_135_lost_and_80_open_is_25_percent() -> None:
    events = [won(f"deal-w{i}", "2026-11-10", 1000) for i in range(45)]
    events += [lost(f"deal-l{i}", "2026-11-12") for i in range(135)]
    events += [qualified(f"lead-o{i}", f"deal-o{i}", "2026-11-01") for i in range(80)]
    kpis = report(events, ORG, "2026-Q4")
    assert kpis["win_rate"] == KpiValue(Decimal(25), "percent", Decimal(45), Decimal(180))
    assert value(kpis, "deals_lost") == 135


def test_a_deal_lost_reopened_and_won_counts_lost_in_october_won_in_november_and_won_once_in_q4() -> None:
    events = [
        qualified("lead-1", "deal-1", "2026-10-01"),
        lost("deal-1", "2026-10-20"),
        moved("deal-1", "2026-11-02", "lost", "closing"),
        won("deal-1", "2026-11-15", 5000),
    ]
    october, november, q4 = (report(events, ORG, period) for period in ("2026-10", "2026-11", "2026-Q4"))
    assert (value(october, "win_rate"), value(october, "deals_lost")) == (0, 1)
    assert (value(november, "win_rate"), value(november, "deals_won")) == (100, 1)
    assert (q4["win_rate"].numerator, q4["win_rate"].denominator, value(q4, "deals_lost")) == (1, 1, 0)


def test_average_deal_size_of_500000_over_100_deals_is_5000() -> None:
    events = [won(f"deal-s{i}", "2026-11-10", 2000) for i in range(50)]
    events += [won(f"deal-b{i}", "2026-12-10", 8000) for i in range(50)]
    kpis = report(events, ORG, "2026-Q4")
    assert kpis["average_deal_size.EUR"] == KpiValue(
        Decimal(5000), "money", Decimal(500000), Decimal(100), "EUR"
    )
    assert (value(kpis, "deals_won"), value(kpis, "won_revenue.EUR")) == (100, 500000)


def test_split_credit_50_50_credits_500_each_of_a_1000_order_and_1000_to_their_team() -> None:
    events = [won("deal-1", "2026-11-10", 1000, rep="rep-ada", splits={"rep-ada": "50", "rep-sam": "50"})]
    ada, sam, team = (report(events, scope, "2026-11") for scope in (ADA, SAM, EMEA))
    assert (value(ada, "credited_revenue.EUR"), value(sam, "credited_revenue.EUR")) == (500, 500)
    assert value(team, "credited_revenue.EUR") == 1000
    assert (value(ada, "deals_won"), value(sam, "deals_won"), value(team, "deals_won")) == (1, 0, 1)
    assert "won_revenue.EUR" not in sam  # the deal is the owner's; the credit is shared


def test_currencies_are_never_added_up() -> None:
    events = [won("deal-1", "2026-11-10", 1000), won("deal-2", "2026-11-11", 3000, currency="USD")]
    kpis = report(events, ORG, "2026-11")
    assert (value(kpis, "average_deal_size.EUR"), value(kpis, "average_deal_size.USD")) == (1000, 3000)
    assert value(kpis, "deals_won") == 2


REOPEN_WON = parse_process(
    """
name = "reopen-won"
[[stages]]
name = "closing"
probability = 0.8
[deal]
open_stage = "closing"
reopen_won = true
""",
    "reopen-won.toml",
)


def test_a_deal_won_again_after_reopening_counts_once_for_revenue_and_quota() -> None:
    events = [
        qualified("lead-1", "deal-1", "2026-10-01"),
        won("deal-1", "2026-11-05", 100000),
        moved("deal-1", "2026-11-10", "won", "closing"),
        won("deal-1", "2026-11-20", 120000),
        make("QuotaAssigned", berlin("2026-09-20"), amount=eur(200000)),
    ]
    kpis = report(events, ADA, "2026-Q4", REOPEN_WON)
    assert (value(kpis, "deals_won"), value(kpis, "won_revenue.EUR")) == (1, 100000)
    assert value(kpis, "quota_attainment") == 50
    assert (kpis["win_rate"].numerator, kpis["win_rate"].denominator) == (1, 1)


def test_sales_cycle_of_deals_taking_40_30_60_and_70_days_is_50_days() -> None:
    close = date(2026, 11, 20)
    events: list[Envelope] = []
    for i, days in enumerate((40, 30, 60, 70)):
        events += [qualified(f"lead-{i}", f"deal-{i}", (close - timedelta(days)).isoformat())]
        events += [won(f"deal-{i}", close.isoformat(), 1000)]
    events += [qualified("lead-lost", "deal-lost", "2026-06-01"), lost("deal-lost", "2026-11-20")]
    events += [won("deal-unknown-start", "2026-11-20", 1000)]  # qualified before Salesledger
    kpis = report(events, ORG, "2026-11")
    assert kpis["sales_cycle_days"] == KpiValue(Decimal(50), "days", Decimal(200), Decimal(4))


# --- customers: revenue per sale, retention --------------------------------------------------


def test_revenue_per_sale_counts_new_deals_renewals_and_expansions_once_each() -> None:
    events = [
        won("deal-a", "2026-11-02", 10000, customer="cust-a"),
        won("deal-b", "2026-11-03", 30000, customer="cust-b"),
        won("deal-c", "2026-11-04", 20000, customer="cust-a"),  # an expansion tracked as a deal
        make(
            "CustomerExpanded",
            berlin("2026-11-04"),
            customer_id="cust-a",
            deal_id="deal-c",
            amount=eur(20000),
        ),
        make(
            "CustomerExpanded", berlin("2026-11-05"), customer_id="cust-b", deal_id="deal-x", amount=eur(8000)
        ),
        make("CustomerRenewed", berlin("2026-11-06"), customer_id="cust-a", deal_id=None, amount=eur(12000)),
    ]
    kpis = report(events, ADA, "2026-11")
    assert kpis["revenue_per_sale.EUR"] == KpiValue(
        Decimal(16000), "money", Decimal(80000), Decimal(5), "EUR"
    )
    assert value(kpis, "average_deal_size.EUR") == 20000
    assert (value(kpis, "renewals"), value(kpis, "expansions")) == (1, 1)
    assert (value(kpis, "renewal_revenue.EUR"), value(kpis, "expansion_revenue.EUR")) == (12000, 8000)


def test_retention_of_10_customers_with_2_lost_and_3_new_is_80_percent() -> None:
    events = [won(f"deal-{i}", "2026-08-10", 1000, customer=f"cust-{i}") for i in range(10)]
    events += [
        make("CustomerChurned", berlin("2026-10-15"), customer_id="cust-0", deal_ids=["deal-0"]),
        make("CustomerChurned", berlin("2026-11-15"), customer_id="cust-1", deal_ids=["deal-1"]),
    ]
    events += [won(f"deal-new-{i}", "2026-12-01", 1000, customer=f"cust-new-{i}") for i in range(3)]
    kpis = report(events, ORG, "2026-Q4")
    counts = {
        key: value(kpis, key)
        for key in ("customers_start", "customers_end", "new_customers", "customers_lost")
    }
    assert counts == {"customers_start": 10, "customers_end": 11, "new_customers": 3, "customers_lost": 2}
    assert kpis["retention_rate"] == KpiValue(Decimal(80), "percent", Decimal(8), Decimal(10))


def test_a_customer_won_back_in_the_period_is_new_not_retained() -> None:
    events = [
        won("deal-1", "2026-07-01", 1000, customer="cust-1"),
        won("deal-2", "2026-07-01", 1000, customer="cust-2"),
        make("CustomerChurned", berlin("2026-09-01"), customer_id="cust-1", deal_ids=["deal-1"]),
        won("deal-3", "2026-11-01", 1000, customer="cust-1"),
    ]
    kpis = report(events, ORG, "2026-Q4")
    assert (value(kpis, "customers_start"), value(kpis, "new_customers"), value(kpis, "retention_rate")) == (
        1,
        1,
        100,
    )


# --- objections ------------------------------------------------------------------------------


def test_objection_frequency_by_category_and_resolution_rate() -> None:
    raised = [("price", True), ("price", True), ("price", True), ("price", False)]
    raised += [("timing", False), ("timing", False), ("functionality", True)]
    events: list[Envelope] = []
    for i, (category, resolved) in enumerate(raised):
        objection = f"obj-{i}"
        events += [make("ObjectionRaised", berlin("2026-11-10"), objection_id=objection, category=category)]
        resolved_on = "2026-12-02" if i == 2 else "2026-11-20"  # resolved in a later month still counts
        events += [make("ObjectionResolved", berlin(resolved_on), objection_id=objection)] if resolved else []
    kpis = report(events, ADA, "2026-11")
    assert [value(kpis, f"objections.{c}") for c in ("price", "timing", "functionality", "other")] == [
        4,
        2,
        1,
        0,
    ]
    rates = [
        value(kpis, f"objection_resolution_rate.{c}") for c in ("price", "timing", "functionality", "other")
    ]
    assert rates == [75, 0, 100, None]
    assert kpis["objection_resolution_rate"] == KpiValue(
        Decimal("57.1429"), "percent", Decimal(4), Decimal(7)
    )


# --- quota and objectives --------------------------------------------------------------------


def quota(quota_id: str, assignee: str, assignee_id: str, amount: int, day: str = "2026-09-20") -> Envelope:
    return make(
        "QuotaAssigned",
        berlin(day),
        quota_id=quota_id,
        assignee=assignee,
        assignee_id=assignee_id,
        amount=eur(amount),
    )


def test_quota_attainment_of_ada_in_q4_is_her_credited_amount_over_her_quota() -> None:
    events = [
        won("deal-001", "2026-11-12", "112500.00", splits={"rep-ada": "70", "rep-sam": "30"}),
        won("deal-002", "2026-12-10", 221250),
        quota("quota-ada-2026q4", "rep", "rep-ada", 400000),
        quota("quota-emea-2026q4", "team", "team-emea", 500000),
    ]
    ada, team = report(events, ADA, "2026-Q4"), report(events, EMEA, "2026-Q4")
    assert value(ada, "credited_revenue.EUR") == 300000  # 78,750 + 221,250
    assert ada["quota_attainment.bookings.EUR"] == KpiValue(
        Decimal(75), "percent", Decimal("300000.0000"), Decimal(400000), "EUR"
    )
    assert value(team, "quota_attainment") == Decimal("66.75")  # 333,750 of 500,000
    assert "quota_attainment" not in report(events, ADA, "2026-11")  # a Q4 quota is attained over Q4


def test_zero_quota_gives_no_attainment() -> None:
    events = [won("deal-1", "2026-11-12", 1000, rep="rep-sam"), quota("quota-sam", "rep", "rep-sam", 0)]
    kpis = report(events, SAM, "2026-Q4")
    assert kpis["quota_attainment"] == KpiValue(None, "percent", Decimal(1000), Decimal(0), "EUR")


def test_a_revised_quota_counts_at_its_latest_amount_whatever_the_delivery_order() -> None:
    first = quota("quota-ada", "rep", "rep-ada", 400000, day="2026-09-20")
    revision = quota("quota-ada", "rep", "rep-ada", 300000, day="2026-10-05")
    events = [won("deal-1", "2026-11-12", 150000)]
    for order in ([first, revision], [revision, first]):
        assert value(report([*events, *order], ADA, "2026-Q4"), "quota_attainment") == 50


def test_a_win_counts_for_the_team_its_rep_was_in_on_the_day_of_the_win() -> None:
    def moving(rep_id: str, day: date) -> tuple[str | None, tuple[str, ...]]:
        if rep_id == "rep-lin":
            return ("team-emea" if day >= date(2026, 12, 1) else "team-apac"), ()
        return membership(rep_id, day)

    events = [
        won("deal-1", "2026-11-20", 50000, rep="rep-lin"),
        won("deal-2", "2026-12-05", 20000, rep="rep-lin"),
    ]
    book = fold(events, TZ)
    apac = kpi_report(book, Scope("team", "team-apac"), "2026-Q4", moving, PROCESS)
    emea = kpi_report(book, EMEA, "2026-Q4", moving, PROCESS)
    assert (value(apac, "credited_revenue.EUR"), value(emea, "credited_revenue.EUR")) == (50000, 20000)


def test_territory_scope_counts_every_rep_holding_the_territory() -> None:
    events = [won("deal-1", "2026-11-10", 1000), won("deal-2", "2026-11-10", 2000, rep="rep-sam")]
    dach = report(events, Scope("territory", "terr-dach"), "2026-11")
    nordics = report(events, Scope("territory", "terr-nordics"), "2026-11")
    assert (value(dach, "won_revenue.EUR"), value(nordics, "won_revenue.EUR")) == (3000, 2000)


def test_objective_attainment_of_a_30_percent_win_rate_target_at_25_percent_is_83_percent() -> None:
    events = [
        won("deal-1", "2026-10-10", 1000),
        *(lost(f"deal-lost-{i}", "2026-11-10", "rep-sam") for i in range(3)),
    ]
    events += [make("ObjectiveSet", berlin("2026-09-15"), scope_id="team-emea")]  # win rate 30 in Q4
    kpis = report(events, EMEA, "2026-Q4")
    assert kpis["objective_attainment.obj-2026q4-winrate-emea"] == KpiValue(
        Decimal("83.3333"), "percent", Decimal(25), Decimal(30), terms="percent"
    )  # actual and target are win rates: percentages themselves


def test_a_cycle_objective_of_30_days_met_in_40_days_is_75_percent_attained() -> None:
    objective = make(
        "ObjectiveSet",
        berlin("2026-09-15"),
        objective_id="obj-ada-cycle",
        scope="rep",
        scope_id="rep-ada",
        kpi="sales_cycle_days",
        target="30",
    )
    events = [qualified("lead-1", "deal-1", "2026-10-01"), won("deal-1", "2026-11-10", 1000), objective]
    kpis = report(events, ADA, "2026-Q4")  # lower is better: 30 / 40
    assert kpis["objective_attainment.obj-ada-cycle"] == KpiValue(
        Decimal(75), "percent", Decimal(30), Decimal(40), terms="days"
    )


def test_a_custom_period_is_asked_for_by_its_first_and_last_day() -> None:
    period = {"kind": "custom", "start": "2026-10-05", "end": "2026-11-01"}  # a 4-week fiscal month
    events = [
        won("deal-1", "2026-10-05", 1000),
        won("deal-2", "2026-11-02", 5000),
        make("QuotaAssigned", berlin("2026-09-20"), period=period, amount=eur(4000)),
    ]
    kpis = kpi_report(fold(events, TZ), ADA, (date(2026, 10, 5), date(2026, 11, 1)), membership, PROCESS)
    assert value(kpis, "quota_attainment") == 25


# --- forecast --------------------------------------------------------------------------------

TWO_STAGES = parse_process(
    """
name = "two-stages"
[[stages]]
name = "proposal"
probability = 0.5
[[stages]]
name = "commit"
probability = 1
[deal]
open_stage = "proposal"
won_from = ["commit"]
""",
    "two-stages.toml",
)


def test_forecast_weighs_three_100k_deals_expected_in_the_quarter_at_50_50_and_100_percent() -> None:
    events = [
        qualified(f"lead-{deal}", deal, "2026-10-01", decision_by=by, budget=100000)
        for deal, by in (("deal-1", "2026-11-30"), ("deal-2", "2026-12-15"), ("deal-3", "2026-12-20"))
    ]
    events += [moved("deal-3", "2026-10-20", "proposal", "commit")]
    events += [qualified("lead-4", "deal-4", "2026-10-01", decision_by="2027-01-20", budget=100000)]  # Q1
    events += [qualified("lead-5", "deal-5", "2026-10-01", budget=100000)]  # no decision date
    events += [
        qualified("lead-6", "deal-6", "2026-10-01", decision_by="2026-11-15"),
        won("deal-6", "2026-11-10", 40000),
    ]
    kpis = report(events, ORG, "2026-Q4", TWO_STAGES)
    forecast = {key: value(kpis, f"forecast_{key}.EUR") for key in ("weighted", "committed", "won")}
    assert forecast == {"weighted": 200000, "committed": 100000, "won": 40000}


def test_forecast_uses_the_latest_proposal_over_the_pitch_and_the_budget() -> None:
    events = [
        qualified("lead-1", "deal-1", "2026-10-01", decision_by="2026-12-01", budget=50000),
        make("SolutionPresented", berlin("2026-10-05"), deal_id="deal-1", proposed_amount=eur(90000)),
        make("ProposalSent", berlin("2026-10-09"), deal_id="deal-1", amount=eur(80000)),
    ]
    kpis = report(events, ORG, "2026-Q4", TWO_STAGES)
    assert value(kpis, "forecast_weighted.EUR") == 40000


# --- edge cases and the fold's algebra -------------------------------------------------------


def test_no_deals_gives_no_ratios_rather_than_zero() -> None:
    kpis = report([], ORG, "2026-Q4")
    undefined = (
        "win_rate",
        "sales_cycle_days",
        "lead_to_opportunity_rate",
        "retention_rate",
        "objection_resolution_rate",
    )
    assert [value(kpis, key) for key in undefined] == [None] * len(undefined)
    assert (value(kpis, "deals_won"), value(kpis, "calls")) == (0, 0)
    assert not [key for key in kpis if key.startswith(("average_deal_size", "quota", "forecast"))]


def test_a_late_event_updates_the_period_it_happened_in() -> None:
    book = fold([make("CallLogged", berlin("2026-10-28")), make("CallLogged", berlin("2026-11-03"))], TZ)
    late = [make("CallLogged", berlin("2026-10-30")), won("deal-late", "2026-10-31", 7000)]
    for event in late:  # arriving in November, after November's events
        for key, part in contributions(event, TZ):
            book = book.add(key, part)
    october, november = (
        kpi_report(book, ORG, period, membership, PROCESS) for period in ("2026-10", "2026-11")
    )
    assert (value(october, "calls"), value(october, "won_revenue.EUR")) == (2, 7000)
    assert (value(november, "calls"), value(november, "deals_won")) == (1, 0)


def test_partials_round_trip_through_their_stored_form() -> None:
    book = fold(story(), TZ)
    stored = {key: json.loads(json.dumps(encode_partial(part))) for key, part in book.partials.items()}
    assert {key: decode_partial(key, data) for key, data in stored.items()} == book.partials


def test_evolve_folds_one_event_into_the_partial_of_one_key() -> None:
    qualification = qualified("lead-1", "deal-1", "2026-10-01")
    lead = evolve(None, "lead|lead-1", qualification, TZ)
    deal = evolve(None, "deal|deal-1", qualification, TZ)
    assert lead is not None and deal is not None and lead != deal
    assert evolve(deal, "deal|deal-1", qualification, TZ) == deal  # a timeline holds an event once
    assert evolve(None, "deal|deal-2", qualification, TZ) is None


# The whole catalogue's story plus a bit of everything, for the properties below.
def story() -> list[Envelope]:
    documents = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(SAMPLES.glob("*.json"))]
    return [parse_document(document) for document in documents]


REPS = ("rep-ada", "rep-sam", "rep-lin")
DEALS = ("deal-1", "deal-2", "deal-3")
STAGES = ("qualified", "needs_assessed", "solution_presented", "closing")


def _event(kind: int, i: int, at: datetime, rep: str, other: str, deal: str, amount: int) -> Envelope:
    when = at.isoformat()
    builders = [
        lambda: make("CallLogged", when, rep_id=rep, duration_seconds=amount % 600),
        lambda: make("LeadCaptured", when, lead_id=f"lead-{amount % 4}", rep_id=rep),
        lambda: make("LeadQualified", when, lead_id=f"lead-{amount % 4}", deal_id=deal, rep_id=rep),
        lambda: make("NeedsAssessed", when, deal_id=deal, rep_id=rep),
        lambda: make("SolutionPresented", when, deal_id=deal, rep_id=rep, proposed_amount=eur(amount)),
        lambda: make("ObjectionRaised", when, deal_id=deal, rep_id=rep, objection_id=f"obj-{amount % 3}"),
        lambda: make("ObjectionResolved", when, deal_id=deal, rep_id=rep, objection_id=f"obj-{amount % 3}"),
        lambda: make(
            "DealStageChanged", when, deal_id=deal, rep_id=rep, from_stage=None, to_stage=STAGES[amount % 4]
        ),
        lambda: make(
            "DealWon",
            when,
            deal_id=deal,
            rep_id=rep,
            customer_id=f"cust-{amount % 2}",
            amount=eur(amount),
            credit_splits=[{"rep_id": rep, "share_percent": "50"}, {"rep_id": other, "share_percent": "50"}]
            if rep != other
            else [{"rep_id": rep, "share_percent": "100"}],
        ),
        lambda: make("DealLost", when, deal_id=deal, rep_id=rep),
        lambda: make("CustomerChurned", when, customer_id=f"cust-{amount % 2}", deal_ids=[]),
        lambda: make(
            "CustomerRenewed", when, customer_id=f"cust-{amount % 2}", rep_id=rep, amount=eur(amount)
        ),
        lambda: make("QuotaAssigned", when, assignee_id=rep, amount=eur(amount)),
        lambda: make("ObjectiveSet", when, scope="rep", scope_id=rep, kpi="calls", target=str(amount % 50)),
    ]
    event = builders[kind % len(builders)]()
    return event.model_copy(update={"id": f"evt-prop-{i}"})


@st.composite
def histories(draw: st.DrawFn) -> list[Envelope]:
    specs = draw(
        st.lists(
            st.tuples(
                st.integers(0, 13),
                st.datetimes(
                    datetime(2026, 9, 20), datetime(2027, 1, 10), timezones=st.just(ZoneInfo("UTC"))
                ),
                st.sampled_from(REPS),
                st.sampled_from(REPS),
                st.sampled_from(DEALS),
                st.integers(1, 200000),
            ),
            min_size=3,
            max_size=30,
        )
    )
    return [
        _event(kind, i, at, rep, other, deal, amount)
        for i, (kind, at, rep, other, deal, amount) in enumerate(specs)
    ]


def reports(book: KpiBook) -> list[dict[str, KpiValue]]:
    asks = [(ORG, "2026-Q4"), (EMEA, "2026-11"), (ADA, "2026-Q4"), (Scope("team", "team-apac"), "2026-W45")]
    return [kpi_report(book, scope, period, membership, PROCESS) for scope, period in asks]


@settings(max_examples=60, deadline=None)
@given(histories(), st.randoms(use_true_random=False))
def test_permuting_events_does_not_change_any_kpi(history: list[Envelope], random: Any) -> None:
    shuffled = history[:]
    random.shuffle(shuffled)
    assert reports(fold(shuffled, TZ)) == reports(fold(history, TZ))


@settings(max_examples=60, deadline=None)
@given(histories(), st.lists(st.integers(0, 3), min_size=30, max_size=30))
def test_partials_per_partition_merge_to_the_fold_of_the_whole_history(
    history: list[Envelope], partitions: list[int]
) -> None:
    kpis = next(m for m in read_models(PROCESS, TZ) if m.name == "kpis")
    routed = list(zip(history, partitions, strict=False))
    partials = delivered_twice(routed, kpis)  # the projector's own code, every event delivered twice
    merged = merge_partials(((key, state) for key, state in partials if state), TZ)
    assert merged == fold(history, TZ)
    assert reports(merged) == reports(fold(history, TZ))


def test_every_worked_example_in_docs_kpis_is_a_test_here() -> None:
    docs = (ROOT / "docs" / "kpis.md").read_text(encoding="utf-8")
    named = set(re.findall(r"test_kpis\.py::(test_\w+)", docs))
    assert named, "docs/kpis.md names no example of tests/unit/test_kpis.py"
    assert named <= {name for name in globals() if name.startswith("test_")}
