"""Statement endpoints: `GET /v1/statements/{rep_id}/{period}` (JSON or CSV) and `GET /v1/payouts`.

The statement is computed at query time over the merged incentive ledger with the pure engine
(`projections.incentives.approvals.final_statement`: frozen once approved, later changes carried
to the next open period), so a live answer and a replay are the same function of the same facts.
CSV is chosen by ``Accept: text/csv`` or ``?format=csv``: one row per line, the event ids joined
by spaces.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import date
from functools import partial
from typing import Any

from projections import kpi_fold, org
from projections.incentives import ledger
from projections.incentives.approvals import final_payouts, final_statement
from projections.incentives.books import RepStatement
from projections.incentives.facts import IncentiveBook, TeamOf, book_of
from projections.incentives.readings import bonus_report
from projections.incentives.terms import KpiBonusTerms
from projections.kpi_scope import KpiValue, Scope
from projections.kpis import PreparedBook, prepare
from services.queries import params
from services.queries.answers import membership_of
from services.queries.handlers import Coverage, Queries, answering_bad_queries
from services.queries.params import BadQuery
from services.web.encoding import jsonable
from services.web.routes import Call, Reply

CSV_COLUMNS = (
    "plan_id",
    "plan_version",
    "kind",
    "rule_id",
    "deal_id",
    "rate_percent",
    "base",
    "earning",
    "currency",
    "event_ids",
    "explanation",
)


async def incentive_ledger(queries: Queries) -> tuple[Mapping[str, ledger.Entries], Coverage]:
    states, covered = await queries.read.states("incentives")
    return ledger.merge_all(states), covered


async def incentive_book(queries: Queries) -> tuple[IncentiveBook, Coverage]:
    merged, covered = await incentive_ledger(queries)
    return book_of(merged, queries.timezone), covered


async def organisation_and_kpis(
    queries: Queries, period: str, book: IncentiveBook
) -> tuple[TeamOf | None, Callable[[str, frozenset[str]], Mapping[str, KpiValue]] | None]:
    """A rep's team on a day (for SPIFFs limited to teams) and a rep's KPI report for ``period``
    (for KPI bonuses), each read from the other read models only when a plan or SPIFF needs it."""
    bonuses = any(
        isinstance(rule, KpiBonusTerms) for plans in book.plans.values() for p in plans for rule in p.rules
    )
    teams = any(spiff.team_ids for spiff in book.spiffs)
    if not (bonuses or teams):
        return None, None
    state = await queries.organisation()

    def team_of(rep_id: str, day: date) -> str | None:
        return org.team_of(state, rep_id, day)

    if not bonuses:
        return team_of, None
    states, _ = await queries.read.states("kpis")
    kpis = kpi_fold.merge_partials(states, queries.timezone)
    prepared: list[PreparedBook] = []  # the deals' paths, worked out once and only if a bonus asks

    def report_for(rep_id: str, wanted: frozenset[str]) -> Mapping[str, KpiValue]:
        if not prepared:
            prepared.append(prepare(kpis, queries.process))
        return bonus_report(prepared[0], Scope("rep", rep_id), period, membership_of(state), wanted)

    return team_of, report_for


def statement_body(result: RepStatement) -> dict[str, Any]:
    """The statement as JSON: per plan version its lines and totals, then the totals per currency."""
    return {
        "rep_id": result.rep_id,
        "period": result.period,
        "statements": [asdict(one) for one in result.statements],
        "unrated": [asdict(line) for line in result.unrated],
        "adjustments": [asdict(adjustment) for adjustment in result.adjustments],
        "totals": result.totals(),
    }


def statement_csv(result: RepStatement) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for one in result.statements:
        for line in one.lines:
            row = jsonable(asdict(line))
            named = (row["kind"], row["rule_id"] or "", row["deal_id"] or "", row["rate_percent"] or "")
            amounts = (row["base"], row["earning"], one.currency)
            writer.writerow(
                (one.plan_id, one.plan_version, *named, *amounts, " ".join(line.event_ids), line.explanation)
            )
    for adjustment in result.adjustments:
        earning = str(adjustment.earning)
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
    merged, covered = await incentive_ledger(queries)
    book = book_of(merged, queries.timezone)
    team_of, report_for = await organisation_and_kpis(queries, period, book)
    rep = call.path["rep_id"]
    report = None if report_for is None else partial(report_for, rep)
    result = final_statement(merged, queries.timezone, rep, period, book, team_of=team_of, report=report)
    if as_csv:
        return Reply(200, raw=statement_csv(result), content_type="text/csv")
    return Reply(200, {**statement_body(result), **covered})


@answering_bad_queries
async def payout_list(queries: Queries, call: Call) -> Reply:
    """`GET /v1/payouts?period=...`: every rep's totals for the period."""
    period = params.period(call.query, queries.timezone)
    merged, covered = await incentive_ledger(queries)
    book = book_of(merged, queries.timezone)
    team_of, report_for = await organisation_and_kpis(queries, period, book)
    finals = final_payouts(
        merged, queries.timezone, period, team_of=team_of, report_for=report_for, book=book
    )
    reps = [{"rep_id": one.rep_id, "totals": one.totals()} for one in finals]
    return Reply(200, {"period": period, "payouts": reps, **covered})
