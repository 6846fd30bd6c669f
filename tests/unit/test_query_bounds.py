"""Issue 12: every query parameter is bounded, and a leaderboard costs one KPI per rep.

"Nothing accepted that the read models cannot hold" #2 and #6, and "Load that one caller can
impose" (leaderboards): malformed or out-of-range parameters are 400 `bad_query` naming the
parameter (never a 500, property-tested over the query handlers), unknown KPIs are refused, and a
leaderboard computes only its KPI, off the event loop, a few at a time, cached for a few seconds.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections import org
from projections.kpi_parts import kpi_part, kpi_value
from projections.kpi_scope import Scope
from projections.kpis import prepare, report_of
from projections.periods import period_days
from services.queries import answers, handlers, statements
from services.queries.answers import membership_of
from services.queries.kpi_answers import kpi_answer
from services.queries.leaderboards import Leaderboards
from services.web.routes import Call, Reply
from tests.unit.test_query_handlers import PROCESS, QUERIES


def ask(handler: Any, query: dict[str, str], path: dict[str, str] | None = None) -> tuple[int, Any]:
    reply: Reply = asyncio.run(handler(QUERIES, Call(path=path or {}, query=query)))
    body = reply.encoded()
    return reply.status, json.loads(body) if reply.content_type == "application/json" else body


@pytest.mark.parametrize(
    ("handler", "query", "named"),
    [
        (handlers.kpis, {"scope": "org", "period": "9999"}, "period"),
        (handlers.kpis, {"period": "9999-12-31"}, "period"),
        (handlers.kpis, {"period": "9999-W52"}, "period"),
        (handlers.kpis, {"period": "1969"}, "period"),
        (handlers.kpis, {"period": "٢٠٢٦-Q1"}, "period"),  # Arabic-Indic digits
        (handlers.forecast, {"period": "0001-01-01"}, "period"),
        (handlers.leaderboard, {"kpi": "calls", "period": "9999-Q4"}, "period"),
        (handlers.pipeline, {"stuck_after_days": "999999999999"}, "stuck_after_days"),
        (handlers.pipeline, {"stuck_after_days": "٣"}, "stuck_after_days"),
        (handlers.pipeline, {"stuck_after_days": "²"}, "stuck_after_days"),
        (handlers.pipeline, {"stuck_after_days": "0"}, "stuck_after_days"),
        (handlers.pipeline, {"stuck_after_days": "3651"}, "stuck_after_days"),
        (handlers.pipeline, {"stuck_after_days": "-1"}, "stuck_after_days"),
        (handlers.pipeline, {"as_of": "9999-12-31T23:59:59-01:00"}, "as_of"),
        (handlers.pipeline, {"as_of": "0001-01-01T00:30:00+01:00"}, "as_of"),
        (handlers.funnel, {"as_of": "9999-12-31T23:59:59+00:00"}, "as_of"),
        (handlers.kpis, {"as_of": "1969-12-31T23:59:59+00:00"}, "as_of"),
        (statements.payout_list, {"period": "9999"}, "period"),
    ],
)
def test_issue12_item2_out_of_range_query_parameters_are_bad_query_naming_the_parameter(
    handler: Any, query: dict[str, str], named: str
) -> None:
    status, body = ask(handler, query)
    assert status == 400, body
    assert body["reason"] == "bad_query" and body["message"].startswith(f"{named}:"), body


def test_issue_12_the_bounds_themselves_are_answered() -> None:
    assert ask(handlers.pipeline, {"stuck_after_days": "1"})[0] == 200
    assert ask(handlers.pipeline, {"stuck_after_days": "3650"})[0] == 200
    assert ask(handlers.kpis, {"period": "1970-W01"})[0] == 200
    assert ask(handlers.kpis, {"period": "9998-12-31"})[0] == 200
    assert ask(handlers.kpis, {"period": "9998-W52", "scope": "rep", "id": "rep-x"})[0] == 200
    assert ask(handlers.pipeline, {"as_of": "9998-12-31T23:59:59+00:00"})[0] == 200


def test_issue_12_statement_period_out_of_range_is_bad_query() -> None:
    status, body = ask(statements.statement, {}, {"rep_id": "rep-1", "period": "9999-W52"})
    assert status == 400 and body["message"].startswith("period:"), body


NAMES = ("period", "as_of", "known_at", "stuck_after_days", "group_by", "scope", "id", "kpi", "by", "format")
VALUES = st.one_of(
    st.text(max_size=30),
    st.integers(-(10**15), 10**15).map(str),
    st.builds(
        lambda y, r: f"{y:04d}{r}",
        st.integers(0, 99999),
        st.sampled_from(["", "-Q4", "-W52", "-W53", "-12", "-12-31", "-02-29", "-W01"]),
    ),
    st.builds(
        lambda y, tz: f"{y:04d}-12-31T23:59:59{tz}",
        st.integers(0, 9999),
        st.sampled_from(["+00:00", "-01:00", "+14:00", "-23:59", ""]),
    ),
    st.sampled_from(
        [
            "٣",
            "²",
            "١٤",
            "14",
            "0",
            "3650",
            "calls",
            "won_revenue.EUR",
            "won_revenue.ZZQ",
            "rep",
            "team",
            "org",
        ]
    ),
)
QUERY_HANDLERS = (
    handlers.pipeline,
    handlers.funnel,
    handlers.kpis,
    handlers.forecast,
    handlers.leaderboard,
    statements.payout_list,
)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    handler=st.sampled_from(QUERY_HANDLERS),
    query=st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=4),
)
def test_issue_12_no_query_parameter_gives_a_server_error(handler: Any, query: dict[str, str]) -> None:
    """Whatever the parameters, a query handler answers 200 or 400 `bad_query` (never raises)."""
    status, body = ask(handler, query)
    assert status in (200, 400), (status, body)
    if status == 400:
        assert body["reason"] == "bad_query", body


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(rep=st.text(max_size=12), period=VALUES)
def test_issue_12_no_statement_path_gives_a_server_error(rep: str, period: str) -> None:
    status, _ = ask(statements.statement, {}, {"rep_id": rep or "r", "period": period})
    assert status in (200, 400)


# --- leaderboards ----------------------------------------------------------------------------------


def test_issue12_item6_leaderboard_unknown_kpi_is_bad_query_naming_kpi_and_the_valid_names() -> None:
    status, body = ask(handlers.leaderboard, {"kpi": "nope"})
    assert status == 400 and body["reason"] == "bad_query", body
    assert body["message"].startswith("kpi:") and "win_rate" in body["message"]
    assert "won_revenue.<currency>" in body["message"] and "docs/kpis.md" in body["message"]
    for unknown in ("won_revenue.ZZQ", "won_revenue", "calls.EUR", "stage_conversion.nowhere", "quota.x.EUR"):
        assert ask(handlers.leaderboard, {"kpi": unknown})[0] == 400, unknown
    for known in ("won_revenue.EUR", "won_revenue.USD", "calls", "new_leads.referral", "quota.bookings.EUR"):
        assert ask(handlers.leaderboard, {"kpi": known, "period": "2026-Q1"})[0] == 200, known


def full_reports(by: str, period: str) -> dict[str, dict[str, Any]]:
    book, state, _ = asyncio.run(QUERIES.book_as_of(Call()))
    prepared = prepare(book, PROCESS)
    first, last = period_days(period)

    ids = (
        set(state.reps)
        if by == "rep"
        else {org.team_of(state, r, d) for r in state.reps for d in (first, last)}
    )
    return {
        i: report_of(prepared, Scope(by, i), period, membership_of(state))  # type: ignore[arg-type]
        for i in sorted(i for i in ids if i)
    }


@pytest.mark.parametrize("by", ["rep", "team"])
@pytest.mark.parametrize("period", ["2026-Q1", "2026-02"])
def test_issue_12_leaderboard_values_equal_the_full_reports_for_every_rep(by: str, period: str) -> None:
    """Each KPI computed alone (`kpi_parts.kpi_value`) equals the full report's, for every key any
    rep's or team's report has over a simulated history, and the leaderboard answers those values."""
    reports = full_reports(by, period)
    assert len(reports) >= 2
    book, state, _ = asyncio.run(QUERIES.book_as_of(Call()))
    prepared = prepare(book, PROCESS)
    keys = {key for report in reports.values() for key in report}
    wanted = {"calls", "win_rate", "won_revenue.EUR", "forecast_weighted.EUR", "stage_conversion.qualified"}
    assert wanted <= keys, keys
    assert period != "2026-Q1" or any(key.startswith("objective_attainment.") for key in keys)
    for key in sorted(keys):
        assert kpi_part(key, PROCESS) is not None, key
        for scope_id, report in reports.items():
            alone = kpi_value(prepared, Scope(by, scope_id), period, membership_of(state), key)  # type: ignore[arg-type]
            assert alone == report.get(key), (key, scope_id)
    for kpi in ("calls", "win_rate", "deals_won", "won_revenue.EUR", "new_leads", "retention_rate"):
        status, body = ask(handlers.leaderboard, {"kpi": kpi, "by": by, "period": period})
        assert status == 200, body
        ranked = {row["id"]: row["value"] for row in body["ranking"]}
        expected = {
            i: (None if r.get(kpi) is None else kpi_answer(r[kpi])["value"]) for i, r in reports.items()
        }
        assert ranked == expected, kpi  # the report's value, written as every answer writes it


def test_issue_12_leaderboards_are_computed_two_at_a_time_and_kept_for_the_ttl() -> None:
    now = [0.0]
    boards = Leaderboards(ttl=5.0, concurrent=2, clock=lambda: now[0])
    running, most, computed = [0], [0], []

    def computing(key: str) -> Any:
        async def compute() -> dict[str, Any]:
            running[0] += 1
            most[0] = max(most[0], running[0])
            await asyncio.sleep(0.01)
            running[0] -= 1
            computed.append(key)
            return {"key": key}

        return compute

    async def scenario() -> list[dict[str, Any]]:
        keys = ["a", "b", "c", "d", "a", "a"]
        return await asyncio.gather(*(boards.answer(k, computing(k)) for k in keys))

    bodies = asyncio.run(scenario())
    assert most[0] == 2, "never more than two computations at once"
    assert [b["key"] for b in bodies] == ["a", "b", "c", "d", "a", "a"]
    assert sorted(computed) == ["a", "b", "c", "d"], "a request queued behind the same key reuses its answer"
    asyncio.run(boards.answer("a", computing("a")))
    assert computed.count("a") == 1, "kept while the TTL lasts"
    now[0] = 5.0
    asyncio.run(boards.answer("a", computing("a")))
    assert computed.count("a") == 2, "computed again once the TTL is over"


def test_issue_12_health_answers_while_leaderboards_compute(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ranking runs in a thread: the event loop keeps answering (here: a ticking coroutine
    standing for `/v1/health`) while four slow leaderboards are computed."""
    slow = threading.Event()

    def slow_leaderboard(*args: Any) -> dict[str, Any]:
        slow.wait(0.4)
        return {"kpi": args[3], "by": args[4], "period": args[5], "ranking": []}

    monkeypatch.setattr(answers, "leaderboard_of", slow_leaderboard)
    queries = handlers.Queries(QUERIES.read, PROCESS, QUERIES.timezone)

    async def scenario() -> float:
        boards = [
            asyncio.create_task(handlers.leaderboard(queries, Call(query={"kpi": kpi, "period": "2026-Q1"})))
            for kpi in ("calls", "meetings", "win_rate", "deals_won")
        ]
        await asyncio.sleep(0.05)
        started = time.monotonic()
        await asyncio.sleep(0.01)  # the "health check": needs the loop for one turn
        waited = time.monotonic() - started
        replies = await asyncio.gather(*boards)
        assert all(reply.status == 200 for reply in replies)
        return waited

    assert asyncio.run(scenario()) < 0.2
