"""The query handlers, called as plain functions: no server, no Faust, no Kafka.

The read side here folds a simulated history through the projector's own partition code, so the
answers must equal the pure folds over the same history (what a replay computes).
"""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import pytest

from events import Envelope, parse_event, serialize_event
from projections import kpi_fold, org
from projections.incentives import ledger
from projections.incentives.approvals import final_payouts, final_statement
from projections.incentives.context import Context
from projections.incentives.facts import book_of
from projections.kpi_scope import Scope
from projections.kpis import kpi_report
from sales.process import load_process
from services.outbox.relay import partition_for
from services.projector.readmodels import read_models
from services.queries import handlers, statements
from services.queries.answers import membership_of
from services.queries.kpi_answers import kpi_answer
from services.simulator import simulate_envelopes
from services.web.encoding import json_bytes
from services.web.routes import Call, Reply
from tests.delivery import delivered_twice
from tests.replayed import replayed_answers

TZ = "Europe/Berlin"
PROCESS = load_process(None)
RECORDED = datetime(2026, 6, 1, tzinfo=UTC)
HISTORY = [
    parse_event(serialize_event(e.recorded(RECORDED)))
    for e in simulate_envelopes(21, reps=6, leads=90, start=date(2026, 1, 5), weeks=12)
]


class FoldedReadSide:
    """Every read model folded from ``events`` on two partitions (keyed as the relay keys them)."""

    def __init__(self, events: list[Envelope]) -> None:
        routed = [(event, partition_for(event.partition_key, 2)) for event in events]
        self.folded = {model.name: delivered_twice(routed, model) for model in read_models(PROCESS, TZ)}

    def names(self) -> frozenset[str]:
        return frozenset(self.folded)

    async def states(self, name: str) -> tuple[list[tuple[str, Any]], dict[str, int]]:
        return self.folded[name], {"partitions_covered": 2, "partitions_total": 2}


QUERIES = handlers.Queries(FoldedReadSide(HISTORY), PROCESS, TZ)


def ask(handler: Any, **query: str) -> tuple[int, Any]:
    reply: Reply = asyncio.run(handler(QUERIES, Call(query=query)))
    return reply.status, json.loads(reply.encoded())


def test_the_pipeline_answer_is_the_replayed_pipeline() -> None:
    as_of = "2026-03-31T18:00:00+00:00"
    status, body = ask(handlers.pipeline, group_by="team", as_of=as_of)
    rows, funnel = replayed_answers(HISTORY, PROCESS, as_of, "team")
    assert status == 200
    assert body["rows"] == rows and rows, "a simulated quarter has open deals"
    assert body["partitions_covered"] == body["partitions_total"] == 2
    status, body = ask(handlers.funnel)
    assert status == 200 and {k: body[k] for k in funnel} == funnel


def test_the_leaderboard_ranks_highest_first_ties_by_id_and_undefined_last() -> None:
    status, body = ask(handlers.leaderboard, kpi="win_rate", by="rep", period="2026-Q1")
    assert status == 200
    ranking = body["ranking"]
    book, state = kpi_fold.fold(HISTORY, TZ), org.fold(HISTORY)
    expected = {
        rep: kpi_answer(
            kpi_report(book, Scope("rep", rep), "2026-Q1", membership_of(state), PROCESS)["win_rate"]
        )["value"]
        for rep in state.reps
    }
    assert {row["id"] for row in ranking} == set(expected)
    values = [None if row["value"] is None else float(row["value"]) for row in ranking]
    defined = [v for v in values if v is not None]
    assert defined, "a simulated quarter has decided deals"
    assert defined == sorted(defined, reverse=True)
    assert values[len(defined) :] == [None] * (len(values) - len(defined))  # undefined last
    for row in ranking:
        wanted = expected[row["id"]]
        assert (row["value"] is None) == (wanted is None)
        assert row["value"] == wanted  # the report's win rate as a 4-place fraction
    for first, second in itertools.pairwise(ranking):
        if first["value"] == second["value"]:
            assert first["id"] < second["id"]


def test_teams_are_ranked_by_the_same_kpi() -> None:
    status, body = ask(handlers.leaderboard, kpi="deals_won", by="team", period="2026-Q1")
    assert status == 200 and body["by"] == "team"
    state = org.fold(HISTORY)
    teams = {
        org.team_of(state, rep, day) for rep in state.reps for day in (date(2026, 1, 1), date(2026, 3, 31))
    }
    assert {row["id"] for row in body["ranking"]} == {team for team in teams if team}


@pytest.mark.parametrize(
    ("handler", "query", "parameter"),
    [
        (handlers.pipeline, {"as_of": "2026-03-31"}, "as_of"),
        (handlers.pipeline, {"group_by": "planet"}, "group_by"),
        (handlers.pipeline, {"stuck_after_days": "-3"}, "stuck_after_days"),
        (handlers.kpis, {"scope": "rep"}, "id"),
        (handlers.kpis, {"scope": "galaxy"}, "scope"),
        (handlers.forecast, {"period": "2026-Q5"}, "period"),
        (handlers.leaderboard, {}, "kpi"),
        (handlers.leaderboard, {"kpi": "win_rate", "by": "territory"}, "by"),
    ],
)
def test_a_bad_query_is_a_400_naming_the_parameter(
    handler: Any, query: dict[str, str], parameter: str
) -> None:
    status, body = ask(handler, **query)
    assert status == 400
    assert body["status"] == "rejected" and body["reason"] == "bad_query"
    assert body["message"].startswith(f"{parameter}:")


def test_a_rep_never_seen_has_zero_activity() -> None:
    reply = asyncio.run(handlers.rep_activity(QUERIES, Call(path={"rep_id": "rep-nobody"})))
    body = json.loads(reply.encoded())
    assert reply.status == 200 and body["rep_id"] == "rep-nobody" and body["calls"] == 0


def test_statements_and_payouts_are_the_engines_over_the_same_history_in_json_and_csv() -> None:
    book = book_of(ledger.fold(HISTORY), TZ)
    kpi_book, state = kpi_fold.fold(HISTORY, TZ), org.fold(HISTORY)

    def reports(rep: str, period: str, wanted: frozenset[str]) -> Any:
        return kpi_report(kpi_book, Scope("rep", rep), period, membership_of(state), PROCESS)

    finals = final_payouts(ledger.fold(HISTORY), TZ, "2026-Q1", context=Context(state, reports))
    earning = [one for one in finals if one.statements]
    assert earning, "the simulated quarter credits at least one deal under a plan"
    bonuses = [
        line for one in earning for s in one.statements for line in s.lines if line.kind == "kpi_bonus"
    ]
    assert any(line.earning > 0 for line in bonuses), "a KPI bonus is paid from the rep's KPI report"
    for expected in earning:
        path = {"rep_id": expected.rep_id, "period": "2026-Q1"}
        reply = asyncio.run(statements.statement(QUERIES, Call(path=path)))
        body = json.loads(reply.encoded())
        assert reply.status == 200
        assert (body.pop("as_of"), body.pop("known_at")) == (None, None)  # now, on both axes
        assert {k: v for k, v in body.items() if not k.startswith("partitions_")} == json.loads(
            json_bytes(statements.statement_body(expected))
        )
        as_csv = asyncio.run(statements.statement(QUERIES, Call(path=path, headers={"Accept": "text/csv"})))
        rows = list(csv.reader(io.StringIO(as_csv.encoded().decode())))
        assert as_csv.content_type.startswith("text/csv") and rows[0][0] == "plan_id"
        assert len(rows) - 1 == sum(len(one.lines) for one in expected.statements)
        assert sum(Decimal(row[7]) for row in rows[1:]) == sum(one.total for one in expected.statements)
    status, body = ask(statements.payout_list, period="2026-Q1")
    assert status == 200 and {row["rep_id"] for row in body["payouts"]} == book.reps()


def test_a_statement_for_a_bad_period_or_format_is_a_400() -> None:
    for path, query in (
        ({"rep_id": "rep-a", "period": "2026-Q9"}, {}),
        ({"rep_id": "rep-a", "period": "2026-Q1"}, {"format": "pdf"}),
    ):
        reply = asyncio.run(statements.statement(QUERIES, Call(path=path, query=query)))
        assert reply.status == 400 and json.loads(reply.encoded())["reason"] == "bad_query"


def test_a_statement_as_it_stood_is_the_engine_over_the_facts_known_then() -> None:
    merged = ledger.fold(HISTORY)
    busiest = max(
        final_payouts(merged, TZ, "2026-Q1"), key=lambda one: sum(len(s.lines) for s in one.statements)
    ).rep_id
    path = {"rep_id": busiest, "period": "2026-Q1"}
    now = json.loads(asyncio.run(statements.statement(QUERIES, Call(path=path))).encoded())
    for query in ({"as_of": "2026-02-15T00:00:00+00:00"}, {"known_at": "2026-02-15T00:00:00+01:00"}):
        reply = asyncio.run(statements.statement(QUERIES, Call(path=path, query=query)))
        body = json.loads(reply.encoded())
        at = datetime.fromisoformat(next(iter(query.values())))
        then = ledger.as_known(merged, **{name: at for name in query})
        context = Context(org.fold(HISTORY), _reports())
        expected = final_statement(then, TZ, busiest, "2026-Q1", context=context)
        assert reply.status == 200 and body[next(iter(query))] == next(iter(query.values()))
        assert body["totals"] == json.loads(json_bytes(expected.totals()))
        assert sum(map(Decimal, body["totals"].values())) < sum(map(Decimal, now["totals"].values()))
    bad = asyncio.run(statements.statement(QUERIES, Call(path=path, query={"known_at": "2026-02-15"})))
    assert bad.status == 400 and "known_at" in json.loads(bad.encoded())["message"]


def test_a_period_never_approved_is_restated_with_no_approved_side() -> None:
    path = {"rep_id": "rep-001", "period": "2026-Q1"}
    reply = asyncio.run(statements.restated_statement(QUERIES, Call(path=path)))
    body = json.loads(reply.encoded())
    assert reply.status == 200 and body["approval"] is None and body["approved"] is None
    assert body["differences"] == [] and body["now"]["rep_id"] == "rep-001"


def _reports() -> Any:
    kpi_book, state = kpi_fold.fold(HISTORY, TZ), org.fold(HISTORY)

    def reports(rep: str, period: str, wanted: frozenset[str]) -> Any:
        return kpi_report(kpi_book, Scope("rep", rep), period, membership_of(state), PROCESS)

    return reports


class UncoveredReadSide:
    """A worker that has just started: it answers from no partition of the log yet."""

    def names(self) -> frozenset[str]:
        return frozenset({"rep-activity", "pipeline", "funnel", "kpis", "org"})

    async def states(self, name: str) -> tuple[list[tuple[str, Any]], dict[str, int]]:
        return [], {"partitions_covered": 0, "partitions_total": 4}


@pytest.mark.parametrize(
    "handler", [handlers.all_reps_activity, handlers.pipeline, handlers.funnel, handlers.kpis]
)
def test_issue_15_an_answer_covering_no_partition_is_503_not_ready_not_zeros(handler: Any) -> None:
    queries = handlers.Queries(UncoveredReadSide(), PROCESS, TZ)
    reply = asyncio.run(handlers.when_covered(partial(handler, queries))(Call()))
    body = json.loads(reply.encoded())
    assert (reply.status, body["reason"]) == (503, "not_ready")
    covered = asyncio.run(handlers.when_covered(partial(handler, QUERIES))(Call()))
    assert covered.status == 200


def test_issue_11_a_statement_known_at_reads_its_kpi_bonus_from_the_kpis_as_known_then() -> None:
    lagged = [
        parse_event(serialize_event(e.recorded(e.time + timedelta(hours=(i * 37) % 400))))
        for i, e in enumerate(simulate_envelopes(21, reps=6, leads=90, start=date(2026, 1, 5), weeks=12))
    ]
    queries = handlers.Queries(FoldedReadSide(lagged), PROCESS, TZ)
    known_at = datetime(2026, 3, 15, tzinfo=UTC)
    merged, state = ledger.as_known(ledger.fold(lagged), None, known_at), org.fold(lagged)

    def engine(kpi_book: kpi_fold.KpiBook) -> dict[str, Any]:
        def reports(rep: str, period: str, wanted: frozenset[str]) -> Any:
            return kpi_report(kpi_book, Scope("rep", rep), period, membership_of(state), PROCESS)

        finals = final_payouts(merged, TZ, "2026-Q1", context=Context(state, reports))
        return {
            one.rep_id: json.loads(json_bytes(statements.statement_body(one)))
            for one in finals
            if one.statements
        }

    as_known = engine(kpi_fold.fold(lagged, TZ).known_at(known_at))
    as_now = engine(kpi_fold.fold(lagged, TZ))
    assert as_known and as_known != as_now, "some KPI bonus reads a fact recorded after known_at"
    for rep, expected in as_known.items():
        path = {"rep_id": rep, "period": "2026-Q1"}
        reply = asyncio.run(
            statements.statement(queries, Call(path=path, query={"known_at": known_at.isoformat()}))
        )
        body = json.loads(reply.encoded())
        assert reply.status == 200 and datetime.fromisoformat(body.pop("known_at")) == known_at
        assert {k: v for k, v in body.items() if not k.startswith("partitions_") and k != "as_of"} == expected
