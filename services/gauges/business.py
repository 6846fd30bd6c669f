"""The business gauges' numbers, computed in a child process from the read models' raw partials.

A business gauge (pipeline by stage, attainment by team) needs a pass over a whole read model:
decoding every partial and folding them. Done inside the worker, that pass allocated enough to
trigger full garbage collections of 100 to 300 ms that stalled the projector's event loop
(docs/performance.md). So the worker only hands over bytes, the JSON bodies the partials endpoint
serves (``{"partials": [[partition, key, [offset, state]], ...], "partitions": [...]}``, its own
and its peers', as `services.queries.fanout.partial_bodies` gives them), and this module, run in
a separate process, checks them as queries do (`services.queries.peers.merged`), decodes and folds
them with the same pure functions the queries use.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from events.incentives import PayoutApprovedData
from projections import kpi_fold, org, pipeline
from projections.incentives import ledger
from projections.incentives.approvals import final_payouts
from projections.incentives.context import Context, context_of
from projections.kpi_attainment import attainment_distribution
from projections.periods import day_period_key, local_day, period_days, period_key
from sales.process import ProcessConfig
from services.projector.readmodels import ReadModel, read_models
from services.queries.fanout import PeerBody
from services.queries.peers import merged


@dataclass(frozen=True)
class StageTotal:
    stage: str
    currency: str | None
    deals: int
    value: float
    weighted_value: float


@dataclass(frozen=True)
class BusinessNumbers:
    stages: tuple[StageTotal, ...]
    attainment: dict[tuple[str, str], int]
    """Reps per (team, bucket) this quarter."""
    earned: dict[tuple[str, str], Decimal]
    """Commission earned this quarter per (currency, team)."""
    paid: dict[tuple[str, str], Decimal]
    """Payouts approved for periods ending this quarter per (currency, team)."""
    won: dict[tuple[str, str], tuple[int, Decimal]]
    """Deals won this quarter and their won amount per (currency, team)."""


def _states(model: ReadModel, bodies: Sequence[PeerBody], partitions: int) -> list[tuple[str, Any]]:
    """(key, state) of the partials merged from ``bodies``, checked as queries check them."""
    answers = merged(model, bodies, partitions, set())
    return [(key, state) for answer in answers for _, key, _, state in answer.partials]


def business_numbers(
    bodies: Mapping[str, Sequence[PeerBody]],
    process: ProcessConfig,
    timezone: str,
    now: datetime,
    partitions: int,
) -> BusinessNumbers:
    """The gauges' values from every worker's partials bodies of ``pipeline``, ``kpis``, ``org``
    and ``incentives`` (`services.queries.fanout.partial_bodies`), over ``partitions`` partitions."""
    models = {model.name: model for model in read_models(process, timezone)}
    state = org.merge_all(partial for _, partial in _states(models["org"], bodies["org"], partitions))
    deals = pipeline.deal_views(
        (s for _, s in _states(models["pipeline"], bodies["pipeline"], partitions)), process
    )
    rows = pipeline.pipeline_summary(deals.values(), state, process, now, "stage", timedelta(days=14))
    stages = tuple(
        StageTotal(
            row.group or "unknown", row.currency, row.count, float(row.value), float(row.weighted_value)
        )
        for row in rows
    )
    book = kpi_fold.merge_partials(_states(models["kpis"], bodies["kpis"], partitions), timezone)
    quarter = period_key("quarter", now, timezone)
    today = local_day(now, timezone)
    attainment = attainment_distribution(book, state, quarter, process, on=today)
    entries = ledger.merge_all(_states(models["incentives"], bodies["incentives"], partitions))
    context = context_of(state, book, process)
    earned, paid = _commission(entries, context, state, quarter, timezone, today)
    won = won_this_quarter(deals.values(), state, quarter, timezone)
    return BusinessNumbers(stages, attainment, earned, paid, won)


def won_this_quarter(
    deals: Iterable[pipeline.DealView], state: org.OrgState, quarter: str, timezone: str
) -> dict[tuple[str, str], tuple[int, Decimal]]:
    """Deals won in ``quarter`` (their closing day on the org's wall clock) and their won amount, per
    (currency, team of the deal's rep on that day, ``none`` without one). A reopened deal won
    again counts once, on its last win: the pipeline keeps one state per deal."""
    won: dict[tuple[str, str], tuple[int, Decimal]] = {}
    for deal in deals:
        if deal.status != "won" or deal.closed_at is None or deal.won_amount is None:
            continue
        day = local_day(deal.closed_at, timezone)
        if day_period_key("quarter", day) != quarter:
            continue
        team = (org.team_of(state, deal.rep_id, day) if deal.rep_id else None) or "none"
        key = (deal.won_amount.currency, team)
        count, amount = won.get(key, (0, Decimal(0)))
        won[key] = (count + 1, amount + deal.won_amount.amount)
    return won


def _commission(
    entries: Mapping[str, ledger.Entries],
    context: Context,
    state: org.OrgState,
    quarter: str,
    timezone: str,
    today: date,
) -> tuple[dict[tuple[str, str], Decimal], dict[tuple[str, str], Decimal]]:
    """Earned (the final statements' totals, as `GET /v1/payouts` gives them) and paid (approved
    payouts) this quarter per (currency, team)."""

    def team(rep: str) -> str:
        return org.team_of(state, rep, today) or "none"

    earned: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for result in final_payouts(entries, timezone, quarter, context=context):
        for currency, total in result.totals().items():
            earned[(currency, team(result.rep_id))] += total
    paid: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    first, last = period_days(quarter)
    for partial in entries.values():
        for entry in partial.items:
            if entry.type == "PayoutApproved":
                payout = PayoutApprovedData.model_validate_json(entry.data)
                if first <= payout.period.end <= last:
                    paid[(payout.amount.currency, team(payout.rep_id))] += payout.amount.amount
    return dict(earned), dict(paid)
