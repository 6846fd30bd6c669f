"""Statement endpoints: `GET /v1/statements/{rep_id}/{period}` (JSON or CSV) and `GET /v1/payouts`.

The statement is computed at query time over the merged incentive ledger with the pure engine
(`projections.incentives.approvals.final_statement`: frozen once approved, later changes carried
to the next open period), so a live answer and a replay are the same function of the same facts.
CSV is chosen by ``Accept: text/csv`` or ``?format=csv``: one row per line, the event ids joined
by spaces. Numbers are written as in JSON (`services.queries.statement_answers`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from projections import kpi_fold, numbers
from projections.incentives import ledger
from projections.incentives.approvals import final_payouts, final_statement
from projections.incentives.books import RepStatement, bonus_kpis
from projections.incentives.context import NOTHING_AROUND, Context, context_of
from projections.incentives.facts import IncentiveBook, book_of
from projections.incentives.restated import restated
from services.queries import params
from services.queries.handlers import Coverage, Queries, TimeTravel, answering_bad_queries
from services.queries.params import BadQuery
from services.queries.statement_answers import line_body, restated_body, statement_body, totals_body
from services.web.routes import Call, Reply

CSV_COLUMNS = (
    "plan_id",
    "plan_version",
    "kind",
    "rule_id",
    "deal_id",
    "rate",
    "base",
    "earning",
    "currency",
    "event_ids",
    "explanation",
)


async def incentive_ledger(queries: Queries) -> tuple[Mapping[str, ledger.Entries], Coverage]:
    states, covered = await queries.read.states("incentives")
    return ledger.merge_all(states), covered


def as_stood(
    call: Call, merged: Mapping[str, ledger.Entries]
) -> tuple[Mapping[str, ledger.Entries], dict[str, Any]]:
    """The ledger as it stood at ``as_of`` (event time) and ``known_at`` (recorded time), if asked,
    and the two as the answer states them (null: now)."""
    as_of, known_at = params.instant(call.query, "as_of"), params.instant(call.query, "known_at")
    used = {"as_of": as_of, "known_at": known_at}
    return ledger.as_known(merged, as_of, known_at), used


async def statement_context(
    queries: Queries, book: IncentiveBook, used: Mapping[str, datetime | None] | None = None
) -> Context:
    """The organisation (team SPIFFs, overlays) and the reps' KPI reports (KPI bonuses), each read
    from its read model only when a plan, an assignment or a SPIFF of the book needs it. With the
    ``as_of`` and ``known_at`` the ledger was taken at (``used``), the KPI readings are taken at the
    same instants: a KPI bonus "as we knew it on 3 July" reads the KPIs as known on 3 July."""
    plans = [p for plans in book.plans.values() for p in plans]
    bonuses = any(bonus_kpis(plan) for plan in plans)
    teams = any(spiff.team_ids for spiff in book.spiffs)
    overlays = any(a.data.overlay for mine in book.assignments.values() for a in mine)
    if not (bonuses or teams or overlays):
        return NOTHING_AROUND
    state = await queries.organisation()
    if not bonuses:
        return context_of(state)
    states, _ = await queries.read.states("kpis")
    kpis = TimeTravel((used or {}).get("as_of"), (used or {}).get("known_at")).book(
        kpi_fold.merge_partials(states, queries.timezone)
    )
    return context_of(state, kpis, queries.process)


def statement_csv(result: RepStatement) -> bytes:
    """One row per line, numbers as in JSON (amounts at the currency's scale, rates as fractions)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for one in result.statements:
        for line in one.lines:
            body = line_body(line, one.currency)
            named = (body["kind"], body["rule_id"] or "", body["deal_id"] or "", body["rate"] or "")
            amounts = (body["base"], body["earning"], one.currency)
            writer.writerow(
                (one.plan_id, one.plan_version, *named, *amounts, " ".join(line.event_ids), line.explanation)
            )
    for adjustment in result.adjustments:
        earning = numbers.money(adjustment.earning, adjustment.currency)
        by_whom = f"{adjustment.reason} (asked by {adjustment.requested_by})"
        row = ("", "", "adjustment", "", adjustment.deal_id or "", "", earning, earning, adjustment.currency)
        writer.writerow((*row, adjustment.event_id, by_whom))
    return out.getvalue().encode()


def wants_csv(call: Call) -> bool:
    requested = call.query.get("format")
    if requested not in (None, "json", "csv"):
        raise BadQuery("format: json or csv")
    return requested == "csv" or (requested is None and "text/csv" in call.header("Accept"))


@answering_bad_queries
async def statement(queries: Queries, call: Call) -> Reply:
    """`GET /v1/statements/{rep_id}/{period}`: every line with its rule, plan version and events."""
    period = params.period({"period": call.path["period"]}, queries.timezone)
    as_csv = wants_csv(call)
    everything, covered = await incentive_ledger(queries)
    merged, used = as_stood(call, everything)
    book = book_of(merged, queries.timezone)
    context = await statement_context(queries, book, used)
    result = final_statement(merged, queries.timezone, call.path["rep_id"], period, book, context=context)
    if as_csv:
        return Reply(200, raw=statement_csv(result), content_type="text/csv")
    return Reply(200, {**statement_body(result), **used, **covered})


@answering_bad_queries
async def restated_statement(queries: Queries, call: Call) -> Reply:
    """`GET /v1/statements/{rep_id}/{period}/restated`: the period as approved and as known now."""
    period = params.period({"period": call.path["period"]}, queries.timezone)
    merged, covered = await incentive_ledger(queries)
    context = await statement_context(queries, book_of(merged, queries.timezone))
    result = restated(merged, queries.timezone, call.path["rep_id"], period, context)
    return Reply(200, {**restated_body(result), **covered})


@answering_bad_queries
async def payout_list(queries: Queries, call: Call) -> Reply:
    """`GET /v1/payouts?period=...`: every rep's totals for the period."""
    period = params.period(call.query, queries.timezone)
    everything, covered = await incentive_ledger(queries)
    merged, used = as_stood(call, everything)
    book = book_of(merged, queries.timezone)
    context = await statement_context(queries, book, used)
    finals = final_payouts(merged, queries.timezone, period, context=context, book=book)
    reps = [{"rep_id": one.rep_id, "totals": totals_body(one.totals())} for one in finals]
    return Reply(200, {"period": period, "payouts": reps, **used, **covered})
