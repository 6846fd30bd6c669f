"""Operational and business gauges, refreshed on a timer.

Lag is per worker (what this worker still has to read). Business gauges (the pipeline by stage)
are computed from the merged read model by one worker only, the relay leader, so a Prometheus sum
across workers never counts a deal twice; bounded labels only (stage, currency), never a deal or
a rep.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import faust

from projections import pipeline
from projections.org import OrgState
from services.metrics import CONSUMER_LAG, PIPELINE_OPEN_DEALS, PIPELINE_OPEN_VALUE, PIPELINE_WEIGHTED_VALUE
from services.worker.channels import Channels
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


async def refresh_pipeline(app: faust.App, channels: Channels, runtime: Runtime) -> None:
    for gauge in (PIPELINE_OPEN_VALUE, PIPELINE_WEIGHTED_VALUE, PIPELINE_OPEN_DEALS):
        gauge.clear()
    if not runtime.relay.lease.held():
        return
    process = runtime.store.process
    states, _ = await merged_states(app, channels, runtime.settings, "pipeline")
    deals = pipeline.deal_views((state for _, state in states), process).values()
    at = datetime.now(UTC)  # stuck counts are not exported, so "now" only dates the view
    rows = pipeline.pipeline_summary(deals, OrgState(), process, at, "stage", timedelta(days=14))
    for row in rows:
        stage = row.group or "unknown"
        PIPELINE_OPEN_DEALS.labels(stage).inc(row.count)
        if row.currency is not None:
            PIPELINE_OPEN_VALUE.labels(stage, row.currency).set(float(row.value))
            PIPELINE_WEIGHTED_VALUE.labels(stage, row.currency).set(float(row.weighted_value))


def register_gauges(app: faust.App, channels: Channels, runtime: Runtime) -> None:
    @app.timer(REFRESH_SECONDS)  # type: ignore[untyped-decorator]
    async def refresh_gauges() -> None:
        try:
            refresh_lag(app)
            await refresh_pipeline(app, channels, runtime)
        except Exception:  # a gauge must never take the worker down
            log.exception("refreshing gauges failed")
