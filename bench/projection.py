"""Live projection (issue #5): throughput of one worker folding the canonical topic into every read
model, as a ratio to a raw aiokafka consumer of the same topic; end-to-end latency at a steady rate;
memory per worker.

    .venv/bin/python -m bench.projection                        # 200,000 events, 1M deals (about 10 minutes)
    .venv/bin/python -m bench.projection --events 20000 --no-memory-estimate   # quick run
    .venv/bin/python -m bench.projection --only-memory --memory-store memory   # memory part only
    .venv/bin/python -m bench.projection --json p.json --profile p.prof

One run starts a private Kafka broker (free ports, temporary data dir, its own topic prefix) and
fills a fresh canonical topic DIRECTLY (the write model is bypassed, to isolate projection cost)
with the simulator's history (`services.simulator`, seed 7, cut after ``--events`` events): each
value is ``serialize_event(event.recorded(now))``, keyed by ``event.partition_key``, with a
``salesledger.seq`` header, as the relay writes them. Then:

1. **Baseline**: a raw aiokafka consumer (no group) reads the topic from offset 0 with ``getmany``
   and ``json.loads`` of every value until all N are read; best of ``--baseline-runs``.
2. **Worker**: one ``salesledger worker`` (own app id, Faust tables in ``memory://``, the same topic
   prefix, its write model on SQLite in the temp dir) starts and projects the topic from offset 0.
   Progress is its ``salesledger_projection_events_total{read_model="rep-activity"}`` (applied +
   ignored + duplicate: one per event), scraped every 0.25 s. The rate counts from the first scrape
   that shows progress to the scrape that shows all N (worker start-up excluded); the time from
   the worker being ready is reported too.
3. **Memory (live)**: the worker's VmRSS and VmHWM from /proc after (2), and at readiness.
4. **Latency**: with the worker caught up (then idle ``--settle`` seconds), ``--latency-rate``
   events/s (default 1,000) of the history's continuation for ``--latency-seconds`` (default 20),
   ``recordedtime`` stamped when each is sent; p50/p99 from the delta of the worker's
   ``salesledger_projection_latency_seconds`` histogram (recorded time to every read model
   updated), interpolated linearly inside a bucket as Prometheus' ``histogram_quantile`` does.
   Buckets: 5, 10, 25, 50, 100, 250, 500 ms, 1 s ...: a quantile is only known to lie within its
   bucket (both bounds are printed). Beside it, a raw consumer reading the same records gives the
   exact broker delivery latency (the floor), and the CPU of the worker and of the rest of the
   machine during the run is printed: the latency depends on whether the two cores are free.
5. **Memory (measured)**: in a separate (spawned) process, the projector's own engine without
   Kafka: one ``services.projector.partition.PartitionProjection`` per source partition (4, as a
   worker with the topic's 4 partitions) over the real store (``--memory-store rocksdb``, the
   default store, in a temporary directory removed afterwards, or ``memory``), with the worker's
   ``projection_cache_size`` and ``projection_batch_max``. It folds synthetic open deals: per deal
   a lead captured, three activities on three days, qualification, needs assessment, solution
   presented and a stage change (the simulator's own events with ids, reps and days rewritten),
   spread over ``--reps`` reps who were each onboarded first (org model). Each event goes to the
   partition Kafka's partitioner picks for its key, at the next offset of that partition; every
   ``projection_batch_max`` events a partition writes its batch (``pending()`` then ``written()``)
   as the worker does after the changelog acknowledges it. ``gc.freeze()`` after set-up, as the
   worker (``services.faust_tuning.freeze_startup_objects``). The process's VmRSS and
   VmHWM (after a ``gc.collect()``), the store directory's size on disk (WAL included: it shrinks
   when RocksDB flushes; the size once the stores are closed is printed too) and the time are
   read every ``--memory-checkpoint`` deals (a tenth of the run at most) and after the last of
   ``--memory-deals`` (default 1,000,000 with 10,000 reps, so the aim "a worker under 2 GiB with
   one million open deals" is measured, not extrapolated: about 7 minutes on 2 quiet cores).
   With fewer deals, VmRSS and VmHWM at one million are extrapolated linearly from the readings
   of the second half of the run, and printed as an extrapolation. Not included: what the rest
   of a worker holds (Faust, aiokafka, the write model: see its VmRSS at ready in (3));
   included: the interpreter, the read models, the cache of decoded partials, the batch in
   progress and RocksDB's memtables, block cache and indexes.
   ``--only-memory`` runs this part alone (no broker); ``--no-memory-estimate`` skips it.

``--profile PATH`` runs the worker under cProfile (it is much slower then: do not quote its
figures) and prints its top functions at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import gc
import itertools
import json
import multiprocessing
import os
import queue as queue_module
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.partitioner import murmur2
from prometheus_client.parser import text_string_to_metric_families

from bench.ingest import (
    BenchWorker,
    CpuMeter,
    bench_settings,
    machine,
    print_profile,
    revision,
    worker_command,
)
from events import Envelope
from events.parse import serialize_event
from services import broker
from services.kafka_access import aiokafka_options
from services.settings import Settings
from services.simulator import simulate_envelopes
from services.topics import ensure_topics

SEQ_HEADER = "salesledger.seq"
METRICS_POLL_SECONDS = 0.25
STALL_SECONDS = 60.0
LATENCY_METRIC = "salesledger_projection_latency_seconds"
PROGRESS_METRIC = "salesledger_projection_events_total"


# --- workload ------------------------------------------------------------------------------------


def history(count: int, seed: int) -> list[Envelope]:
    """The first `count` events of a simulated sales org (about 8.6 events per lead)."""
    leads = count // 8 + 100
    reps = max(20, leads // 150)
    return list(itertools.islice(simulate_envelopes(seed, reps, leads, date(2026, 1, 5)), count))


@dataclass(frozen=True)
class Record:
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


def records(events: Sequence[Envelope], first_seq: int) -> list[Record]:
    now = datetime.now(UTC)
    return [
        Record(e.partition_key.encode(), serialize_event(e.recorded(now)), [(SEQ_HEADER, str(seq).encode())])
        for seq, e in enumerate(events, start=first_seq)
    ]


def producer(settings: Settings) -> AIOKafkaProducer:
    return AIOKafkaProducer(**aiokafka_options(settings), enable_idempotence=True, acks="all")


async def fill(settings: Settings, batch: Sequence[Record]) -> float:
    client = producer(settings)
    await client.start()
    try:
        began = time.perf_counter()
        futures = [
            await client.send(settings.topic_events, r.value, key=r.key, headers=r.headers) for r in batch
        ]
        await asyncio.gather(*futures)
        return time.perf_counter() - began
    finally:
        await client.stop()


# --- measuring -----------------------------------------------------------------------------------


async def raw_consume(settings: Settings, count: int) -> float:
    """Seconds for a raw consumer to read and JSON-decode the first `count` records (start excluded)."""
    consumer = AIOKafkaConsumer(
        settings.topic_events,
        **aiokafka_options(settings),
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        began = time.perf_counter()
        seen = 0
        while seen < count:
            batch = await consumer.getmany(timeout_ms=1000)
            for partition_records in batch.values():
                for record in partition_records:
                    json.loads(record.value or b"")
                seen += len(partition_records)
        return time.perf_counter() - began
    finally:
        await consumer.stop()


class Metrics:
    def __init__(self, session: aiohttp.ClientSession, settings: Settings) -> None:
        self.session = session
        self.url = f"http://{settings.web_host}:{settings.web_port}/metrics"

    async def samples(self) -> list[tuple[str, dict[str, str], float]]:
        async with self.session.get(self.url) as response:
            text = await response.text()
        return [
            (s.name, s.labels, s.value)
            for family in text_string_to_metric_families(text)
            for s in family.samples
        ]

    async def projected(self) -> float:
        """Events the projector has handled (rep-activity counts every event once: applied,
        ignored or duplicate)."""
        return sum(
            value
            for name, labels, value in await self.samples()
            if name == f"{PROGRESS_METRIC}" and labels.get("read_model") == "rep-activity"
        )

    async def latency_buckets(self) -> dict[float, float]:
        return {
            float(labels["le"]): value
            for name, labels, value in await self.samples()
            if name == f"{LATENCY_METRIC}_bucket" and labels.get("read_model") == "all"
        }


async def wait_projected(metrics: Metrics, target: float) -> list[tuple[float, float]]:
    """(time, events projected) scrapes until `target`; fails when progress stalls."""
    trace: list[tuple[float, float]] = []
    last, moved = -1.0, time.perf_counter()
    while True:
        value = await metrics.projected()
        now = time.perf_counter()
        trace.append((now, value))
        if value >= target:
            return trace
        if value != last:
            last, moved = value, now
        elif now - moved > STALL_SECONDS:
            raise TimeoutError(f"projector stuck at {value:.0f} of {target:.0f} for {STALL_SECONDS:.0f}s")
        await asyncio.sleep(METRICS_POLL_SECONDS)


def quantile(q: float, before: dict[float, float], after: dict[float, float]) -> dict[str, float]:
    """Prometheus-style quantile of the observations between two cumulative histogram readings,
    with the bucket that holds it."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    total = counts[-1]
    if total <= 0:
        return {"seconds": float("nan"), "low": float("nan"), "high": float("nan")}
    rank = q * total
    low, below = 0.0, 0.0
    for bound, cumulative in zip(bounds, counts, strict=True):
        if cumulative >= rank:
            if bound == float("inf"):
                return {"seconds": low, "low": low, "high": bound}
            inside = cumulative - below
            fraction = (rank - below) / inside if inside else 1.0
            return {"seconds": low + (bound - low) * fraction, "low": low, "high": bound}
        low, below = bound, cumulative
    return {"seconds": bounds[-1], "low": bounds[-1], "high": bounds[-1]}


def rss_kib(pid: int) -> dict[str, int]:
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
    )
    return {name: int(fields[name].split()[0]) for name in ("VmRSS", "VmHWM")}


async def delivery_watcher(settings: Settings) -> AIOKafkaConsumer:
    """A raw consumer positioned at the canonical topic's end: what the broker delivers, and when."""
    tps = [TopicPartition(settings.topic_events, p) for p in range(settings.topic_partitions)]
    consumer = AIOKafkaConsumer(**aiokafka_options(settings), group_id=None)
    await consumer.start()
    consumer.assign(tps)
    await consumer.seek_to_end(*tps)
    for tp in tps:
        await consumer.position(tp)
    return consumer


async def watch(consumer: AIOKafkaConsumer, count: int, latencies: list[float]) -> None:
    """Seconds from each record's ``recordedtime`` to a raw consumer holding it, for `count` records."""
    while len(latencies) < count:
        batch = await consumer.getmany(timeout_ms=100)
        now = time.time()
        for partition_records in batch.values():
            for record in partition_records:
                recorded = json.loads(record.value or b"")["recordedtime"]
                latencies.append(now - datetime.fromisoformat(recorded).timestamp())


async def steady(
    settings: Settings,
    metrics: Metrics,
    events: Sequence[Envelope],
    rate: float,
    first_seq: int,
    cpu: CpuMeter,
) -> dict[str, Any]:
    """Produce `events` at `rate` per second, each stamped when sent; wait until all are projected;
    the latency quantiles from the worker's histogram."""
    start_count = await metrics.projected()
    before = await metrics.latency_buckets()
    delivery: list[float] = []
    watcher = await delivery_watcher(settings)
    watching = asyncio.create_task(watch(watcher, len(events), delivery))
    client = producer(settings)
    await client.start()
    try:
        cpu_before = cpu.sample()
        began = time.perf_counter()
        sent, futures = 0, []
        while sent < len(events):
            due = min(len(events), int((time.perf_counter() - began) * rate) + 1)
            while sent < due:
                event = events[sent]
                value = serialize_event(event.recorded(datetime.now(UTC)))
                headers = [(SEQ_HEADER, str(first_seq + sent).encode())]
                futures.append(
                    await client.send(
                        settings.topic_events, value, key=event.partition_key.encode(), headers=headers
                    )
                )
                sent += 1
            await asyncio.sleep(0.005)
        send_seconds = time.perf_counter() - began
        await asyncio.gather(*futures)
    finally:
        await client.stop()
    trace = await wait_projected(metrics, start_count + len(events))
    try:
        await asyncio.wait_for(watching, timeout=30)
    finally:
        await watcher.stop()
    delivery.sort()
    drained = trace[-1][0] - (began + send_seconds)
    usage = CpuMeter.cores(cpu_before, cpu.sample(), len(events))
    after = await metrics.latency_buckets()
    return {
        "events": len(events),
        "target_rate": rate,
        "achieved_rate": round(len(events) / send_seconds),
        "drain_seconds_after_last_send": round(drained, 2),
        "cpu_cores": usage,
        "observations": after[float("inf")] - before.get(float("inf"), 0.0),
        "p50": quantile(0.5, before, after),
        "p99": quantile(0.99, before, after),
        "buckets_s": sorted(b for b in after if b != float("inf")),
        "raw_delivery_s": {
            "p50": delivery[len(delivery) // 2],
            "p99": delivery[int(len(delivery) * 0.99)],
            "max": delivery[-1],
        },
    }


async def measure_live(
    args: argparse.Namespace, settings: Settings, tmp: Path, broker_pid: int | None
) -> dict[str, Any]:
    n, tail = args.events, int(args.latency_rate * args.latency_seconds)
    events = history(n + tail, args.seed)
    if len(events) < n + tail:
        raise RuntimeError(f"the simulator gave {len(events)} events, not {n + tail}")
    filled = records(events[:n], 1)
    fill_seconds = await fill(settings, filled)
    sizes = [len(r.value) for r in filled]
    baseline = [await raw_consume(settings, n) for _ in range(args.baseline_runs)]

    worker = BenchWorker(settings, tmp / "worker.log", worker_command(args.profile))
    launched = time.perf_counter()
    worker.start()
    ready = time.perf_counter()
    assert worker.process is not None
    pid = worker.process.pid
    rss_ready = rss_kib(pid)
    cpu = CpuMeter(pid, broker_pid)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            metrics = Metrics(session, settings)
            before = cpu.sample()
            trace = await wait_projected(metrics, n)
            usage = CpuMeter.cores(before, cpu.sample(), n)
            rss_after = rss_kib(pid)
            first = next((t, v) for t, v in trace if v > 0)
            done = trace[-1][0]
            if done <= first[0]:  # all N were projected by the first scrape showing progress
                first = (ready, 0.0)  # count from readiness instead
            worker_rate = (n - first[1]) / (done - first[0])
            await asyncio.sleep(args.settle)  # let changelog flushes and commits of the catch-up finish
            latency = await steady(settings, metrics, events[n:], args.latency_rate, n + 1, cpu)
            dead = await deadlettered(settings)
    except Exception:
        print(worker.log_tail(), file=sys.stderr)
        raise
    finally:
        worker.stop(timeout=60)
    if dead:
        raise RuntimeError(f"{dead} events went to the dead-letter topic")
    base = min(baseline)
    return {
        "events": n,
        "event_bytes": {"min": min(sizes), "mean": round(sum(sizes) / n), "max": max(sizes)},
        "fill_seconds": round(fill_seconds, 2),
        "baseline_runs_seconds": [round(s, 3) for s in baseline],
        "raw_events_per_s": round(n / base),
        "worker": {
            "events_per_s": round(worker_rate),
            "ratio": round(worker_rate / (n / base), 4),
            "counted_from_events": int(first[1]),
            "seconds_from_ready": round(done - ready, 2),
            "seconds_from_launch": round(done - launched, 2),
            "cpu_cores": usage,
        },
        "worker_memory_kib": {"at_ready": rss_ready, "after_throughput": rss_after},
        "latency": latency,
    }


async def deadlettered(settings: Settings) -> int:
    consumer = AIOKafkaConsumer(**aiokafka_options(settings), group_id=None)
    await consumer.start()
    try:
        tps = [TopicPartition(settings.topic_deadletter, p) for p in range(settings.topic_partitions)]
        return sum((await consumer.end_offsets(tps)).values())
    finally:
        await consumer.stop()


# --- memory (in its own process) -----------------------------------------------------------------

TWO_GIB_KIB = 2 * 2**20
AIM_DEALS = 1_000_000
"""The aim: a worker under 2 GiB with one million open deals (and 10,000 reps)."""
MEMORY_PARTITIONS = 4
"""Source partitions of one worker: the canonical topic's default (``topic_partitions``)."""


def _mib(kib: float) -> str:
    return f"{kib / 1024:,.0f} MiB"


def dir_bytes(root: Path) -> int:
    """Bytes of every file under `root` (RocksDB's SST files, WAL, manifests and logs)."""
    total = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            with contextlib.suppress(FileNotFoundError):  # removed by a compaction meanwhile
                total += (Path(folder) / name).stat().st_size
    return total


def _with_ids(event: Envelope, index: int, rep: str, shift: timedelta) -> Envelope:
    lead, deal = f"lead-{index:07d}", f"deal-{index:07d}"
    data: Any = event.data  # type: ignore[attr-defined]
    update = {k: v for k, v in (("lead_id", lead), ("deal_id", deal), ("rep_id", rep)) if hasattr(data, k)}
    subject = deal if event.subject and event.subject.startswith("deal-") else lead
    return event.model_copy(
        update={
            "id": f"{event.id}-{index}",
            "subject": subject,
            "correlationid": lead,
            "time": event.time + shift,
            "data": data.model_copy(update=update),
        }
    )


def deal_template(seed: int) -> tuple[list[Envelope], Envelope]:
    """One open deal's events from the simulator (lead captured, three activities, qualification,
    needs assessment, solution presented, a stage change) and a rep's onboarding."""
    sample = history(30_000, seed)
    deal_id = next(e.data.deal_id for e in sample if type(e).__name__ == "DealStageChanged")  # type: ignore[attr-defined]
    lead = next(e for e in sample if type(e).__name__ == "LeadQualified" and e.data.deal_id == deal_id)  # type: ignore[attr-defined]
    story = [e for e in sample if e.correlationid == lead.correlationid]
    wanted = ("LeadCaptured", "LeadQualified", "NeedsAssessed", "SolutionPresented", "DealStageChanged")
    activities = [e for e in story if type(e).__name__ in ("EmailSent", "CallLogged", "MeetingHeld")][:3]
    template = sorted(
        [next(e for e in story if type(e).__name__ == name) for name in wanted] + activities,
        key=lambda e: e.time,
    )
    onboarded = next(e for e in sample if type(e).__name__ == "RepOnboarded")
    return template, onboarded


@functools.lru_cache(maxsize=64)  # a deal's events share two keys: its lead's and its own
def partition_of(key: str, partitions: int) -> int:
    """Kafka's default partitioner, as the relay picks the partition (`services.outbox.relay`)."""
    return int((murmur2(key.encode()) & 0x7FFFFFFF) % partitions)


class WorkerFold:
    """The projector's fold without Kafka: one `PartitionProjection` per source partition, each
    written (`pending` + `written`) every ``batch_max`` events it folds, as a worker's batches are."""

    def __init__(self, projections: Sequence[Any], batch_max: int) -> None:
        self.projections = projections
        self.batch_max = batch_max
        self.offsets = [0] * len(projections)
        self.in_batch = [0] * len(projections)
        self.changelog = [0] * len(projections)
        self.events = 0

    def fold(self, event: Envelope) -> None:
        p = partition_of(event.partition_key, len(self.projections))
        self.projections[p].fold(self.offsets[p], event)
        self.offsets[p] += 1
        self.events += 1
        self.in_batch[p] += 1
        if self.in_batch[p] >= self.batch_max:
            self.write(p)

    def write(self, p: int) -> None:
        records = self.projections[p].pending()
        self.changelog[p] += len(records)  # the changelog offset: any increasing number will do
        self.projections[p].written(self.changelog[p] - 1)
        self.in_batch[p] = 0

    def write_all(self) -> None:
        for p, count in enumerate(self.in_batch):
            if count:
                self.write(p)


def memory_measure(
    deals: int, reps: int, seed: int, store: str, data_dir: Path, checkpoint_every: int
) -> dict[str, Any]:
    """What a worker holds, folding `deals` open deals over `reps` reps into the real projection
    (`PartitionProjection` over `store`, the worker's cache size and batch size)."""
    from sales.process import load_process
    from services.faust_tuning import freeze_startup_objects
    from services.projector.partition import PartitionProjection
    from services.projector.readmodels import read_models
    from services.projector.store import store_factory

    own = os.getpid()
    settings = Settings()
    models = read_models(load_process(settings.process_file), settings.org_timezone)
    template, onboarded = deal_template(seed)
    stores = store_factory(f"{store}://", data_dir, "bench")
    projections = [
        PartitionProjection(p, models, stores(p), settings.projection_cache_size)
        for p in range(MEMORY_PARTITIONS)
    ]
    worker = WorkerFold(projections, settings.projection_batch_max)
    rep_ids = [f"rep-{r:05d}" for r in range(reps)]
    freeze_startup_objects()  # as the worker does once started: see services/worker/faust_tuning
    at_start = rss_kib(own)

    def point(done: int, seconds: float) -> dict[str, Any]:
        gc.collect()
        return {
            "deals": done,
            "events": worker.events,
            "seconds": round(seconds, 1),
            **rss_kib(own),
            "disk_bytes": dir_bytes(data_dir),
            "cached_partials": sum(len(p._cache) for p in projections),
        }

    checkpoint_every = max(1, min(checkpoint_every, deals // 10))  # ten readings at least
    began = time.perf_counter()
    for r, rep in enumerate(rep_ids):
        worker.fold(_with_ids(onboarded, r, rep, timedelta()))
    worker.write_all()
    after_reps = point(0, time.perf_counter() - began)
    points: list[dict[str, Any]] = []
    began = time.perf_counter()
    events_before = worker.events
    for i in range(1, deals + 1):
        rep, shift = rep_ids[i % reps], timedelta(days=(i * 7) % 300)
        for event in template:
            worker.fold(_with_ids(event, i, rep, shift))
        if i % checkpoint_every == 0 or i == deals:
            if i == deals:
                worker.write_all()
            points.append(point(i, time.perf_counter() - began))
            last = points[-1]
            print(
                f"memory: {i:,} deals, VmRSS {_mib(last['VmRSS'])}, VmHWM {_mib(last['VmHWM'])},"
                f" disk {last['disk_bytes'] / 2**20:,.0f} MiB, {last['seconds']:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    seconds = points[-1]["seconds"]
    final = points[-1]
    stored = {model.name: [0, 0] for model in models}  # partials, bytes: read after measuring
    for projection in projections:
        for name, counts in stored.items():
            for key, value in projection.store.items(f"{name}|".encode()):
                counts[0] += 1
                counts[1] += len(key) + len(value)
        projection.store.close()
    marginal = None
    if len(points) >= 2:
        a, b = points[-2], points[-1]
        marginal = round((b["VmRSS"] - a["VmRSS"]) * 1024 / (b["deals"] - a["deals"]), 1)
    extrapolated = extrapolate(points, AIM_DEALS) if deals < AIM_DEALS else None
    basis = "measured" if deals >= AIM_DEALS else "extrapolated" if extrapolated else "unknown"
    hwm_at_aim = final["VmHWM"] if extrapolated is None else extrapolated["VmHWM"]
    return {
        "store": store,
        "deals": deals,
        "reps": reps,
        "partitions": MEMORY_PARTITIONS,
        "cache_size_per_partition": settings.projection_cache_size,
        "batch_max": settings.projection_batch_max,
        "events_per_deal": len(template),
        "template": [type(e).__name__ for e in template],
        "rss_at_start_kib": at_start,
        "after_reps": after_reps,
        "points": points,
        "final_rss_kib": final["VmRSS"],
        "final_hwm_kib": final["VmHWM"],
        "disk_bytes": final["disk_bytes"],
        "disk_bytes_closed": dir_bytes(data_dir),
        "stored_partials": {name: {"count": c, "bytes": b} for name, (c, b) in stored.items()},
        "rss_bytes_per_deal": round((final["VmRSS"] - after_reps["VmRSS"]) * 1024 / deals, 1),
        "rss_bytes_per_deal_last_interval": marginal,
        "disk_bytes_per_deal": round(final["disk_bytes"] / deals, 1),
        "fold_events_per_s": round((worker.events - events_before) / seconds) if seconds else None,
        "deals_per_s": round(deals / seconds) if seconds else None,
        "aim_kib": TWO_GIB_KIB,
        "aim_deals": AIM_DEALS,
        "extrapolated_to_aim": extrapolated,
        "aim_basis": basis,
        "aim_met": None if basis == "unknown" else hwm_at_aim < TWO_GIB_KIB,
    }


def extrapolate(points: Sequence[dict[str, Any]], deals: int) -> dict[str, Any] | None:
    """VmRSS and VmHWM at `deals`, continuing the least-squares line through the readings of the
    second half of the run (the decoded-partials cache is full by then) linearly: an extrapolation."""
    last = points[-1]["deals"]
    late = [p for p in points if p["deals"] >= last / 2]
    if len(late) < 2:
        return None
    mean_x = sum(p["deals"] for p in late) / len(late)
    mean_y = sum(p["VmRSS"] for p in late) / len(late)
    slope = sum((p["deals"] - mean_x) * (p["VmRSS"] - mean_y) for p in late) / sum(
        (p["deals"] - mean_x) ** 2 for p in late
    )
    rss = round(mean_y + slope * (deals - mean_x))
    return {
        "deals": deals,
        "from_points": [p["deals"] for p in late],
        "kib_per_deal": round(slope, 4),
        "VmRSS": rss,
        "VmHWM": max(rss, round(points[-1]["VmHWM"] + slope * (deals - last))),
    }


def _memory_child(args: tuple[Any, ...], queue: Any) -> None:
    queue.put(memory_measure(*args))


def run_memory_measure(deals: int, reps: int, seed: int, store: str, checkpoint_every: int) -> dict[str, Any]:
    """`memory_measure` in a fresh (spawned) process, its RocksDB in a temporary directory removed
    afterwards."""
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="salesledger-bench-memory-") as data_dir:
        queue = context.Queue()
        child = context.Process(
            target=_memory_child, args=((deals, reps, seed, store, Path(data_dir), checkpoint_every), queue)
        )
        child.start()
        try:
            while True:
                try:
                    result: dict[str, Any] = queue.get(timeout=1.0)
                    break
                except queue_module.Empty:
                    if not child.is_alive():
                        raise RuntimeError(f"the memory child died (exit code {child.exitcode})") from None
            child.join()
        finally:
            if child.is_alive():
                child.terminate()
                child.join()
    return result


# --- reporting -----------------------------------------------------------------------------------


def live_lines(live: dict[str, Any]) -> list[str]:
    worker, latency = live["worker"], live["latency"]
    raw = live["raw_events_per_s"]
    lines = [
        f"{'raw aiokafka getmany + json.loads (best of runs)':<52} {raw:>10,} ev/s",
        f"{'one worker, all read models (from first progress)':<52} {worker['events_per_s']:>10,} ev/s",
        f"{'  ratio to raw':<52} {worker['ratio']:>14.3f}",
        f"{'  seconds from worker ready / launch to all N':<52}"
        f" {worker['seconds_from_ready']:>6.1f} / {worker['seconds_from_launch']:.1f}",
    ]
    for name in ("p50", "p99"):
        q, label = latency[name], f"latency {name} at {latency['achieved_rate']:,} ev/s"
        lines.append(
            f"{label:<52} {q['seconds'] * 1000:>11.1f} ms"
            f"  (bucket {q['low'] * 1000:g}..{q['high'] * 1000:g} ms)"
        )
    rss = live["worker_memory_kib"]
    lines.append(
        f"{'worker VmRSS at ready / after N (VmHWM)':<52} {rss['at_ready']['VmRSS'] / 1024:>6.0f} /"
        f" {rss['after_throughput']['VmRSS'] / 1024:.0f} MiB ({rss['after_throughput']['VmHWM'] / 1024:.0f})"
    )
    cores = worker["cpu_cores"]
    lines += [
        "",
        f"N = {live['events']:,} events, {live['event_bytes']['mean']} bytes mean;"
        f" raw runs {live['baseline_runs_seconds']} s",
        f"CPU during worker catch-up, cores: worker {cores['worker']} broker {cores['broker']}"
        f" bench {cores['bench']} other {cores['other']} (steal {cores['steal']});"
        f" worker {cores['worker_us_per_event']} us/event",
    ]
    raw_delivery = latency["raw_delivery_s"]
    lines.append(
        f"{'  raw consumer, same records: p50 / p99':<52}"
        f" {raw_delivery['p50'] * 1000:>6.1f} / {raw_delivery['p99'] * 1000:.1f} ms"
    )
    cores = latency["cpu_cores"]
    lines.append(
        f"CPU during the latency run, cores: worker {cores['worker']} broker {cores['broker']}"
        f" other {cores['other']}; worker {cores['worker_us_per_event']} us/event;"
        f" drained {latency['drain_seconds_after_last_send']} s after the last send"
    )
    return lines


def memory_lines(memory: dict[str, Any]) -> list[str]:
    final = memory["points"][-1]
    label = f"memory ({memory['store']}): {memory['deals']:,} open deals, {memory['reps']:,} reps"
    verdict = {True: "met", False: "NOT met", None: "?"}[memory["aim_met"]]
    lines = [
        f"{label:<52} VmRSS {_mib(memory['final_rss_kib'])}, VmHWM {_mib(memory['final_hwm_kib'])}",
        f"{'  aim: VmHWM under 2 GiB per worker at 1M deals':<52} {verdict} ({memory['aim_basis']})",
        f"{'  on disk (store directory)':<52} {memory['disk_bytes'] / 2**20:,.0f} MiB"
        f" ({memory['disk_bytes_per_deal']:,.0f} bytes/deal;"
        f" {memory['disk_bytes_closed'] / 2**20:,.0f} MiB once closed)",
        f"{'  RSS growth per deal (overall / last interval)':<52} {memory['rss_bytes_per_deal']:,.0f} /"
        f" {memory['rss_bytes_per_deal_last_interval'] or float('nan'):,.0f} bytes",
        f"{'  fold rate (4 partitions, one process)':<52} {memory['fold_events_per_s']:,} ev/s"
        f" ({memory['deals_per_s']:,} deals/s, {final['seconds']:,.0f} s)",
        f"  VmRSS at start (after set-up, frozen) {_mib(memory['rss_at_start_kib']['VmRSS'])},"
        f" after onboarding reps {_mib(memory['after_reps']['VmRSS'])};"
        f" cache {memory['cache_size_per_partition']:,} partials/partition,"
        f" batches of {memory['batch_max']:,}",
    ]
    if (guess := memory["extrapolated_to_aim"]) is not None:
        lines.append(
            f"{'  EXTRAPOLATION (linear) to ' + format(guess['deals'], ',') + ' deals':<52}"
            f" VmRSS {_mib(guess['VmRSS'])}, VmHWM {_mib(guess['VmHWM'])}"
            f"  ({guess['kib_per_deal'] * 1024:,.0f} bytes/deal from the readings at"
            f" {', '.join(format(d, ',') for d in guess['from_points'])} deals)"
        )
    for point in memory["points"]:
        lines.append(
            f"  at {point['deals']:>9,} deals:"
            f" VmRSS {_mib(point['VmRSS']):>9} VmHWM {_mib(point['VmHWM']):>9}"
            f"  disk {point['disk_bytes'] / 2**20:>7,.0f} MiB  cached {point['cached_partials']:>7,}"
            f"  {point['seconds']:>6,.0f} s"
        )
    stored = ", ".join(
        f"{name} {s['count']:,} ({s['bytes'] / 2**20:,.0f} MiB)"
        for name, s in memory["stored_partials"].items()
    )
    lines.append(f"  stored partials (keys + values): {stored}")
    return lines


def table(result: dict[str, Any]) -> str:
    lines = [f"{'measure':<52} {'value':>14}"]
    if (live := result.get("live")) is not None:
        lines += live_lines(live)
    if (memory := result.get("memory")) is not None:
        if live is not None:
            lines.append("")
        lines += memory_lines(memory)
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=200_000, help="events for throughput (default 200000)")
    parser.add_argument("--baseline-runs", type=int, default=3, help="raw consumer runs; the best counts")
    parser.add_argument("--latency-rate", type=float, default=1000.0, help="events/s (default 1000)")
    parser.add_argument("--latency-seconds", type=float, default=20.0, help="seconds at that rate")
    parser.add_argument(
        "--settle", type=float, default=10.0, help="idle seconds between catch-up and the latency run"
    )
    parser.add_argument(
        "--memory-deals", type=int, default=1_000_000, help="open deals folded for memory (default 1000000)"
    )
    parser.add_argument("--reps", type=int, default=10_000, help="reps for memory (default 10000)")
    parser.add_argument(
        "--memory-store",
        choices=("rocksdb", "memory"),
        default="rocksdb",
        help="the store for memory (default rocksdb, the worker's default; in a temporary directory)",
    )
    parser.add_argument(
        "--memory-checkpoint",
        type=int,
        default=100_000,
        help="deals between memory readings (default 100000)",
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--no-memory-estimate", action="store_true", help="skip the memory part")
    group.add_argument("--only-memory", action="store_true", help="only the memory part (no broker)")
    parser.add_argument("--seed", type=int, default=7, help="simulator seed")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this path")
    parser.add_argument("--profile", type=Path, help="run the worker under cProfile, write its stats here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    started, host, commit = datetime.now(UTC), machine(), revision()
    result: dict[str, Any] = {}
    settings = Settings()  # the live part's, when it runs (the memory part reports its own store)
    if not args.only_memory:
        with tempfile.TemporaryDirectory(prefix="salesledger-bench-") as tmp_dir:
            tmp = Path(tmp_dir)
            settings = bench_settings(tmp, "memory")
            state = broker.up(settings)
            try:
                asyncio.run(ensure_topics(settings))
                result["live"] = asyncio.run(measure_live(args, settings, tmp, state.pid))
            finally:
                broker.down(settings)
    if not args.no_memory_estimate:
        result["memory"] = run_memory_measure(
            args.memory_deals, args.reps, args.seed, args.memory_store, args.memory_checkpoint
        )
    result |= {
        "date": started.isoformat(timespec="seconds"),
        "command": " ".join(
            [".venv/bin/python -m bench.projection", *(argv if argv is not None else sys.argv[1:])]
        ),
        "commit": commit,
        "machine": host,
        "setup": {"partitions": settings.topic_partitions, "store": settings.store},
    }
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str) + "\n")
    if args.profile:
        print_profile(args.profile)


if __name__ == "__main__":
    main()
