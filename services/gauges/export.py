"""Operational and business gauges, refreshed on a timer.

Lag is per worker (what this worker still has to read). Business gauges (the pipeline by stage,
quota attainment by team) are computed from the merged read models by one worker only, the relay
leader, so a Prometheus sum across workers never counts a deal twice; bounded labels only (stage,
currency, team, bucket), never a deal or a rep. The passes over whole read models run in a child
process (`services.gauges.business`), so they never stall the projector's event loop.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime

import faust

from sales.process import ProcessConfig
from services.gauges.business import business_numbers
from services.metrics import (
    ATTAINMENT_REPS,
    COMMISSION_EARNED,
    COMMISSION_PAID,
    CONSUMER_LAG,
    DEALS_WON,
    PIPELINE_OPEN_DEALS,
    PIPELINE_OPEN_VALUE,
    PIPELINE_WEIGHTED_VALUE,
    PROJECTION_FAILING,
    WON_REVENUE,
)
from services.projector.service import Projector
from services.queries.fanout import partial_bodies

log = logging.getLogger(__name__)
BUSINESS = (
    PIPELINE_OPEN_VALUE,
    PIPELINE_WEIGHTED_VALUE,
    PIPELINE_OPEN_DEALS,
    ATTAINMENT_REPS,
    COMMISSION_EARNED,
    COMMISSION_PAID,
    DEALS_WON,
    WON_REVENUE,
)
"""Exported by the relay leader only (cleared on every other worker)."""


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


PR_SET_PDEATHSIG = 1
"""prctl(2): the signal the kernel sends this process when its parent dies (Linux)."""


def die_with_parent(parent: int) -> None:
    """The gauge child's first act: ask the kernel to SIGKILL it when the worker dies, however the
    worker dies. A worker killed with SIGKILL runs no clean-up, and its child (and with it
    multiprocessing's resource tracker, which waits for both to close its pipe) lived on, holding
    hundreds of MiB (issue 15). Elsewhere than Linux the child ends when the worker stops cleanly."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the worker died before the request above was made
        os._exit(0)


class BusinessGauges:
    """Refreshes the business gauges from a child process (`services.gauges.business`)."""

    def __init__(
        self, projector: Projector, leads: Callable[[], bool], process: ProcessConfig, timezone: str
    ) -> None:
        self.projector, self.leads, self.process, self.timezone = projector, leads, process, timezone
        self._pool: ProcessPoolExecutor | None = None

    async def refresh(self) -> None:
        if not self.leads():
            for gauge in BUSINESS:
                gauge.clear()
            return
        bodies = {
            name: await partial_bodies(self.projector, name)
            for name in ("pipeline", "kpis", "org", "incentives")
        }
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=die_with_parent,
                initargs=(os.getpid(),),
            )
        numbers = await asyncio.get_running_loop().run_in_executor(
            self._pool,
            business_numbers,
            bodies,
            self.process,
            self.timezone,
            datetime.now(UTC),  # stuck counts are not exported, so "now" only picks the quarter
            self.projector.settings.topic_partitions,
        )
        for gauge in BUSINESS:
            gauge.clear()
        for row in numbers.stages:
            PIPELINE_OPEN_DEALS.labels(row.stage).inc(row.deals)
            if row.currency is not None:
                PIPELINE_OPEN_VALUE.labels(row.stage, row.currency).set(row.value)
                PIPELINE_WEIGHTED_VALUE.labels(row.stage, row.currency).set(row.weighted_value)
        for (team, bucket), reps in numbers.attainment.items():
            ATTAINMENT_REPS.labels(team, bucket).set(reps)
        for (currency, team), amount in numbers.earned.items():
            COMMISSION_EARNED.labels(currency, team).set(float(amount))
        for (currency, team), amount in numbers.paid.items():
            COMMISSION_PAID.labels(currency, team).set(float(amount))
        for (currency, team), (deals, revenue) in numbers.won.items():
            DEALS_WON.labels(currency, team).set(deals)
            WON_REVENUE.labels(currency, team).set(float(revenue))


def refresh_failing(projector: Projector) -> None:
    """How long the projector has been failing (`Projector.failing`), for the changelog alert."""
    failing = projector.failing
    PROJECTION_FAILING.set(time.monotonic() - failing[0] if failing is not None else 0.0)


def register_gauges(app: faust.App, business: BusinessGauges, every: float) -> None:
    """Refresh lag and the business gauges every ``every`` seconds."""

    @app.timer(every)  # type: ignore[untyped-decorator]
    async def refresh_gauges() -> None:
        try:
            refresh_lag(app)
            refresh_failing(business.projector)
            await business.refresh()
        except Exception:  # a gauge must never take the worker down
            log.exception("refreshing gauges failed")
