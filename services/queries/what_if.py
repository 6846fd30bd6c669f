"""`POST /v1/what-if`: a proposed plan, in the published plan schema, over a recorded period.

Body: ``{"period": "2026-Q3", "plan": {...the data of a CompPlanPublished...}, "reps": [...]}``
(``reps`` optional). The answer has, per rep and in total, the payout as it stands (frozen once
approved, with the organisation and KPI readings a statement uses) and under the
proposal, and the deals whose earnings differ with the proposal's lines for them
(`projections.incentives.what_if`).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from events.incentives import CompPlanPublishedData
from projections import numbers
from projections.incentives.approvals import approvals_by_rep, final_statement
from projections.incentives.books import RepStatement
from projections.incentives.facts import book_of
from projections.incentives.terms import terms_of
from projections.incentives.what_if import WhatIf, compare
from services.queries import params
from services.queries.handlers import Queries, answering_bad_queries
from services.queries.params import BadQuery
from services.queries.statement_answers import line_body
from services.queries.statements import incentive_ledger, statement_context
from services.refusals import Refusal
from services.web.routes import Call, Reply, refusal


def what_if_body(result: WhatIf) -> dict[str, Any]:
    """Per rep and in total, amounts in the proposal's currency at its scale (docs/api.md, "Numbers")."""
    currency = result.currency

    def amount(value: Decimal) -> str:
        return numbers.money(value, currency)

    reps = []
    for rep in result.reps:
        differing = {difference.deal_id for difference in rep.differences}
        reps.append(
            {
                "rep_id": rep.rep_id,
                "current_total": amount(rep.current_total),
                "proposed_total": amount(rep.proposed.total),
                "differences": [
                    {"deal_id": d.deal_id, "current": amount(d.current), "proposed": amount(d.proposed)}
                    for d in rep.differences
                ],
                "proposed_lines": [
                    line_body(line, currency) for line in rep.proposed.lines if line.deal_id in differing
                ],
            }
        )
    return {
        "period": result.period,
        "plan_id": result.plan_id,
        "plan_version": result.plan_version,
        "currency": currency,
        "current_total": amount(result.current_total),
        "proposed_total": amount(result.proposed_total),
        "reps": reps,
    }


@answering_bad_queries
async def what_if(queries: Queries, call: Call) -> Reply:
    """Evaluate the proposal in the body; 400 for a body that is not an object, 422 for a bad plan."""
    try:
        body = json.loads(call.body)
    except (ValueError, RecursionError) as exc:
        return refusal(Refusal.NOT_JSON, f"body is not JSON: {exc}")
    if not isinstance(body, dict):
        return refusal(Refusal.NOT_AN_OBJECT, 'a what-if is a JSON object: {"period": ..., "plan": {...}}')
    period_asked = body.get("period") or ""
    if not isinstance(period_asked, str):
        raise BadQuery("period: a period key such as 2026-Q3")
    period = params.period({"period": period_asked}, queries.timezone)
    reps = body.get("reps")
    if reps is not None and not (isinstance(reps, list) and all(isinstance(rep, str) for rep in reps)):
        return refusal(
            Refusal.INVALID, "reps: a list of rep ids", [{"field": "reps", "message": "a list of strings"}]
        )
    try:
        proposal = terms_of(CompPlanPublishedData.model_validate(body.get("plan")))
    except ValidationError as exc:
        errors = [
            {"field": ".".join(["plan", *(str(part) for part in error["loc"])]), "message": error["msg"]}
            for error in exc.errors()
        ]
        return refusal(Refusal.INVALID, "plan: not a valid plan in the published schema", errors)
    merged, covered = await incentive_ledger(queries)
    book = book_of(merged, queries.timezone)
    context = await statement_context(queries, book)
    approvals = approvals_by_rep(merged)

    def standing(rep: str) -> RepStatement:
        return final_statement(
            merged, queries.timezone, rep, period, book, context=context, approvals=approvals.get(rep, [])
        )

    result = compare(book, proposal, period, reps, context=context, current=standing)
    return Reply(200, {**what_if_body(result), **covered})
