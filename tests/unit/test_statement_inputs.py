"""What statements read from the other read models: the rep's team for SPIFFs, KPIs for bonuses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from events import Envelope
from projections import kpi_fold, org
from projections.incentives import ledger
from projections.incentives.books import rep_statement
from projections.incentives.context import Context
from projections.incentives.facts import book_of
from projections.incentives.readings import CHEAP_PARTS, bonus_report, kpi_readings
from projections.kpi_scope import Scope
from projections.kpis import kpi_report, prepare, prepare_for_rep, report_of
from sales.process import load_process
from services.queries.answers import membership_of
from services.simulator import simulate_envelopes
from tests.samples import money, sample_event
from tests.unit.test_incentive_statements import TZ, assigned, marginal, plan, won

SPIFF = {"kind": "spiff", "rule_id": "connector-push", "spiff_id": "spiff-emea"}
BONUS = {
    "kind": "kpi_bonus",
    "rule_id": "two-wins",
    "kpi": "deals_won",
    "threshold": "2",
    "bonus": "1000.00",
}


def history(*rules: dict[str, Any]) -> list[Envelope]:
    return [
        sample_event("RepOnboarded", "2026-01-05T09:00:00Z", "on-ada", rep_id="rep-ada", team_id="team-emea"),
        plan(1, "2026-01-01", None, marginal("base", ("0", "10")), *rules),
        assigned("rep-ada"),
        sample_event(
            "SpiffAnnounced",
            "2026-07-01T09:00:00Z",
            "spiff-emea",
            spiff_id="spiff-emea",
            amount_per_deal=money("250.00"),
            window={"kind": "quarter", "start": "2026-07-01", "end": "2026-09-30"},
            products=[],
            min_deal_amount=None,
            team_ids=["team-emea"],
        ),
        won("deal-1", "1000.00", "2026-08-03T10:00:00Z"),
        won("deal-2", "1000.00", "2026-08-04T10:00:00Z"),
    ]


def statement(events: list[Envelope], **inputs: Any) -> Any:
    return rep_statement(book_of(ledger.fold(events), TZ), "rep-ada", "2026-Q3", **inputs)


def test_a_team_limited_spiff_pays_when_the_reps_team_on_the_day_credited_is_eligible() -> None:
    events = history(SPIFF)
    state = org.fold(events)
    paid = statement(events, context=Context(state))
    assert paid.totals() == {"EUR": Decimal("700.00")}  # 200 commission + 2 x 250
    assert statement(events).totals() == {"EUR": Decimal("200.00")}  # no team known: not eligible


def test_a_kpi_bonus_reads_the_reps_kpi_report_for_the_period() -> None:
    events = history(BONUS)
    book, state = kpi_fold.fold(events, TZ), org.fold(events)

    def reports(rep: str, period: str, wanted: frozenset[str]) -> Any:
        assert (rep, period, wanted) == ("rep-ada", "2026-Q3", {"deals_won"})  # only what bonuses read
        return kpi_report(book, Scope("rep", rep), period, membership_of(state), load_process(None))

    assert statement(events, context=Context(state, reports)).totals() == {"EUR": Decimal("1200.00")}
    assert statement(events).totals() == {"EUR": Decimal("200.00")}  # no report: an explained zero


def test_the_part_of_the_report_a_bonus_reads_equals_the_whole_reports_values() -> None:
    events = [
        *history(BONUS),
        sample_event("CallLogged", "2026-08-05T10:00:00Z", "call-1", rep_id="rep-ada", lead_id="lead-x"),
    ]
    book, state = kpi_fold.fold(events, TZ), org.fold(events)
    prepared = prepare(book, load_process(None))
    scope, members = Scope("rep", "rep-ada"), membership_of(state)
    whole = report_of(prepared, scope, "2026-Q3", members)
    for kpi in CHEAP_PARTS:
        part = bonus_report(prepared, scope, "2026-Q3", members, {kpi})
        assert kpi_readings(part, "EUR").get(kpi) == kpi_readings(whole, "EUR").get(kpi), kpi
    assert kpi_readings(whole, "EUR")["deals_won"].value == 2


def test_a_report_over_the_reps_own_deals_equals_the_report_over_every_deal() -> None:
    events = list(simulate_envelopes(7, reps=12, leads=600, start=date(2026, 1, 5), weeks=12))
    book, state, process = kpi_fold.fold(events, TZ), org.fold(events), load_process(None)
    everything = prepare(book, process)
    reps = sorted({rep for rep, _, _ in book.activity()})
    assert len(reps) >= 8
    for rep in reps:
        scope = Scope("rep", rep)
        own = prepare_for_rep(book, process, rep)
        assert len(own.paths) < len(everything.paths)
        for period in ("2026-Q1", "2026-02"):
            assert report_of(own, scope, period, membership_of(state)) == report_of(
                everything, scope, period, membership_of(state)
            ), (rep, period)
