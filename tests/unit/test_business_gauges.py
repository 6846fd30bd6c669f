"""The business gauges' numbers, computed from partials bodies, equal the pure folds' answers."""

from __future__ import annotations

import zlib
from datetime import UTC, date, datetime, timedelta

import orjson

from events import parse_event, serialize_event
from projections import kpi_fold, org, pipeline
from projections.kpi_attainment import attainment_distribution
from projections.periods import local_day, period_key
from sales.process import default_process
from services.gauges.business import business_numbers
from services.projector.partition import PartitionProjection
from services.projector.readmodels import read_models
from services.projector.store import MemoryStore
from services.simulator import simulate_envelopes

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
    bodies = {name: [body(half, name) for half in halves] for name in ("pipeline", "kpis", "org")}

    numbers = business_numbers(bodies, PROCESS, TZ, now)

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
