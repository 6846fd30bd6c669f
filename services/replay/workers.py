"""The fast batch path: the log's partitions folded in parallel, one process per share of them.

Source partitions are independent by construction (every partial belongs to one), so a replay
splits them among ``workers`` processes, each with its own raw consumer reading only its
partitions, its own `Rebuild`, and the collector kept quiet (`collecting_rarely`). Each sends its
progress back as it goes and its finished fold (`Folded`: the encoded partials, plain bytes) once
at the end; the parent merges them. The folds are the live projector's, as in one process: the
result is byte for byte the same (tested), only spread over the machine's cores.

The read models are rebuilt in each child from a `ModelSpec` (process file, time zone, names):
a `ReadModel` holds closures, which do not cross a process boundary.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sales.process import load_process
from services.kafka_access import KafkaAccess
from services.projector.readmodels import ReadModel, read_models
from services.replay.log import LogReader, Span
from services.replay.rebuild import Folded, Rebuild, collecting_rarely


@dataclass(frozen=True)
class ModelSpec:
    """How a child process rebuilds the read models: the settings they are made from."""

    process_file: Path | None
    timezone: str
    names: tuple[str, ...]

    def models(self) -> list[ReadModel]:
        wanted = set(self.names)
        everything = read_models(load_process(self.process_file), self.timezone)
        return [model for model in everything if model.name in wanted]


def shares(spans: Sequence[Span], workers: int) -> list[list[Span]]:
    """The spans with something to read split into at most ``workers`` shares of about equal
    size (largest first, each to the lightest share so far)."""
    out: list[list[Span]] = [[] for _ in range(max(workers, 1))]
    load = [0] * len(out)
    for span in sorted((s for s in spans if s.size), key=lambda s: (-s.size, s.partition)):
        lightest = load.index(min(load))
        out[lightest].append(span)
        load[lightest] += span.size
    return [share for share in out if share]


def fold_share(kafka: KafkaAccess, topic: str, spec: ModelSpec, share: list[Span], progress: Any) -> Folded:
    """In a child: read and fold ``share`` of the log, reporting each batch's size to ``progress``."""
    return asyncio.run(_fold_share(kafka, topic, spec, share, progress))


async def _fold_share(
    kafka: KafkaAccess, topic: str, spec: ModelSpec, share: list[Span], progress: Any
) -> Folded:
    rebuild = Rebuild(spec.models())
    with collecting_rarely():
        async with LogReader(kafka, topic) as log:
            async for partition, records in log.records(share):
                rebuild.fold(partition, records)
                progress.put(len(records))
        rebuild.finish()
    return Folded.of(rebuild)


def fold_in_parallel(
    kafka: KafkaAccess, topic: str, spec: ModelSpec, spans: Sequence[Span], workers: int, advance: Any
) -> Folded:
    """Fold every span across ``workers`` processes; ``advance(n)`` is called as events are folded."""
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, ProcessPoolExecutor(len(shares(spans, workers)) or 1, context) as pool:
        progress = manager.Queue()
        futures: list[Future[Folded]] = [
            pool.submit(fold_share, kafka, topic, spec, share, progress) for share in shares(spans, workers)
        ]
        while not all(future.done() for future in futures):
            try:
                advance(progress.get(timeout=0.2))
            except queue.Empty:
                continue
        while True:  # what was reported after the last check
            try:
                advance(progress.get_nowait())
            except queue.Empty:
                break
        parts = [future.result() for future in futures]
    if not parts:
        return Folded.of(Rebuild(spec.models()))
    return Folded.merged(parts)
