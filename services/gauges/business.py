"""The business gauges' numbers, computed in a child process from the read models' raw partials.

A business gauge (pipeline by stage, attainment by team) needs a pass over a whole read model:
decoding every partial and folding them. Done inside the worker, that pass allocated enough to
trigger full garbage collections of 100 to 300 ms that stalled the projector's event loop
(docs/performance.md). So the worker only hands over bytes, the JSON bodies the partials endpoint
serves (``{"partials": [[partition, key, [offset, state]], ...], "partitions": [...]}``, its own
and its peers'), and this module, run in a separate process, decodes and folds them with the same
pure functions the queries use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from projections import kpi_fold, org, pipeline
from projections.kpi_attainment import attainment_distribution
from projections.periods import local_day, period_key
from sales.process import ProcessConfig
from services.projector.readmodels import ReadModel, read_models
from services.queries.fanout import read_body


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


def _states(model: ReadModel, bodies: Sequence[bytes]) -> list[tuple[str, Any]]:
    return [
        (key, model.loaded(key, stored).state) for body in bodies for _, key, stored in read_body(body)[0]
    ]


def business_numbers(
    bodies: Mapping[str, Sequence[bytes]], process: ProcessConfig, timezone: str, now: datetime
) -> BusinessNumbers:
    """The gauges' values from every worker's partials bodies of ``pipeline``, ``kpis`` and ``org``."""
    models = {model.name: model for model in read_models(process, timezone)}
    state = org.merge_all(partial for _, partial in _states(models["org"], bodies["org"]))
    deals = pipeline.deal_views((s for _, s in _states(models["pipeline"], bodies["pipeline"])), process)
    rows = pipeline.pipeline_summary(deals.values(), state, process, now, "stage", timedelta(days=14))
    stages = tuple(
        StageTotal(
            row.group or "unknown", row.currency, row.count, float(row.value), float(row.weighted_value)
        )
        for row in rows
    )
    book = kpi_fold.merge_partials(_states(models["kpis"], bodies["kpis"]), timezone)
    quarter = period_key("quarter", now, timezone)
    attainment = attainment_distribution(book, state, quarter, process, on=local_day(now, timezone))
    return BusinessNumbers(stages, attainment)
