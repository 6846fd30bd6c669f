"""`salesledger replay` and `salesledger audit compare`: read, fold, write or compare, report."""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import orjson
from tqdm import tqdm

from services.audit.sources import open_store, store_records
from services.kafka_access import KafkaAccess
from services.outbox.relay import partition_for
from services.projector.readmodels import ReadModel
from services.replay.compare import Difference, compare, last_offsets
from services.replay.live import LiveError, check_coverage, directory, gather
from services.replay.log import LogReader
from services.replay.rebuild import Folds, Rebuild, collecting_rarely, document, summary
from services.replay.workers import ModelSpec, fold_in_parallel


@dataclass(frozen=True)
class Replayed:
    rebuild: Folds
    seconds: float
    partitions: int

    @property
    def rate(self) -> float:
        return self.rebuild.events / self.seconds if self.seconds > 0 else 0.0

    def describe(self) -> str:
        skipped = sum(self.rebuild.skipped.values())
        return (
            f"replayed {self.rebuild.events} events ({skipped} skipped as the projector would "
            f"dead-letter them) of {self.partitions} partitions in {self.seconds:.2f} s: "
            f"{self.rate:,.0f} events/s"
        )


def chosen(models: Sequence[ReadModel], names: Sequence[str] | None) -> list[ReadModel]:
    """The read models named (all of them when none is), in the projector's order."""
    if not names:
        return list(models)
    known = {model.name for model in models}
    unknown = sorted(set(names) - known)
    if unknown:
        raise ValueError(f"no read model {', '.join(unknown)} (there are: {', '.join(sorted(known))})")
    return [model for model in models if model.name in set(names)]


async def replay(
    kafka: KafkaAccess,
    topic: str,
    models: Sequence[ReadModel],
    upto: Mapping[int, int] | None = None,
    progress: TextIO | None = sys.stderr,
    *,
    spec: ModelSpec | None = None,
    workers: int = 1,
) -> Replayed:
    """Fold the log (to its end offsets now, or to ``upto`` per partition) into fresh read models;
    with ``spec`` and ``workers`` above one, its partitions are folded by that many processes
    (`services.replay.workers`), with the same result."""
    began = time.perf_counter()
    async with LogReader(kafka, topic) as log:
        spans = await log.spans(upto)
        bar = tqdm(
            total=sum(span.size for span in spans),
            unit="ev",
            unit_scale=True,
            mininterval=1.0,
            file=progress,
            disable=progress is None,
            desc="replay",
        )
        with bar:
            if spec is not None and workers > 1:
                folded: Folds = await asyncio.to_thread(
                    fold_in_parallel, kafka, topic, spec, spans, workers, bar.update
                )
            else:
                rebuild = Rebuild(models)
                with collecting_rarely():
                    async for partition, records in log.records(spans):
                        rebuild.fold(partition, records)
                        bar.update(len(records))
                    rebuild.finish()
                folded = rebuild
    return Replayed(folded, time.perf_counter() - began, len(spans))


def replay_store(
    database_url: str,
    models: Sequence[ReadModel],
    partitions: int,
    progress: TextIO | None = sys.stderr,
    batch: int = 10_000,
) -> Replayed:
    """Fold the event store (SQLite or PostgreSQL) instead of the log: every recorded event in the
    store's order, each on the partition the relay sends it to (`outbox.relay.partition_for`) at
    the next offset of that partition. So the partials are the log's when the relay wrote each
    event once (a republished record shifts Kafka's offsets, never the states): compare states,
    not offsets. A stored event that no longer decodes is skipped and counted (`unreadable`)."""
    began = time.perf_counter()
    rebuild = Rebuild(models)
    model = open_store(database_url)
    offsets: Counter[int] = Counter()
    pending: dict[int, list[StoredRecord]] = {}
    waiting = 0
    bar = tqdm(
        unit="ev", unit_scale=True, mininterval=1.0, file=progress, disable=progress is None, desc="replay"
    )
    try:
        with bar, collecting_rarely():
            for record in store_records(model):
                if record.problem:
                    rebuild.skipped["unreadable"] += 1
                    continue
                partition = partition_for(record.key, partitions)
                stored = StoredRecord(offsets[partition], record.envelope.encode())
                pending.setdefault(partition, []).append(stored)
                offsets[partition] += 1
                waiting += 1
                if waiting >= batch:
                    bar.update(_fold_pending(rebuild, pending))
                    waiting = 0
            bar.update(_fold_pending(rebuild, pending))
            rebuild.finish()
    finally:
        model.close()
    return Replayed(rebuild, time.perf_counter() - began, len(offsets))


@dataclass(frozen=True, slots=True)
class StoredRecord:
    offset: int
    value: bytes


def _fold_pending(rebuild: Rebuild, pending: dict[int, list[StoredRecord]]) -> int:
    folded = 0
    for partition in sorted(pending):
        rebuild.fold(partition, pending[partition])
        folded += len(pending[partition])
    pending.clear()
    return folded


def write(out: Path, replayed: Replayed) -> list[Path]:
    """One JSON file per read model (`rebuild.document`) and `replay.json` (`rebuild.summary`)."""
    out.mkdir(parents=True, exist_ok=True)
    rebuild, written = replayed.rebuild, []
    for model in rebuild.models:
        path = out / f"{model.name}.json"
        path.write_bytes(document(model.name, rebuild.partials(model.name)))
        written.append(path)
    path = out / "replay.json"
    path.write_bytes(summary(rebuild))
    return [*written, path]


@dataclass(frozen=True)
class Compared:
    differences: list[Difference]
    replayed: Replayed
    live_partials: int
    urls: list[str]


async def compare_live(
    kafka: KafkaAccess,
    topic: str,
    group: str,
    partitions: int,
    models: Sequence[ReadModel],
    urls: Sequence[str] | None,
    to_end: bool,
    progress: TextIO | None = sys.stderr,
) -> Compared:
    """Fetch the live partials first, then replay what they reflect (or the whole log) and diff.

    Without ``to_end`` each source partition is replayed up to the last offset any live partial of
    it has folded in, so events the workers have not reached yet are no difference.
    """
    if not urls:
        found = await directory(kafka, group)
        if not found:
            raise LiveError(f"no worker in the projector group {group!r}: pass --url")
        urls = sorted(found)
    names = [model.name for model in models]
    live, covered = await gather(urls, names)
    check_coverage(covered, partitions)
    upto = None if to_end else {p: last + 1 for p, last in last_offsets(live).items()}
    replayed = await replay(kafka, topic, models, upto, progress)
    replayed_partials: dict[str, dict[tuple[int, str], Any]] = {
        name: {k: orjson.loads(v) for k, v in replayed.rebuild.partials(name).items()} for name in names
    }
    differences = compare(live, replayed_partials)
    return Compared(differences, replayed, sum(len(p) for p in live.values()), list(urls))
