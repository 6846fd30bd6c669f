"""Operational and business gauges, refreshed on a timer.

Lag is per worker (what this worker still has to read). Business gauges (the pipeline by stage,
quota attainment by team) are computed from the merged read models by one worker only, the relay
leader, so a Prometheus sum across workers never counts a deal twice; bounded labels only (stage,
currency, team, bucket), never a deal or a rep. The folds run in a thread so that a large book
does not stall the event loop the projector and the API share.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import faust

from projections import kpi_fold, org, pipeline
from projections.kpi_attainment import attainment_distribution
from projections.periods import local_day, period_key
from services.metrics import (
    ATTAINMENT_REPS,
    CONSUMER_LAG,
    PIPELINE_OPEN_DEALS,
    PIPELINE_OPEN_VALUE,
    PIPELINE_WEIGHTED_VALUE,
)
from services.projector.service import Projector
from services.worker.query_views import merged_states
from services.worker.runtime import Runtime

log = logging.getLogger(__name__)
REFRESH_SECONDS = 15.0


def refresh_lag(app: faust.App) -> None:
    """End offset minus the next offset to read, summed per topic over this worker's partitions."""
    lag: dict[str, int] = {}
    for tp in app.consumer.assignment():
        read = app.consumer._read_offset.get(tp)  # type: ignore[attr-defined]  # no public read position
        try:
            end = app.consumer.highwater(tp)
        except Exception:  # not fetched yet
            end = None
        behind = max(end - (read + 1 if read is not None else 0), 0) if end is not None else 0
        lag[tp.topic] = lag.get(tp.topic, 0) + behind
    for topic, value in lag.items():
        CONSUMER_LAG.labels(topic).set(value)


async def refresh_pipeline(app: faust.App, projector: Projector, runtime: Runtime) -> None:
    for gauge in (PIPELINE_OPEN_VALUE, PIPELINE_WEIGHTED_VALUE, PIPELINE_OPEN_DEALS):
        gauge.clear()
    if not runtime.relay.lease.held():
        return
    process = runtime.store.process
    states, _ = await merged_states(app, projector, "pipeline")
    at = datetime.now(UTC)  # stuck counts are not exported, so "now" only dates the view

    def summary() -> list[pipeline.PipelineRow]:
        deals = pipeline.deal_views((state for _, state in states), process).values()
        return pipeline.pipeline_summary(deals, org.OrgState(), process, at, "stage", timedelta(days=14))

    rows = await asyncio.to_thread(summary)
    for row in rows:
        stage = row.group or "unknown"
        PIPELINE_OPEN_DEALS.labels(stage).inc(row.count)
        if row.currency is not None:
            PIPELINE_OPEN_VALUE.labels(stage, row.currency).set(float(row.value))
            PIPELINE_WEIGHTED_VALUE.labels(stage, row.currency).set(float(row.weighted_value))


async def refresh_attainment(app: faust.App, projector: Projector, runtime: Runtime) -> None:
    """Reps per (team, attainment bucket) for the current quarter in the organisation's time zone."""
    ATTAINMENT_REPS.clear()
    if not runtime.relay.lease.held():
        return
    tz, now = runtime.settings.org_timezone, datetime.now(UTC)
    kpi_states, _ = await merged_states(app, projector, "kpis")
    org_states, _ = await merged_states(app, projector, "org")

    def distribution() -> dict[tuple[str, str], int]:
        book = kpi_fold.merge_partials(kpi_states, tz)
        state = org.OrgState()
        for _, partial in org_states:
            state = org.merge(state, partial)
        quarter = period_key("quarter", now, tz)
        return attainment_distribution(book, state, quarter, runtime.store.process, on=local_day(now, tz))

    for (team, bucket), reps in (await asyncio.to_thread(distribution)).items():
        ATTAINMENT_REPS.labels(team, bucket).set(reps)


def register_gauges(app: faust.App, projector: Projector, runtime: Runtime) -> None:
    @app.timer(REFRESH_SECONDS)  # type: ignore[untyped-decorator]
    async def refresh_gauges() -> None:
        try:
            refresh_lag(app)
            await refresh_pipeline(app, projector, runtime)
            await refresh_attainment(app, projector, runtime)
        except Exception:  # a gauge must never take the worker down
            log.exception("refreshing gauges failed")
