"""Live projection (issue #5): throughput of one worker folding the canonical topic into every read
model, as a ratio to a raw aiokafka consumer of the same topic; end-to-end latency at a steady rate;
memory per worker.

    .venv/bin/python -m bench.projection                        # 60,000 events (about 3 minutes)
    .venv/bin/python -m bench.projection --events 20000 --no-memory-estimate   # quick run
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
5. **Memory (estimate)**: in a separate process, the five read models' adapters
   (`services.projector.readmodels.read_models`) fold synthetic open deals into plain dicts keyed as
   the worker's tables are (``<partition>|<key>``): per deal a lead captured, three activities on
   three days, qualification, needs assessment, solution presented and a stage change (the
   simulator's own events with ids, reps and days rewritten), spread over ``--reps`` reps who were
   each onboarded (org model). The bytes the dicts hold (``sys.getsizeof`` over dicts, lists and
   strings, each object once; RSS growth is printed beside it) are read at half and at all of
   ``--memory-deals`` deals and extrapolated linearly to 1,000,000 deals (activity partials are per
   rep and day, so linear extrapolation over-counts them: an upper bound).

``--profile PATH`` runs the worker under cProfile (it is much slower then: do not quote its
figures) and prints its top functions at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import multiprocessing
import os
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
from projections.positions import partial_key
from services import broker
from services.settings import Settings
from services.simulator import simulate_envelopes
from services.topics import ensure_topics

SEQ_HEADER = "salesledger.seq"
METRICS_POLL_SECONDS = 0.25
STALL_SECONDS = 60.0
LATENCY_METRIC = "salesledger_projection_latency_seconds"
PROGRESS_METRIC = "salesledger_projection_events_total"
ONE_MILLION = 1_000_000


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
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers, enable_idempotence=True, acks="all"
    )


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
        bootstrap_servers=settings.kafka_bootstrap_servers,
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
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, group_id=None)
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
            worker_rate = (n - first[1]) / (done - first[0]) if done > first[0] else float("nan")
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
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, group_id=None)
    await consumer.start()
    try:
        tps = [TopicPartition(settings.topic_deadletter, p) for p in range(settings.topic_partitions)]
        return sum((await consumer.end_offsets(tps)).values())
    finally:
        await consumer.stop()


# --- memory estimate (in its own process) --------------------------------------------------------


def _own_rss_kib() -> int:
    gc.collect()
    return rss_kib(os.getpid())["VmRSS"]


def deep_size(root: object) -> int:
    """Bytes of `root` and everything it holds through dicts, lists and tuples (each object once)."""
    seen: set[int] = set()
    stack, total = [root], 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, list | tuple | set | frozenset):
            stack.extend(obj)
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


def memory_estimate(deals: int, reps: int, seed: int) -> dict[str, Any]:
    """Bytes held by the read models' partials for `deals` open deals over `reps` reps."""
    from services.process.config import load_process
    from services.projector.readmodels import read_models

    settings = Settings()
    models = read_models(load_process(settings.process_file), settings.org_timezone)
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
    del sample, story
    tables: dict[str, dict[str, Any]] = {model.name: {} for model in models}
    offsets = [0, 0, 0, 0]

    def fold(event: Envelope, partition: int) -> None:
        offset = offsets[partition]
        offsets[partition] += 1
        for model in models:
            table = tables[model.name]
            for key in model.keys_of(event):
                stored_key = partial_key(partition, key)
                updated = model.apply(key, table.get(stored_key), offset, event)
                if updated is not None:
                    table[stored_key] = updated

    rep_ids = [f"rep-{r:05d}" for r in range(reps)]
    base = _own_rss_kib()
    began = time.perf_counter()
    for r, rep in enumerate(rep_ids):
        fold(_with_ids(onboarded, r, rep, timedelta()), r % 4)
    after_reps = _own_rss_kib()
    points: list[dict[str, Any]] = []
    checkpoints = {deals // 2, deals}
    for i in range(1, deals + 1):
        rep, shift = rep_ids[i % reps], timedelta(days=(i * 7) % 300)
        for event in template:
            fold(_with_ids(event, i, rep, shift), hash(f"lead-{i:07d}") % 4)
        if i in checkpoints:
            points.append(
                {
                    "deals": i,
                    "rss_growth_kib": _own_rss_kib() - base,
                    "deep_kib": deep_size(tables) // 1024,
                    "deep_kib_by_table": {name: deep_size(t) // 1024 for name, t in tables.items()},
                    "partials": {name: len(t) for name, t in tables.items()},
                    "seconds": round(time.perf_counter() - began, 1),
                }
            )
    half, full = points
    per_deal = (full["deep_kib"] - half["deep_kib"]) / (full["deals"] - half["deals"])
    return {
        "deals": deals,
        "reps": reps,
        "events_per_deal": len(template),
        "template": [type(e).__name__ for e in template],
        "reps_rss_kib": after_reps - base,
        "points": points,
        "kib_per_deal": round(per_deal, 3),
        "estimate_1m_deals_gib": round(
            (full["deep_kib"] + per_deal * (ONE_MILLION - full["deals"])) / 2**20, 2
        ),
    }


def _memory_child(deals: int, reps: int, seed: int, queue: Any) -> None:
    queue.put(memory_estimate(deals, reps, seed))


def run_memory_estimate(deals: int, reps: int, seed: int) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_memory_child, args=(deals, reps, seed, queue))
    child.start()
    result: dict[str, Any] = queue.get()
    child.join()
    return result


# --- reporting -----------------------------------------------------------------------------------


def table(result: dict[str, Any]) -> str:
    live = result["live"]
    worker, latency = live["worker"], live["latency"]
    raw = live["raw_events_per_s"]
    lines = [
        f"{'measure':<52} {'value':>14}",
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
    if (memory := result.get("memory")) is not None:
        lines.append(
            f"{'estimate: partials for 1M open deals, ' + str(memory['reps']) + ' reps':<52}"
            f" {memory['estimate_1m_deals_gib']:>10.2f} GiB"
            f"  (from {memory['deals']:,} deals, {memory['kib_per_deal']:.2f} KiB/deal)"
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
    if memory is not None:
        for point in memory["points"]:
            lines.append(
                f"memory point: {point['deals']:,} deals -> {point['deep_kib'] / 1024:.0f} MiB held"
                f" (RSS growth {point['rss_growth_kib'] / 1024:.0f} MiB),"
                f" partials {point['partials']} ({point['seconds']} s)"
            )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=60_000, help="events for throughput (default 60000)")
    parser.add_argument("--baseline-runs", type=int, default=3, help="raw consumer runs; the best counts")
    parser.add_argument("--latency-rate", type=float, default=1000.0, help="events/s (default 1000)")
    parser.add_argument("--latency-seconds", type=float, default=20.0, help="seconds at that rate")
    parser.add_argument(
        "--settle", type=float, default=10.0, help="idle seconds between catch-up and the latency run"
    )
    parser.add_argument("--memory-deals", type=int, default=40_000, help="deals folded for the estimate")
    parser.add_argument("--reps", type=int, default=10_000, help="reps for the memory estimate")
    parser.add_argument("--no-memory-estimate", action="store_true", help="skip the in-process estimate")
    parser.add_argument("--seed", type=int, default=7, help="simulator seed")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this path")
    parser.add_argument("--profile", type=Path, help="run the worker under cProfile, write its stats here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    started, host, commit = datetime.now(UTC), machine(), revision()
    with tempfile.TemporaryDirectory(prefix="salesledger-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        settings = bench_settings(tmp, "memory")
        state = broker.up(settings)
        try:
            asyncio.run(ensure_topics(settings))
            live = asyncio.run(measure_live(args, settings, tmp, state.pid))
        finally:
            broker.down(settings)
    result: dict[str, Any] = {"live": live}
    if not args.no_memory_estimate:
        result["memory"] = run_memory_estimate(args.memory_deals, args.reps, args.seed)
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
