"""What-if: a proposed plan over a recorded period, beside the plan in force, and its endpoint."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

from events import Envelope
from events.incentives import CompPlanPublishedData
from projections import kpi_fold, org
from projections.incentives import ledger
from projections.incentives.facts import book_of
from projections.incentives.terms import terms_of
from projections.incentives.what_if import compare
from sales.process import load_process
from services.queries import handlers, statements, what_if
from services.web.routes import Call
from tests.unit.test_incentive_statements import TZ, adjusted, assigned, marginal, plan, won

PROPOSAL = {
    "plan_id": "plan-ae",
    "plan_version": 2,
    "name": "Flat ten",
    "currency": "EUR",
    "effective_from": "2027-01-01",
    "rules": [marginal("base", ("0", "10"))],
}
HISTORY: list[Envelope] = [
    plan(1, "2026-01-01", None, marginal("base", ("0", "5"), ("10000", "7"), ("25000", "10"))),
    assigned("rep-ada"),
    assigned("rep-sam"),
    won("deal-1", "30000.00", "2026-08-03T10:00:00Z"),
    won("deal-2", "5000.00", "2026-08-05T10:00:00Z", ("rep-sam", "100")),
    won("deal-3", "1000.00", "2026-08-07T10:00:00Z", ("rep-ada", "50"), ("rep-sam", "50")),
]


def test_a_proposal_is_tried_over_the_recorded_period_beside_the_plan_in_force() -> None:
    book = book_of(ledger.fold(HISTORY), TZ)
    result = compare(book, terms_of(CompPlanPublishedData.model_validate(PROPOSAL)), "2026-Q3")
    totals = {rep.rep_id: (rep.current_total, rep.proposed.total) for rep in result.reps}
    # ada: 30,000 + 500 credited; marginal 5/7/10 on 30,500 = 2,100 now, flat 10 % = 3,050 proposed
    # sam: 5,000 + 500 credited; 5 % = 275 now, 550 proposed
    assert totals == {
        "rep-ada": (Decimal("2100.00"), Decimal("3050.00")),
        "rep-sam": (Decimal("275.00"), Decimal("550.00")),
    }
    assert (result.current_total, result.proposed_total) == (Decimal("2375.00"), Decimal("3600.00"))
    ada = next(rep for rep in result.reps if rep.rep_id == "rep-ada")
    # deal-3 (ada's 500 share) earns 10 % either way: only deal-1 differs
    assert [(d.deal_id, d.current, d.proposed) for d in ada.differences] == [
        ("deal-1", Decimal("2050.00"), Decimal("3000.00"))
    ]


def test_a_plan_identical_to_the_one_in_force_changes_nothing() -> None:
    same = {**PROPOSAL, "rules": [marginal("base", ("0", "5"), ("10000", "7"), ("25000", "10"))]}
    result = compare(
        book_of(ledger.fold(HISTORY), TZ), terms_of(CompPlanPublishedData.model_validate(same)), "2026-Q3"
    )
    assert all(rep.current_total == rep.proposed.total and not rep.differences for rep in result.reps)


def post(body: Any) -> tuple[int, Any]:
    queries = handlers.Queries(Folded(HISTORY), load_process(None), TZ)
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    reply = asyncio.run(what_if.what_if(queries, Call(body=raw)))
    return reply.status, json.loads(reply.encoded())


class Folded:
    """The read models statements read, folded whole from ``events`` (one partition)."""

    def __init__(self, events: list[Envelope]) -> None:
        self.folded: dict[str, list[tuple[str, Any]]] = {
            "incentives": list(ledger.fold(events).items()),
            "kpis": list(kpi_fold.fold(events, TZ).partials.items()),
            "org": [("org", org.fold(events))],
        }

    def names(self) -> frozenset[str]:
        return frozenset(self.folded)

    async def states(self, name: str) -> tuple[list[tuple[str, Any]], dict[str, int]]:
        return self.folded[name], {"partitions_covered": 1, "partitions_total": 1}


def test_the_endpoint_answers_per_rep_and_in_total() -> None:
    status, body = post({"period": "2026-Q3", "plan": PROPOSAL})
    assert status == 200
    assert (body["current_total"], body["proposed_total"]) == ("2375.00", "3600.00")
    assert [rep["rep_id"] for rep in body["reps"]] == ["rep-ada", "rep-sam"]
    ada = body["reps"][0]
    assert {line["deal_id"] for line in ada["proposed_lines"]} == {d["deal_id"] for d in ada["differences"]}


def test_the_endpoint_refuses_a_bad_plan_naming_the_fields_and_a_bad_body() -> None:
    status, body = post({"period": "2026-Q3", "plan": {**PROPOSAL, "currency": "euro", "rules": []}})
    assert status == 422 and body["reason"] == "invalid"
    assert {"plan.currency", "plan.rules"} <= {error["field"] for error in body["errors"]}
    assert post(b"[1, 2]")[0] == 400 and post(b"{oops")[1]["reason"] == "not_json"
    for period in ("2026-Q9", True, 7):
        status, body = post({"period": period, "plan": PROPOSAL})
        assert (status, body["reason"]) == (400, "bad_query")


def test_an_adjustment_counts_on_both_sides_and_is_no_difference() -> None:
    history = [*HISTORY, adjusted("adj-1", "250.00", "Late-signed addendum", deal="deal-1")]
    result = compare(
        book_of(ledger.fold(history), TZ), terms_of(CompPlanPublishedData.model_validate(PROPOSAL)), "2026-Q3"
    )
    ada = next(rep for rep in result.reps if rep.rep_id == "rep-ada")
    assert (ada.current_total, ada.proposed.total) == (Decimal("2350.00"), Decimal("3300.00"))
    assert [(d.deal_id, d.proposed - d.current) for d in ada.differences] == [("deal-1", Decimal("950.00"))]


def test_an_adjustment_without_a_plan_is_listed_apart_in_json_and_csv() -> None:
    history = [adjusted("adj-2", "100.00", "Goodwill", rep="rep-nobody", direction="deduct")]
    queries = handlers.Queries(Folded(history), load_process(None), TZ)
    call = Call(path={"rep_id": "rep-nobody", "period": "2026-Q3"})
    body = json.loads(asyncio.run(statements.statement(queries, call)).encoded())
    assert body["statements"] == [] and body["totals"] == {"EUR": "-100.00"}
    assert [(a["adjustment_id"], a["amount"]) for a in body["adjustments"]] == [("adj-2", "-100.00")]
    csv_call = Call(path=call.path, query={"format": "csv"})
    rows = asyncio.run(statements.statement(queries, csv_call)).encoded().decode().splitlines()
    assert rows[1].startswith(",,adjustment,,,,-100.00,-100.00,EUR,evt-adj-2,Goodwill")
