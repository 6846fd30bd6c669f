"""The pipeline and funnel as they stood at an event time, rebuilt from the KPI timelines
(`projections.pipeline_as_of`, `projections.funnel_as_of`; docs/audit.md, "What was known when").

The key property: over histories whose events arrive in time order, the as-of answers equal the
live folds of the events that had happened by then, deal view for deal view and track for track.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache
from typing import Any

import pytest
from hypothesis import given

from events import parse_event
from events.envelope import Envelope
from events.money import Money
from events.parse import serialize_event
from projections import funnel, kpi_fold, org, pipeline
from projections.funnel_as_of import tracks_as_of
from projections.pipeline_as_of import deal_views_as_of, lead_parts_as_of
from sales import ProcessConfig
from services.queries import handlers
from services.simulator import simulate_envelopes
from services.web.routes import Call, Reply
from tests import golden
from tests.unit.test_pipeline import PROPERTY, START, at, opened, priced, process_and_history
from tests.unit.test_process_story import DEFAULT, Ledger, make
from tests.unit.test_query_handlers import HISTORY, PROCESS, TZ, FoldedReadSide

FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)


@cache
def simulated(seed: int) -> tuple[Envelope, ...]:
    return tuple(simulate_envelopes(seed, reps=8, leads=250, start=date(2026, 1, 5), weeks=30))


@cache
def golden_log() -> tuple[Envelope, ...]:
    return tuple(parse_event(record.value) for record in golden.read_log())


def live_views(events: Sequence[Envelope], process: ProcessConfig = DEFAULT) -> dict[str, pipeline.DealView]:
    return pipeline.deal_views(pipeline.fold(events, process).values(), process)


def live_leads(events: Sequence[Envelope], process: ProcessConfig = DEFAULT) -> dict[str, pipeline.LeadPart]:
    parts = pipeline.fold(events, process).values()
    return {p.lead_id: p for p in sorted(parts, key=repr) if isinstance(p, pipeline.LeadPart)}


def instants(events: Sequence[Envelope]) -> list[datetime]:
    """A few instants through the history: between events, exactly at one, before and after all."""
    first, last = events[0].time, events[-1].time
    span = last - first
    return [
        first - timedelta(seconds=1),
        first + span / 7,
        events[len(events) // 3].time,  # exactly an event's time: it counts (at <= instant)
        first + span / 2 + timedelta(hours=5, minutes=17),
        first + span * 5 / 6,
        last,
    ]


def assert_as_of_equals_live(events: Sequence[Envelope], process: ProcessConfig = DEFAULT) -> None:
    assert all(a.time <= b.time for a, b in itertools.pairwise(events)), "time order"
    book = kpi_fold.fold(events, TZ)
    whole = live_views(events, process)
    assert deal_views_as_of(book, process, FAR_FUTURE) == whole
    assert deal_views_as_of(book, process) == whole
    assert tracks_as_of(book, process, FAR_FUTURE) == dict(sorted(funnel.fold(events, process).items()))
    assert lead_parts_as_of(book, FAR_FUTURE) == dict(sorted(live_leads(events, process).items()))
    for instant in instants(events):
        happened = [event for event in events if event.time <= instant]
        assert deal_views_as_of(book, process, instant) == live_views(happened, process), instant
        live_tracks = dict(sorted(funnel.fold(happened, process).items()))
        assert tracks_as_of(book, process, instant) == live_tracks, instant


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_over_a_simulated_history_the_pipeline_and_funnel_as_of_are_the_live_folds_of_what_had_happened(
    seed: int,
) -> None:
    events = simulated(seed)
    views = live_views(events)
    statuses = {view.status for view in views.values()}
    assert statuses == {"open", "won", "lost"}, "the history has open, won and lost deals"
    assert any(
        track.reopened
        for track in funnel.fold(events, DEFAULT).values()
        if isinstance(track, funnel.DealTrack)
    )
    assert_as_of_equals_live(events)


def test_over_the_golden_log_the_pipeline_and_funnel_as_of_are_the_live_folds() -> None:
    assert_as_of_equals_live(golden_log())


@PROPERTY
@given(process_and_history())
def test_over_accepted_histories_in_time_order_the_as_of_views_are_the_live_ones(
    case: tuple[ProcessConfig, list[list[Envelope]], Ledger],
) -> None:
    process, streams, _ = case
    events = sorted((event for stream in streams for event in stream), key=lambda e: e.time)
    if len({(e.time, _aggregate(e)) for e in events}) < len(events):
        return  # two facts of one deal at the same instant: time order alone does not order them
    if events:
        assert_as_of_equals_live(events, process)


def _aggregate(event: Envelope) -> str:
    data = event.data
    return str(getattr(data, "deal_id", None) or getattr(data, "lead_id", None) or event.id)


# --- worked examples ----------------------------------------------------------------------------


def test_a_fact_recorded_late_counts_from_when_it_happened() -> None:
    history = [*opened("deal-1"), make("NeedsAssessed", at=at(1), deal_id="deal-1")]
    late = priced("deal-1", "900", day=3).recorded(START + timedelta(days=20))  # recorded day 20
    book = kpi_fold.fold([*history, late], TZ)  # and arriving last
    day_2, day_4 = (deal_views_as_of(book, DEFAULT, START + timedelta(days=d))["deal-1"] for d in (2, 4))
    assert (day_2.stage, day_2.expected_amount) == ("needs_assessed", None)
    assert (day_4.stage, day_4.stage_entered_at) == ("solution_presented", START + timedelta(days=3))
    assert day_4.expected_amount == Money(amount=Decimal("900"), currency="EUR")
    rows = pipeline.pipeline_summary(
        [day_4], org.OrgState(), DEFAULT, START + timedelta(days=4), "stage", timedelta(days=14)
    )
    assert [(r.group, r.value, r.average_time_in_stage) for r in rows] == [
        ("solution_presented", Decimal("900"), timedelta(days=1))
    ]
    # the live pipeline folds in arrival order too, so here it agrees with the book as of now
    assert deal_views_as_of(book, DEFAULT) == live_views([*history, late])


def test_a_deal_won_after_the_instant_is_open_at_it_and_valued_at_its_pitch_not_its_budget() -> None:
    history = [
        *opened("deal-1"),  # the sample qualification states a budget: never the pipeline's value
        make("NeedsAssessed", at=at(1), deal_id="deal-1"),
        priced("deal-1", "1200", day=2),
        make(
            "DealWon",
            at=at(10),
            deal_id="deal-1",
            rep_id="rep-sam",
            amount={"amount": "1100", "currency": "EUR"},
        ),
    ]
    book = kpi_fold.fold(history, TZ)
    opening = deal_views_as_of(book, DEFAULT, START + timedelta(hours=1))["deal-1"]
    assert (opening.stage, opening.expected_amount, opening.rep_id) == ("qualified", None, "rep-ada")
    before = deal_views_as_of(book, DEFAULT, START + timedelta(days=9))["deal-1"]
    assert (before.status, before.rep_id, before.won_amount, before.closed_at) == (
        "open",
        "rep-ada",
        None,
        None,
    )
    after = deal_views_as_of(book, DEFAULT, START + timedelta(days=10))["deal-1"]
    assert (after.status, after.rep_id, after.closed_at) == ("won", "rep-sam", START + timedelta(days=10))
    assert after.won_amount == Money(amount=Decimal("1100"), currency="EUR")
    assert deal_views_as_of(book, DEFAULT, START - timedelta(seconds=1)) == {}


def test_a_reopened_deal_at_instants_between_its_closes() -> None:
    def moved(day: float, from_stage: str, to_stage: str) -> Envelope:
        return make(
            "DealStageChanged",
            at=at(day),
            deal_id="deal-1",
            rep_id="rep-sam",
            from_stage=from_stage,
            to_stage=to_stage,
        )

    eur = {"amount": "700", "currency": "EUR"}
    history = [
        *opened("deal-1"),
        make("NeedsAssessed", at=at(1), deal_id="deal-1"),
        priced("deal-1", "800", day=2),
        make("DealWon", at=at(5), deal_id="deal-1", rep_id="rep-ada", amount=eur),
        moved(8, "won", "needs_assessed"),  # reopened by rep-sam
        make("DealLost", at=at(12), deal_id="deal-1", rep_id="rep-sam"),
    ]
    book = kpi_fold.fold(history, TZ)
    expected = {
        3: ("solution_presented", "rep-ada", None, None),
        6: ("won", "rep-ada", Money(amount=Decimal("700"), currency="EUR"), START + timedelta(days=5)),
        9: ("needs_assessed", "rep-sam", None, None),  # reopened: no outcome until it closes again
        13: ("lost", "rep-sam", None, START + timedelta(days=12)),
    }
    for day, (stage, rep, won, closed) in expected.items():
        instant = START + timedelta(days=day)
        view = deal_views_as_of(book, DEFAULT, instant)["deal-1"]
        assert (view.stage, view.rep_id, view.won_amount, view.closed_at) == (stage, rep, won, closed), day
        assert view == live_views([e for e in history if e.time <= instant])["deal-1"], day
        track = tracks_as_of(book, DEFAULT, instant)["deal:deal-1"]
        assert track == funnel.fold([e for e in history if e.time <= instant], DEFAULT)["deal:deal-1"], day
    on_day_9 = deal_views_as_of(book, DEFAULT, START + timedelta(days=9))["deal-1"]
    assert on_day_9.stage_entered_at == START + timedelta(days=8)
    assert on_day_9.expected_amount == Money(amount=Decimal("800"), currency="EUR")
    reopened = funnel.total(tracks_as_of(book, DEFAULT, START + timedelta(days=9)).values(), DEFAULT)
    assert (reopened.won, reopened.lost, reopened.reopened) == (0, 0, 1)
    won_then = funnel.total(tracks_as_of(book, DEFAULT, START + timedelta(days=6)).values(), DEFAULT)
    assert (won_then.won, won_then.lost, won_then.reopened) == (1, 0, 0)


def test_a_stage_change_naming_the_stage_the_deal_is_in_changes_no_owner() -> None:
    history = [
        *opened("deal-1"),
        make(
            "DealStageChanged",
            at=at(1),
            deal_id="deal-1",
            rep_id="rep-sam",
            from_stage=None,
            to_stage="qualified",
        ),
        make("NeedsAssessed", at=at(2), deal_id="deal-1"),
    ]
    view = deal_views_as_of(kpi_fold.fold(history, TZ), DEFAULT)["deal-1"]
    assert view == live_views(history)["deal-1"]
    assert (view.rep_id, view.stage_entered_at) == ("rep-ada", START + timedelta(days=2))


# --- the endpoints ------------------------------------------------------------------------------

QUERIES = handlers.Queries(FoldedReadSide(HISTORY), PROCESS, TZ)
INSTANT = "2026-02-20T12:00:00+01:00"


def ask(handler: Any, queries: handlers.Queries = QUERIES, **query: str) -> tuple[int, Any]:
    reply: Reply = asyncio.run(handler(queries, Call(query=query)))
    return reply.status, json.loads(reply.encoded())


def test_the_pipeline_as_of_answers_from_what_had_happened_by_then() -> None:
    instant = datetime.fromisoformat(INSTANT)
    status, body = ask(handlers.pipeline, as_of=INSTANT, group_by="rep", stuck_after_days="7")
    assert status == 200 and body["state"] == "as_of"
    assert datetime.fromisoformat(body["as_of"]) == instant
    happened = [event for event in HISTORY if event.time <= instant]
    assert 0 < len(happened) < len(HISTORY)
    deals = live_views(happened, PROCESS).values()
    state = org.fold(HISTORY)
    rows = pipeline.pipeline_summary(deals, state, PROCESS, instant, "rep", timedelta(days=7))
    stuck = pipeline.stuck_deals(deals, instant, timedelta(days=7))
    assert rows and stuck, "a simulated February has open and stuck deals"
    assert body["rows"] == json.loads(json.dumps([_plain(r) for r in rows]))
    assert [s["deal_id"] for s in body["stuck"]] == [s.deal_id for s in stuck]
    assert body["partitions_covered"] == body["partitions_total"] == 2


def test_the_pipeline_without_as_of_is_the_live_read_model_at_now() -> None:
    status, body = ask(handlers.pipeline)
    assert status == 200 and body["state"] == "live"
    assert datetime.fromisoformat(body["as_of"]) > datetime(2026, 6, 1, tzinfo=UTC)


def test_the_funnel_as_of_is_the_funnel_of_what_had_happened_by_then() -> None:
    instant = datetime.fromisoformat(INSTANT)
    status, body = ask(handlers.funnel, as_of=INSTANT)
    assert status == 200 and body["state"] == "as_of"
    assert datetime.fromisoformat(body["as_of"]) == instant
    happened = [event for event in HISTORY if event.time <= instant]
    report = funnel.funnel_report(funnel.total(funnel.fold(happened, PROCESS).values(), PROCESS), PROCESS)
    whole = funnel.funnel_report(funnel.total(funnel.fold(HISTORY, PROCESS).values(), PROCESS), PROCESS)
    assert report != whole
    assert (body["leads"], body["qualified"], body["won"], body["lost"]) == (
        report.leads,
        report.qualified,
        report.won,
        report.lost,
    )
    assert [row["entered"] for row in body["rows"]] == [row.entered for row in report.rows]
    status, live = ask(handlers.funnel)
    assert status == 200 and (live["state"], live["as_of"], live["leads"]) == ("live", None, whole.leads)


LAGGED = [
    parse_event(serialize_event(event.recorded(event.time + timedelta(hours=(index * 29) % 300))))
    for index, event in enumerate(HISTORY)
]
"""The same history recorded with lags from none to 12 days (a backlog, a nightly import)."""
LAGGED_QUERIES = handlers.Queries(FoldedReadSide(LAGGED), PROCESS, TZ)
KNOWN_AT = "2026-02-20T23:59:59+01:00"


def ask_lagged(handler: Any, **query: str) -> tuple[int, Any]:
    return ask(handler, LAGGED_QUERIES, **query)


def test_issue_11_the_pipeline_known_at_is_built_from_what_had_been_recorded_by_then() -> None:
    instant = datetime.fromisoformat(KNOWN_AT)
    status, body = ask_lagged(handlers.pipeline, known_at=KNOWN_AT, group_by="rep", stuck_after_days="7")
    assert status == 200 and body["state"] == "known_at"
    assert datetime.fromisoformat(body["known_at"]) == datetime.fromisoformat(body["as_of"]) == instant
    recorded = sorted((e for e in LAGGED if e.recordedtime <= instant), key=lambda e: e.time)
    happened = [e for e in LAGGED if e.time <= instant]
    assert 0 < len(recorded) < len(happened), "some facts had happened but were not recorded yet"
    deals = live_views(recorded, PROCESS).values()
    rows = pipeline.pipeline_summary(deals, org.fold(LAGGED), PROCESS, instant, "rep", timedelta(days=7))
    assert rows and body["rows"] == json.loads(json.dumps([_plain(r) for r in rows]))
    _, as_of = ask_lagged(handlers.pipeline, as_of=KNOWN_AT, group_by="rep", stuck_after_days="7")
    assert as_of["state"] == "as_of" and as_of["rows"] != body["rows"]


def test_issue_11_the_funnel_known_at_counts_what_had_been_recorded_and_both_axes_combine() -> None:
    instant = datetime.fromisoformat(KNOWN_AT)
    status, body = ask_lagged(handlers.funnel, known_at=KNOWN_AT)
    assert status == 200 and body["state"] == "known_at"
    recorded = sorted((e for e in LAGGED if e.recordedtime <= instant), key=lambda e: e.time)
    report = funnel.funnel_report(funnel.total(funnel.fold(recorded, PROCESS).values(), PROCESS), PROCESS)
    assert (body["leads"], body["qualified"], body["won"]) == (report.leads, report.qualified, report.won)
    earlier = "2026-02-01T00:00:00+01:00"
    _, both = ask_lagged(handlers.funnel, known_at=KNOWN_AT, as_of=earlier)
    both_events = [e for e in recorded if e.time <= datetime.fromisoformat(earlier)]
    expected = funnel.funnel_report(
        funnel.total(funnel.fold(both_events, PROCESS).values(), PROCESS), PROCESS
    )
    assert (both["state"], both["leads"], both["won"]) == ("known_at", expected.leads, expected.won)


def test_issue_11_kpis_known_at_leave_out_what_was_recorded_later() -> None:
    status, known = ask_lagged(handlers.kpis, known_at=KNOWN_AT, period="2026-Q1")
    _, happened = ask_lagged(handlers.kpis, as_of=KNOWN_AT, period="2026-Q1")
    assert status == 200 and (known["state"], happened["state"]) == ("known_at", "as_of")
    assert known["kpis"]["new_leads"]["value"] < happened["kpis"]["new_leads"]["value"]


def test_malformed_time_axes_are_refused_naming_the_parameter() -> None:
    for handler in (handlers.pipeline, handlers.funnel):
        status, body = ask(handler, as_of="2026-03-01")
        assert status == 400 and body["message"].startswith("as_of:")
        status, body = ask(handler, known_at="not a time")
        assert status == 400 and body["message"].startswith("known_at:")


def _plain(row: pipeline.PipelineRow) -> dict[str, Any]:
    """The row as the API writes it (docs/api.md, "Numbers"), by hand: the simulation is in EUR
    (cents), and deals not priced yet are in a row of 0.00."""
    average = row.average_time_in_stage
    places = Decimal("0.01")
    return {
        "group": row.group,
        "currency": row.currency,
        "count": row.count,
        "value": str(row.value.quantize(places, ROUND_HALF_EVEN)),
        "weighted_value": str(row.weighted_value.quantize(places, ROUND_HALF_EVEN)),
        "average_time_in_stage_seconds": None if average is None else round(average.total_seconds()),
        "stuck": row.stuck,
    }
