"""The business gauges' numbers, computed from partials bodies, equal the pure folds' answers."""

from __future__ import annotations

import zlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import orjson

from events import parse_event, serialize_event
from projections import kpi_fold, org, pipeline
from projections.incentives import ledger
from projections.incentives.approvals import final_payouts
from projections.incentives.context import Context, context_of
from projections.kpi_attainment import attainment_distribution
from projections.periods import local_day, period_key
from sales.process import default_process
from services.gauges.business import _commission, business_numbers
from services.projector.partition import PartitionProjection
from services.projector.readmodels import read_models
from services.projector.store import MemoryStore
from services.simulator import simulate_envelopes
from tests.samples import sample_event

TZ = "Europe/Berlin"
PROCESS = default_process()
RECORDED = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def body(projection: PartitionProjection, model: str) -> bytes:
    """What the partials endpoint serves for one worker owning one partition."""
    partials = [[projection.partition, key, orjson.loads(value)] for key, value in projection.partials(model)]
    return orjson.dumps({"partials": partials, "partitions": [projection.partition]})


def test_numbers_from_two_workers_bodies_equal_the_pure_folds_of_the_history() -> None:
    history = [
        parse_event(serialize_event(e.recorded(RECORDED)))
        for e in simulate_envelopes(9, reps=8, leads=120, start=date(2026, 7, 1), weeks=13)
    ]
    models = read_models(PROCESS, TZ)
    halves = [PartitionProjection(p, models, MemoryStore()) for p in (0, 1)]
    for offset, event in enumerate(history):  # as two partitions, each owned by a worker
        halves[zlib.crc32(event.partition_key.encode()) % 2].fold(offset, event)
    now = datetime(2026, 9, 15, 12, tzinfo=UTC)
    bodies = {
        name: [(f"worker {half.partition}", frozenset({half.partition}), body(half, name)) for half in halves]
        for name in ("pipeline", "kpis", "org", "incentives")
    }

    numbers = business_numbers(bodies, PROCESS, TZ, now, 2)

    state = org.fold(history)
    deals = pipeline.deal_views(pipeline.fold(history, PROCESS).values(), PROCESS).values()
    rows = pipeline.pipeline_summary(deals, state, PROCESS, now, "stage", timedelta(days=14))
    assert [(s.stage, s.currency, s.deals) for s in numbers.stages] == [
        (r.group or "unknown", r.currency, r.count) for r in rows
    ]
    assert [s.value for s in numbers.stages] == [float(r.value) for r in rows]
    assert sum(s.deals for s in numbers.stages) > 0
    book = kpi_fold.fold(history, TZ)
    quarter = period_key("quarter", now, TZ)
    expected = attainment_distribution(book, state, quarter, PROCESS, on=local_day(now, TZ))
    assert numbers.attainment == expected
    assert sum(numbers.attainment.values()) > 0
    earned: dict[tuple[str, str], Decimal] = {}
    context = context_of(state, book, PROCESS)
    for result in final_payouts(ledger.fold(history), TZ, quarter, context=context):
        for currency, total in result.totals().items():
            key = (currency, org.team_of(state, result.rep_id, local_day(now, TZ)) or "none")
            earned[key] = earned.get(key, Decimal(0)) + total
    assert numbers.earned == earned
    assert sum(numbers.earned.values()) > 0, "a simulated quarter earns commission"


def test_paid_is_the_payouts_approved_for_periods_ending_this_quarter_by_currency_and_team() -> None:
    history = [
        sample_event("RepOnboarded", "2026-01-05T09:00:00Z", "on-ada", rep_id="rep-ada", team_id="team-emea"),
        *(
            sample_event(
                "PayoutApproved",
                at,
                f"pay-{n}",
                payout_id=f"pay-{n}",
                rep_id="rep-ada",
                period={"kind": "month", "start": start, "end": end},
                amount={"amount": amount, "currency": "EUR"},
            )
            for n, (at, start, end, amount) in enumerate(
                [
                    ("2026-08-03T09:00:00Z", "2026-07-01", "2026-07-31", "1200.00"),
                    ("2026-09-02T09:00:00Z", "2026-08-01", "2026-08-31", "800.50"),
                    ("2026-07-02T09:00:00Z", "2026-06-01", "2026-06-30", "999.00"),  # a Q2 period
                ]
            )
        ),
    ]
    now = datetime(2026, 9, 15, 12, tzinfo=UTC)
    state = org.fold(history)
    _, paid = _commission(ledger.fold(history), Context(state), state, "2026-Q3", TZ, local_day(now, TZ))
    assert paid == {("EUR", "team-emea"): Decimal("2000.50")}
