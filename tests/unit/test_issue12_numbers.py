"""Issue 12, "one consistent API": one rule for every number a query answers (docs/api.md, "Numbers").

Counts are integers; ratios 4-place fractions (never percent); money at its currency's ISO 4217
scale; durations whole seconds in ``*_seconds`` fields. The whole-story tests ask every query
endpoint about a simulated quarter (in EUR, and again in JPY, whose yen have no minor unit) and
check every field of every answer by its name and kind.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import pycountry
import pytest
from iso4217 import Currency

from events import Envelope, parse_event, serialize_event
from projections import numbers
from projections.incentives.amounts import quantum_of
from projections.kpi_scope import KpiValue, money, ratio
from services.queries import answers, drilldown, handlers, kpi_answers, statements, what_if
from services.queries.statement_answers import plan_statement_body
from services.web.routes import Call
from services.writemodel.history import AggregateHistory
from tests.samples import sample_event
from tests.unit.test_query_handlers import PROCESS, TZ, FoldedReadSide
from tests.unit.test_what_if import PROPOSAL

ROOT = Path(__file__).resolve().parents[2]
RATIO = re.compile(r"^-?[0-9]+\.[0-9]{4}$")
RATE = re.compile(r"^[0-9]+\.[0-9]{4,}$")
PLAIN_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$")
RECORDED = datetime(2026, 6, 1, tzinfo=UTC)
APPROVED = datetime(2026, 4, 2, tzinfo=UTC)  # before the story is recorded: every line is late
PERIOD = "2026-Q1"

RATIO_KEYS = frozenset({"conversion", "from_leads", "lead_to_qualified", "lead_to_won", "attainment"})
RATE_KEYS = frozenset({"rate", "share"})
MONEY_KEYS = frozenset(
    {
        "value",
        "weighted_value",
        "base",
        "earning",
        "total",
        "credited",
        "draw_balance",
        "amount",
        "deal_amount",
        "approved",
        "now",
        "current",
        "proposed",
        "current_total",
        "proposed_total",
    }
)
TOTALS_KEYS = frozenset({"totals", "totals_difference"})
COUNT_KEYS = frozenset(
    {
        "count",
        "stuck",
        "entered",
        "advanced",
        "skipped",
        "regressed",
        "lost",
        "leads",
        "qualified",
        "disqualified",
        "won",
        "reopened",
        "calls",
        "connected_calls",
        "leads_captured",
        "partitions_covered",
        "partitions_total",
        "plan_version",
    }
)
RECORDS = frozenset({"history", "recorded_state", "event"})
"""The record as stored (events as published, the write model's state): not answers of ours."""
KPI_UNITS = frozenset({"count", "ratio", "money", "seconds"})


# --- the story ------------------------------------------------------------------------------------


def story(currency: str) -> list[Envelope]:
    """A simulated quarter in ``currency``, with a payout approved early (so the quarter restates)
    and a deduction for one rep."""
    from services.simulator import simulate_envelopes

    mean = 3_000_000 if currency == "JPY" else 25_000
    simulated = simulate_envelopes(
        21, reps=6, leads=90, start=date(2026, 1, 5), weeks=12, mean_deal=mean, currency=currency
    )
    quarter = {"kind": "quarter", "start": "2026-01-01", "end": "2026-03-31"}
    approval = sample_event(
        "PayoutApproved",
        "2026-04-01T09:00:00+00:00",
        "evt-approve-q1",
        rep_id="rep-003",
        period=quarter,
        amount={"amount": "0", "currency": currency},
    )
    deduction = sample_event(
        "CommissionAdjusted",
        "2026-03-30T09:00:00+00:00",
        "evt-adjust-q1",
        rep_id="rep-003",
        period=quarter,
        amount={"amount": "125.5" if currency != "JPY" else "12550", "currency": currency},
        direction="deduct",
        deal_id=None,
    )
    events = [parse_event(serialize_event(e.recorded(RECORDED))) for e in simulated]
    events += [parse_event(serialize_event(deduction.recorded(RECORDED)))]
    return [*events, parse_event(serialize_event(approval.recorded(APPROVED)))]


class NoHistories:
    """An event store that has recorded nothing: drill-down answers the read models' states."""

    def history(self, kind: str, key: str) -> AggregateHistory | None:
        return None

    def history_of_event(self, source: str, event_id: str) -> AggregateHistory | None:
        return None


def ask(handler: Any, on: Any, path: dict[str, str] | None = None, body: bytes = b"", **query: str) -> Any:
    reply = asyncio.run(handler(on, Call(path=path or {}, query=query, body=body)))
    assert reply.status == 200, (handler.__name__, reply.encoded()[:300])
    return json.loads(reply.encoded())


def paid_rep(payouts: dict[str, Any]) -> str:
    """A rep the quarter pays, other than rep-003 (whose quarter was approved before any fact)."""
    return next(one["rep_id"] for one in payouts["payouts"] if one["totals"] and one["rep_id"] != "rep-003")


@cache
def answers_of_a_whole_story(currency: str) -> dict[str, Any]:
    """The body of every query endpoint over the story, by endpoint."""
    queries = handlers.Queries(FoldedReadSide(story(currency)), PROCESS, TZ)
    drill = drilldown.Drilldown(queries, NoHistories())
    as_of = "2026-03-31T18:00:00+00:00"
    payouts = ask(statements.payout_list, queries, period=PERIOD)
    rep = paid_rep(payouts)
    deals = ask(drilldown.list_deals, drill, limit="1000")
    leads = ask(drilldown.list_leads, drill, limit="1000")
    proposal = {**PROPOSAL, "currency": currency}
    bodies: dict[str, Any] = {
        "reps/activity": ask(handlers.all_reps_activity, queries),
        "reps/{rep_id}/activity": ask(handlers.rep_activity, queries, {"rep_id": rep}),
        "funnel": ask(handlers.funnel, queries),
        "funnel?as_of": ask(handlers.funnel, queries, as_of=as_of),
        "kpis?scope=org": ask(handlers.kpis, queries, scope="org", period=PERIOD),
        "kpis?scope=rep": ask(handlers.kpis, queries, scope="rep", id=rep, period=PERIOD),
        "forecast": ask(handlers.forecast, queries, scope="org", period=PERIOD),
        "payouts": payouts,
        "statements": ask(statements.statement, queries, {"rep_id": rep, "period": PERIOD}),
        "statements (approved)": ask(statements.statement, queries, {"rep_id": "rep-003", "period": PERIOD}),
        "statements/restated": ask(
            statements.restated_statement, queries, {"rep_id": "rep-003", "period": PERIOD}
        ),
        "what-if": ask(
            what_if.what_if, queries, body=json.dumps({"period": PERIOD, "plan": proposal}).encode()
        ),
        "deals": deals,
        "deals/{deal_id}": ask(drilldown.deal, drill, {"deal_id": deals["deals"][0]["deal_id"]}),
        "leads": leads,
        "leads/{lead_id}": ask(drilldown.lead, drill, {"lead_id": leads["leads"][0]["lead_id"]}),
    }
    for group_by in ("stage", "rep", "team", "territory"):
        bodies[f"pipeline?group_by={group_by}"] = ask(handlers.pipeline, queries, group_by=group_by)
        bodies[f"pipeline?as_of&group_by={group_by}"] = ask(
            handlers.pipeline, queries, group_by=group_by, as_of=as_of, stuck_after_days="7"
        )
    for kpi in ("win_rate", "calls", f"won_revenue.{currency}", "sales_cycle_seconds", "talk_seconds"):
        bodies[f"leaderboards?kpi={kpi}"] = ask(handlers.leaderboard, queries, kpi=kpi, period=PERIOD)
    return bodies


# --- the checker ------------------------------------------------------------------------------


def money_places(text: str) -> int:
    return len(text.partition(".")[2])


def broken_rules(node: Any, where: str, currency: str | None, seen: dict[str, int]) -> Iterator[str]:
    """Every field of ``node`` that breaks the rule, as ``where: why``; ``seen`` counts each kind."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from broken_rules(item, f"{where}[{index}]", currency, seen)
        return
    if not isinstance(node, dict):
        return
    if "currency" in node:  # the scale of the amounts in and under this object
        currency = node["currency"]
    if "unit" in node and "value" in node:  # a KPI value, or a leaderboard row
        yield from kpi_rules(node, where, seen)
        return
    for key, value in node.items():
        at = f"{where}.{key}"
        if key in RECORDS or key == "explanation":
            continue
        if key in TOTALS_KEYS:
            for code, amount in value.items():
                seen["money"] += 1
                if money_places(amount) != numbers.minor_units(code) or not PLAIN_NUMBER.match(amount):
                    yield f"{at}.{code}: {amount!r} is not at {code}'s scale"
        elif isinstance(value, dict | list):
            yield from broken_rules(value, at, currency, seen)
        elif isinstance(value, float):
            yield f"{at}: a float ({value!r}); counts and seconds are integers, the rest strings"
        elif key.endswith("_seconds"):
            seen["seconds"] += 1
            if not (value is None or type(value) is int):
                yield f"{at}: a duration is whole seconds, not {value!r}"
        elif key in COUNT_KEYS:
            seen["count"] += 1
            if type(value) is not int:
                yield f"{at}: a count is an integer, not {value!r}"
        elif key in RATIO_KEYS:
            seen["ratio"] += 1
            if not (value is None or (isinstance(value, str) and RATIO.match(value))):
                yield f"{at}: a ratio is a 4-place fraction, not {value!r}"
        elif key in RATE_KEYS:
            seen["rate"] += 1
            if not (value is None or (isinstance(value, str) and RATE.match(value))):
                yield f"{at}: a rate is an exact fraction of at least 4 places, not {value!r}"
        elif key in MONEY_KEYS and isinstance(value, str):
            seen["money"] += 1
            if not PLAIN_NUMBER.match(value) or money_places(value) != numbers.minor_units(currency):
                yield f"{at}: {value!r} is not at the scale of {currency}"
        elif isinstance(value, str) and PLAIN_NUMBER.match(value):
            yield f"{at}: {value!r} is a number no rule names"


def kpi_rules(kpi: dict[str, Any], where: str, seen: dict[str, int]) -> Iterator[str]:
    unit, value, currency = kpi.get("unit"), kpi["value"], kpi.get("currency")
    if unit is None and value is None:
        return
    if unit not in KPI_UNITS:
        yield f"{where}.unit: {unit!r} is not one of {sorted(KPI_UNITS)}"
    seen[f"kpi {unit}"] += 1
    for name in ("value", "numerator", "denominator"):
        term = kpi.get(name)
        if term is None:
            continue
        if name == "value" and unit in ("count", "seconds"):
            ok = type(term) is int
        elif name == "value" and unit == "ratio":
            ok = isinstance(term, str) and bool(RATIO.match(term))
        elif name == "value" and unit == "money":
            ok = isinstance(term, str) and money_places(term) == numbers.minor_units(currency)
        else:  # a term is a count or seconds, money at the currency's scale, or a ratio (objectives)
            ok = type(term) is int or (
                isinstance(term, str)
                and bool(PLAIN_NUMBER.match(term))
                and money_places(term) in (numbers.minor_units(currency), numbers.RATIO_PLACES)
            )
        if not ok:
            yield f"{where}.{name}: {term!r} breaks the rule for a {unit} KPI"


# --- the whole story ----------------------------------------------------------------------------


@pytest.mark.parametrize("currency", ["EUR", "JPY"])
def test_issue_12_one_number_format_in_every_answer_of_a_whole_sales_story(currency: str) -> None:
    seen: dict[str, int] = dict.fromkeys(
        ("count", "ratio", "rate", "money", "seconds", "kpi count", "kpi ratio", "kpi money", "kpi seconds"),
        0,
    )
    bodies = answers_of_a_whole_story(currency)
    broken = [rule for name, body in bodies.items() for rule in broken_rules(body, name, None, seen)]
    assert broken == []
    assert all(seen.values()), f"every kind of number is answered somewhere in the story: {seen}"


def test_issue_12_one_number_format_kpis_answer_ratios_as_fractions_and_durations_in_seconds() -> None:
    kpis = answers_of_a_whole_story("EUR")["kpis?scope=org"]["kpis"]
    assert {"sales_cycle_seconds", "research_seconds"} <= kpis.keys()
    assert not {"sales_cycle_days", "research_minutes"} & kpis.keys()
    win = kpis["win_rate"]
    assert win["unit"] == "ratio"
    assert win["value"] == numbers.ratio(Fraction(win["numerator"], win["denominator"]))
    cycle = kpis["sales_cycle_seconds"]
    assert cycle["unit"] == "seconds" and cycle["numerator"] % 86_400 == 0  # whole local days
    assert cycle["value"] == numbers.seconds(Fraction(cycle["numerator"], cycle["denominator"]))
    assert all(value["unit"] in KPI_UNITS for value in kpis.values())


def test_issue_12_one_number_format_yen_have_no_minor_unit_anywhere() -> None:
    bodies = answers_of_a_whole_story("JPY")
    assert bodies["statements"]["statements"][0]["lines"], "a paid quarter has lines"
    rows = [row for name, body in bodies.items() if name.startswith("pipeline") for row in body["rows"]]
    priced = [row for row in rows if row["currency"] == "JPY"]
    assert priced and all("." not in row["value"] + row["weighted_value"] for row in priced)
    totals = [one["totals"]["JPY"] for one in bodies["payouts"]["payouts"] if one["totals"]]
    assert totals and all(re.fullmatch(r"-?[0-9]+", total) for total in totals)


def test_issue_12_one_number_format_a_restated_quarter_writes_differences_at_the_currency_scale() -> None:
    restated = answers_of_a_whole_story("EUR")["statements/restated"]
    assert restated["approval"] is not None and restated["differences"], "approved before it was recorded"
    assert all(money_places(d["now"]) == 2 == money_places(d["approved"]) for d in restated["differences"])
    assert restated["now"]["adjustments"] or any(
        line["kind"] == "adjustment" for one in restated["now"]["statements"] for line in one["lines"]
    ), "the deduction is in the quarter"


# --- the rule, unit by unit -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (Fraction(2, 9), "0.2222"),
        (Decimal("0.2222222222222222222222222222"), "0.2222"),
        (Decimal("0.22225"), "0.2222"),  # half to even
        (Decimal("0.22235"), "0.2224"),
        (1, "1.0000"),
        (Decimal("0"), "0.0000"),
        (Decimal("-0.00001"), "0.0000"),  # never "-0.0000"
        (Decimal("1E+1"), "10.0000"),  # never an exponent
    ],
)
def test_a_ratio_is_a_fraction_with_exactly_four_places_rounded_half_even(value: Any, written: str) -> None:
    assert numbers.ratio(value) == written


def test_a_ratio_over_nothing_is_null_not_zero() -> None:
    assert numbers.ratio_of(0, 0) is None and numbers.ratio_of(0, 5) == "0.0000"
    assert numbers.ratio_of(50, 200) == "0.2500" and numbers.percent_as_ratio(Decimal(25)) == "0.2500"


@pytest.mark.parametrize(
    ("percent", "written"),
    [
        ("2.5", "0.0250"),
        ("0.125", "0.00125"),
        ("100", "1.0000"),
        ("0.0001", "0.000001"),
        ("0.8333325", "0.008333325"),
    ],
)
def test_a_rate_a_plan_sets_is_an_exact_fraction_never_rounded(percent: str, written: str) -> None:
    assert numbers.rate(Decimal(percent)) == written


@pytest.mark.parametrize(
    ("amount", "currency", "written"),
    [
        ("24000", "EUR", "24000.00"),
        ("0.040", "EUR", "0.04"),
        ("4000.0000", "EUR", "4000.00"),
        ("0.125", "EUR", "0.12"),  # half to even
        ("0.135", "EUR", "0.14"),
        ("24000.5", "JPY", "24000"),
        ("24001.5", "JPY", "24002"),
        ("1.0005", "KWD", "1.000"),
        ("1.23456", "CLF", "1.2346"),
        ("12.5", "XAU", "12.50"),  # ISO gives gold no minor unit: 2 places, as the engine rounds it
        ("0", None, "0.00"),  # a pipeline row of deals not priced yet
        ("-0.001", "EUR", "0.00"),
        ("1E+3", "EUR", "1000.00"),
        ("123456789012345678.9999", "EUR", "123456789012345679.00"),
    ],
)
def test_money_is_written_at_its_currencys_minor_unit_scale(
    amount: str, currency: str | None, written: str
) -> None:
    assert numbers.money(Decimal(amount), currency) == written


def test_every_currency_the_gate_accepts_has_its_iso_4217_scale() -> None:
    """The gate checks codes with pycountry; the scale comes from the iso4217 package: every code
    of one is in the other, and each is written at ISO's own exponent (2 where ISO gives none)."""
    codes = {currency.alpha_3 for currency in pycountry.currencies}
    exponents = {currency.code: currency.exponent for currency in Currency}
    assert codes <= exponents.keys(), sorted(codes - exponents.keys())
    for code in sorted(codes):
        expected = 2 if exponents[code] is None else exponents[code]
        assert numbers.minor_units(code) == expected, code
        assert money_places(numbers.money(Decimal("1234.56789"), code)) == expected, code
        assert quantum_of(code) == numbers.quantum(code), f"{code}: the engine and the API share one table"
    known = ("EUR", "USD", "JPY", "KRW", "KWD", "BHD", "CLF")
    assert {code: numbers.minor_units(code) for code in known} == {
        "EUR": 2, "USD": 2, "JPY": 0, "KRW": 0, "KWD": 3, "BHD": 3, "CLF": 4,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("duration", "written"),
    [
        (timedelta(days=1), 86_400),
        (timedelta(seconds=2, microseconds=500_000), 2),  # half to even
        (timedelta(seconds=3, microseconds=500_000), 4),
        (timedelta(seconds=3, microseconds=499_999), 3),
        (Decimal("627764.4"), 627_764),
    ],
)
def test_a_duration_is_whole_seconds_rounded_half_even(duration: Any, written: int) -> None:
    assert numbers.seconds(duration) == written and type(numbers.seconds(duration)) is int


def test_a_count_is_an_integer_and_a_fractional_count_is_a_bug() -> None:
    assert numbers.count(Decimal("162")) == 162
    with pytest.raises(ValueError, match="whole number"):
        numbers.count(Decimal("1.5"))


# --- docs/kpis.md: the answered forms of its worked examples -------------------------------------


def test_the_kpi_examples_of_docs_kpis_are_answered_as_docs_kpis_writes_them() -> None:
    """Each example's report value (tests/unit/test_kpis.py checks those) as the API writes it."""
    win_rate = ratio(45, 180)
    assert kpi_answers.kpi_answer(win_rate) == {
        "value": "0.2500", "unit": "ratio", "numerator": 45, "denominator": 180, "currency": None,
    }  # fmt: skip
    assert kpi_answers.kpi_answer(ratio(4, 7))["value"] == "0.5714"
    team = kpi_answers.kpi_answer(ratio(Decimal("333750.00"), Decimal(500_000), currency="EUR"))
    assert (team["value"], team["numerator"], team["denominator"]) == ("0.6675", "333750.00", "500000.00")
    objective = kpi_answers.kpi_answer(replace(ratio(Decimal("25.0000"), Decimal(30)), terms="percent"))
    assert (objective["value"], objective["numerator"], objective["denominator"]) == (
        "0.8333", "0.2500", "0.3000",
    )  # fmt: skip
    cycle = kpi_answers.kpi_answer(ratio(200, 4, "days"))
    assert (cycle["value"], cycle["unit"], cycle["numerator"], cycle["denominator"]) == (
        4_320_000, "seconds", 17_280_000, 4,
    )  # fmt: skip
    assert kpi_answers.kpi_answer(KpiValue(Decimal(120), "minutes"))["value"] == 7200
    assert kpi_answers.kpi_answer(money(Decimal("200000"), "EUR"))["value"] == "200000.00"
    assert kpi_answers.api_kpi_name("sales_cycle_days") == "sales_cycle_seconds"
    assert kpi_answers.api_kpi_name("research_minutes") == "research_seconds"
    docs = (ROOT / "docs" / "kpis.md").read_text(encoding="utf-8")
    for written in ('"value": "0.2500", "numerator": 45', '"0.5714"', '"0.6675"', '"0.8333"', "4320000"):
        assert written in docs, written
    assert '"research_seconds": 7200' in docs and '"lead_to_won": "0.2500"' in docs


def test_the_funnel_example_of_docs_kpis_is_answered_as_its_table_shows() -> None:
    from tests.unit.test_funnel import report as funnel_report
    from tests.unit.test_funnel import worked_example_history

    body = answers.funnel_body(funnel_report(worked_example_history()))
    table = {row["stage"]: (row["conversion"], row["from_leads"]) for row in body["rows"]}
    docs = (ROOT / "docs" / "kpis.md").read_text(encoding="utf-8")
    for stage, (conversion, from_leads) in table.items():
        shown = "`null`" if conversion is None else f'`"{conversion}"`'
        assert f"| {stage} |" in docs and f'| {shown} | `"{from_leads}"` |' in docs, stage
    assert (body["lead_to_qualified"], body["lead_to_won"]) == ("0.5000", "0.2500")


def test_the_weighted_pipeline_example_of_docs_kpis_is_answered_in_cents() -> None:
    from tests.unit.test_pipeline import weighted_example_rows

    by_stage = {row["group"]: row for row in map(answers.pipeline_row, weighted_example_rows())}
    assert (by_stage["proposal"]["count"], by_stage["proposal"]["value"]) == (2, "200000.00")
    assert by_stage["proposal"]["weighted_value"] == "100000.00" == by_stage["commit"]["weighted_value"]


# --- names: leaderboards rank by the answered names ----------------------------------------------


def test_leaderboards_rank_by_sales_cycle_seconds_and_refuse_the_report_name_in_days() -> None:
    queries = handlers.Queries(FoldedReadSide(story("EUR")), PROCESS, TZ)
    body = ask(handlers.leaderboard, queries, kpi="sales_cycle_seconds", period=PERIOD)
    assert body["kpi"] == "sales_cycle_seconds"
    assert any(type(row["value"]) is int for row in body["ranking"])
    reply = asyncio.run(handlers.leaderboard(queries, Call(query={"kpi": "sales_cycle_days"})))
    refused = json.loads(reply.encoded())
    assert reply.status == 400 and refused["reason"] == "bad_query"
    assert "sales_cycle_seconds" in refused["message"] and "sales_cycle_days," not in refused["message"]


def test_a_statement_in_csv_writes_rates_as_fractions_and_amounts_in_cents() -> None:
    queries = handlers.Queries(FoldedReadSide(story("EUR")), PROCESS, TZ)
    path = {"rep_id": paid_rep(answers_of_a_whole_story("EUR")["payouts"]), "period": PERIOD}
    reply = asyncio.run(statements.statement(queries, Call(path=path, query={"format": "csv"})))
    rows = list(csv.DictReader(io.StringIO(reply.encoded().decode())))
    assert rows and "rate" in rows[0] and "rate_percent" not in rows[0]
    for row in rows:
        assert row["rate"] == "" or RATE.match(row["rate"]), row
        assert money_places(row["base"]) == 2 == money_places(row["earning"]), row


def test_the_incentive_examples_of_docs_incentives_are_answered_as_docs_incentives_writes_them() -> None:
    """2,050 on 30,000 over 5/7/10 % tiers, and 150 % attainment of a 100,000 quota, as answered."""
    from tests.unit.test_incentives import MARGINAL, ON_QUOTA, credit, eur, plan, rated

    tiers = plan_statement_body(rated([credit("deal-1", 30000)], plan(MARGINAL)))
    assert tiers["total"] == "2050.00"
    assert [(line["rate"], line["base"], line["earning"]) for line in tiers["lines"]] == [
        ("0.0500", "10000.00", "500.00"),
        ("0.0700", "15000.00", "1050.00"),
        ("0.1000", "5000.00", "500.00"),
    ]
    quota = plan_statement_body(
        rated([credit("deal-1", 60000), credit("deal-2", 90000)], plan(ON_QUOTA), eur(100000))
    )
    assert (quota["total"], quota["attainment"]) == ("8250.00", "1.5000")
    docs = (ROOT / "docs" / "incentives.md").read_text(encoding="utf-8")
    assert '`"2050.00"` EUR' in docs and '5 % is `"0.0500"`' in docs and '150 % is `"1.5000"`' in docs
