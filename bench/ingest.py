"""Ingestion throughput over HTTP batch and over the inbound topic, as ratios to raw aiokafka produce.

    .venv/bin/python -m bench.ingest                      # 100,000 events per path (3 to 4 minutes today)
    .venv/bin/python -m bench.ingest --events 20000       # quick run (under a minute)
    .venv/bin/python -m bench.ingest --json ingest.json   # also write the results as JSON

One run starts a private Kafka broker (free ports, temporary data dir, its own topic prefix) and one
worker process (`salesledger worker`, Faust tables in memory by default, `--store rocksdb` for
RocksDB; the write model on SQLite, the default database), then measures, in this order, each path
after an untimed warm-up:

1. baseline: raw aiokafka produce (idempotent, ``acks=all``) of the N events' bytes to a scratch
   topic with as many partitions as ours, until every record is acknowledged;
2. HTTP batch: the same N events in ``POST /v1/events:batch`` requests of 1000 from C concurrent
   clients, until every item is accepted, and until all N are on the canonical topic (the relay is
   asynchronous; progress is read from the topic's end offsets);
3. Kafka inbound: N other events (other ids, same shape) produced raw to the inbound topic, until
   the worker has recorded them all (its ``salesledger_events_accepted_total{transport="kafka"}``)
   and until all N are on the canonical topic.

Every clock starts when the first byte is sent. Each rate is compared with the baseline of the same
run (the best of ``--baseline-runs``, after an untimed produce of the same N events), so the ratios
hold across machines better than the absolute figures, and err on the low side. Before each path
the bench waits until the worker's projector has caught up with the canonical topic, so a path
never pays for the previous one's backlog (that catch-up time is reported, not counted). CPU use of
the worker, the broker, this process and the rest of the machine is sampled per path from /proc:
other busy processes make a run slower, and the report says so. Settings not set here (partitions,
batch sizes, log level) come from ``SALESLEDGER_*`` variables as usual and are reported.

``--profile PATH`` runs the worker under cProfile and prints its top functions at the end (the
profiler slows the worker: do not quote figures from a profiled run).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import pstats
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from prometheus_client.parser import text_string_to_metric_families

from services import broker
from services.auth.keys import ApiKeys
from services.kafka_access import aiokafka_options
from services.settings import Settings
from services.topics import ensure_topics
from tests.support import ROOT, WorkerProcess, eventually, free_port, settings_env

DIALER, CRM = "/dialer/bench", "/crm/bench"
OUTCOMES = ("connected", "connected", "voicemail", "no_answer", "busy", "wrong_number")
NOTES = ("Asked for pricing next week", "Gatekeeper; call back after 3pm", "Interested in the pilot", None)
LEAD_SOURCES = ("cold_call", "email", "social", "inbound", "networking", "referral")
POLL_SECONDS = 0.02
"""Polling of the canonical topic's end offsets (costs the worker nothing)."""
METRICS_POLL_SECONDS = 0.1
"""Polling of the worker's /metrics: each scrape costs it a few milliseconds of CPU (2 to 3 % of
a core at this rate), so it is polled only while the Kafka path runs and between paths."""
STALL_SECONDS = 60.0
"""A path fails when its progress has not moved for this long."""
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Event:
    source: str
    key: bytes
    value: bytes


@dataclass(frozen=True)
class Row:
    path: str
    events: int
    seconds: float

    def as_dict(self, baseline_seconds: float) -> dict[str, Any]:
        """The row with its rate, and its ratio to the baseline rate (same events, same run)."""
        return {
            "path": self.path,
            "events": self.events,
            "seconds": round(self.seconds, 3),
            "events_per_s": round(self.events / self.seconds),
            "ratio": round(baseline_seconds / self.seconds, 3),
        }


# --- workload ------------------------------------------------------------------------------------


def make_events(count: int, label: str, seed: int) -> list[Event]:
    """`count` structured-mode CloudEvents with ids unique to `label`, as the sales process allows
    them: every fifth event captures a new lead (each lead once), the others log calls on leads
    captured before."""
    rng = random.Random(f"{seed}-{label}")
    clock = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    events = []
    for n in range(count):
        clock += timedelta(milliseconds=rng.randint(10, 2000))
        rep = f"rep-{rng.randrange(200):03d}"
        envelope: dict[str, Any] = {
            "specversion": "1.0",
            "id": f"bench-{label}-{n:07d}",
            "time": clock.isoformat(),
            "actor": rep,
            "correlationid": f"campaign-q4-{rng.randrange(40):02d}",
        }
        if n % 5 == 0:
            lead = f"lead-{label}-{n // 5:06d}"
            data: dict[str, Any] = {
                "lead_id": lead,
                "rep_id": rep,
                "source": rng.choice(LEAD_SOURCES),
                "company": "Acme GmbH",
            }
            envelope |= {"source": CRM, "type": "LeadCaptured", "subject": lead, "data": data}
        else:
            lead = f"lead-{label}-{rng.randrange(n // 5 + 1):06d}"
            outcome = rng.choice(OUTCOMES)
            data = {"rep_id": rep, "lead_id": lead, "direction": "outbound", "outcome": outcome}
            data["duration_seconds"] = rng.randint(30, 1800) if outcome == "connected" else 0
            if (note := rng.choice(NOTES)) is not None:
                data["notes"] = note
            envelope |= {"source": DIALER, "type": "CallLogged", "subject": lead, "data": data}
        events.append(Event(envelope["source"], lead.encode(), json.dumps(envelope).encode()))
    return events


def http_batches(events: Sequence[Event], size: int) -> list[tuple[str, bytes, int]]:
    """(source, JSON array body, count): one source per batch (a key publishes as one source),
    dialer and CRM batches interleaved as two tools posting side by side would."""
    per_source = []
    for source in (DIALER, CRM):
        values = [e.value for e in events if e.source == source]
        chunks = [values[i : i + size] for i in range(0, len(values), size)]
        per_source.append([(source, b"[" + b",".join(chunk) + b"]", len(chunk)) for chunk in chunks])
    return [batch for pair in itertools.zip_longest(*per_source) for batch in pair if batch is not None]


# --- machine -------------------------------------------------------------------------------------


def _pid_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) used so far by process `pid` and its threads."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _machine_ticks() -> tuple[float, float]:
    """CPU seconds the whole machine has spent busy (user, system, interrupts: all cores), and
    stolen by the hypervisor for other guests."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq) / CLK_TCK, steal / CLK_TCK


@dataclass
class CpuMeter:
    """Per-path CPU use, in cores (1.0 = one core busy the whole time), by who used it."""

    worker_pid: int | None
    broker_pid: int | None

    def sample(self) -> dict[str, float]:
        busy, steal = _machine_ticks()
        return {
            "worker": _pid_cpu(self.worker_pid),
            "broker": _pid_cpu(self.broker_pid),
            "bench": sum(os.times()[:2]),
            "machine": busy,
            "steal": steal,
            "wall": time.perf_counter(),
        }

    @staticmethod
    def cores(before: dict[str, float], after: dict[str, float], events: int) -> dict[str, float]:
        """Cores used between two samples by each party ("other": the rest of the machine), and the
        worker's CPU microseconds per event."""
        wall = after["wall"] - before["wall"]
        used = {k: (after[k] - before[k]) / wall for k in ("worker", "broker", "bench", "machine", "steal")}
        used["other"] = max(used.pop("machine") - used["worker"] - used["broker"] - used["bench"], 0.0)
        used = {k: round(v, 2) for k, v in used.items()}
        return used | {"worker_us_per_event": round((after["worker"] - before["worker"]) / events * 1e6)}


def revision() -> str:
    """The git commit measured, with "+dirty" when the code under test has uncommitted changes."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    changed = git("status", "--porcelain", "--", "events", "projections", "services")
    return git("rev-parse", "--short", "HEAD") + ("+dirty" if changed else "")


def machine() -> dict[str, Any]:
    meminfo = Path("/proc/meminfo").read_text().split()
    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gib": round(int(meminfo[meminfo.index("MemTotal:") + 1]) / 2**20, 1),
        "python": platform.python_version(),
        "load_average_at_start": [round(v, 2) for v in os.getloadavg()],
    }


# --- the system under test -----------------------------------------------------------------------


def worker_command(profile: Path | None) -> list[str]:
    """`salesledger worker`, under cProfile when `profile` names its stats file."""
    profiler = ["-m", "cProfile", "-o", str(profile)] if profile else []
    return [sys.executable, *profiler, "-m", "services.cli", "worker"]


class BenchWorker(WorkerProcess):
    """`WorkerProcess` with a chosen command line (the profiler's); its readiness check and stop."""

    def __init__(self, settings: Settings, log_path: Path, command: list[str]) -> None:
        super().__init__(settings, log_path)
        self.command = command

    def start(self, timeout: float = 120.0, wait: bool = True) -> BenchWorker:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                env=settings_env(self.settings),
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if not wait:
            return self
        try:
            eventually(self.ready, timeout=timeout, interval=0.5)
        except AssertionError:
            self.stop()
            raise
        return self


def bench_settings(tmp: Path, store: str, database_url: str | None = None) -> Settings:
    """The worker's settings; the write model on a fresh SQLite file unless ``database_url`` names
    another store (an empty PostgreSQL database, e.g. a private server as `tests.postgres` starts)."""
    run_id = uuid.uuid4().hex[:8]
    return Settings(
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        kafka_controller_port=free_port(),
        kafka_data_dir=tmp / "kafka-data",
        topic_prefix=f"bench-{run_id}",
        app_id=f"bench-{run_id}",
        store=f"{store}://",
        data_dir=tmp / "faust-data",
        database_url=database_url or f"sqlite:///{tmp / 'intake.sqlite3'}",
        web_port=free_port(),
    )


def scratch_topic(settings: Settings) -> str:
    """The baseline's topic: shaped like ours, read by nobody."""
    return f"{settings.topic_prefix}.bench-baseline"


async def create_topic(settings: Settings, name: str) -> None:
    """Create topic `name` like ours and wait until every partition has a leader (producing to a
    partition still electing one only earns retries)."""
    admin = AIOKafkaAdminClient(**aiokafka_options(settings))
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(name, settings.topic_partitions, settings.topic_replication_factor)]
        )
        while True:
            topics = {topic["topic"]: topic["partitions"] for topic in await admin.describe_topics()}
            leaders = [partition["leader"] for partition in topics.get(name, [])]
            if len(leaders) == settings.topic_partitions and min(leaders) >= 0:
                return
            await asyncio.sleep(0.1)
    finally:
        await admin.close()


# --- measuring -----------------------------------------------------------------------------------


def producer(settings: Settings) -> AIOKafkaProducer:
    """The baseline producer, also used to publish to the inbound topic: aiokafka's defaults
    except idempotence, which the project requires wherever an event must not be lost."""
    return AIOKafkaProducer(**aiokafka_options(settings), enable_idempotence=True, acks="all")


async def produce(settings: Settings, topic: str, events: Sequence[Event]) -> float:
    """Seconds to produce `events` to `topic` until all are acknowledged (producer start excluded)."""
    client = producer(settings)
    await client.start()
    try:
        began = time.perf_counter()
        futures = [await client.send(topic, e.value, key=e.key) for e in events]
        await asyncio.gather(*futures)
        return time.perf_counter() - began
    finally:
        await client.stop()


class Probes:
    """Progress as seen from outside the worker: topic end offsets and the worker's /metrics."""

    def __init__(
        self, settings: Settings, session: aiohttp.ClientSession, consumer: AIOKafkaConsumer
    ) -> None:
        self.settings, self.session, self.consumer = settings, session, consumer
        self.url = f"http://{settings.web_host}:{settings.web_port}"
        self.tps = [TopicPartition(settings.topic_events, p) for p in range(settings.topic_partitions)]
        self.dead_tps = [
            TopicPartition(settings.topic_deadletter, p) for p in range(settings.topic_partitions)
        ]

    async def canonical(self) -> int:
        return sum((await self.consumer.end_offsets(self.tps)).values())

    async def deadlettered(self) -> int:
        return sum((await self.consumer.end_offsets(self.dead_tps)).values())

    async def metric(self, name: str, **labels: str) -> float:
        async with self.session.get(f"{self.url}/metrics") as response:
            text = await response.text()
        return sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
        )

    async def stored_from_kafka(self) -> float:
        """Events from the inbound topic the worker has recorded (its accepted counter)."""
        return await self.metric("salesledger_events_accepted_total", transport="kafka")

    async def projected(self) -> float:
        return await self.metric("salesledger_projection_events_total")


async def reached(
    probe: Callable[[], Awaitable[float]],
    target: float,
    began: float,
    stall: float,
    interval: float = POLL_SECONDS,
) -> float:
    """Seconds from `began` until `probe()` reaches `target`, polled every `interval`; fails when it
    has not moved for `stall` seconds (a slow system is measured, a stuck one is reported)."""
    last, moved = -1.0, time.perf_counter()
    while (value := await probe()) < target:
        now = time.perf_counter()
        if value != last:
            last, moved = value, now
        elif now - moved > stall:
            raise TimeoutError(f"{probe.__name__}: stuck at {value:.0f} of {target:.0f} for {stall:.0f}s")
        await asyncio.sleep(interval)
    return time.perf_counter() - began


async def post_batches(
    session: aiohttp.ClientSession,
    url: str,
    batches: Sequence[tuple[str, bytes, int]],
    keys: dict[str, str],
    concurrency: int,
) -> None:
    """POST every batch from `concurrency` clients; fail unless every item comes back accepted."""
    queue: Iterator[tuple[str, bytes, int]] = iter(batches)

    async def client() -> None:
        for source, body, count in queue:  # the clients share one iterator: each takes the next batch
            headers = {"Authorization": f"Bearer {keys[source]}", "Content-Type": "application/json"}
            async with session.post(f"{url}/v1/events:batch", data=body, headers=headers) as response:
                reply = await response.json()
            if response.status != 200 or reply.get("accepted") != count:
                problems = [r for r in reply.get("results", []) if r.get("status") != "accepted"][:3]
                raise RuntimeError(f"batch not accepted: HTTP {response.status}, {problems or reply}")

    await asyncio.gather(*(client() for _ in range(concurrency)))


@dataclass
class Bench:
    settings: Settings
    probes: Probes
    cpu: CpuMeter
    keys: dict[str, str]
    stall: float
    usage: dict[str, dict[str, float]]
    catch_up: dict[str, float]

    async def settle(self, before: str) -> None:
        """Wait until the projector has folded everything on the canonical topic (not timed)."""
        began = time.perf_counter()
        target = await self.probes.canonical()
        await reached(self.probes.projected, target, began, self.stall, METRICS_POLL_SECONDS)
        self.catch_up[before] = round(time.perf_counter() - began, 2)

    async def baseline(self, events: Sequence[Event], runs: int) -> list[float]:
        """Seconds of each of `runs` raw produces of `events` to a scratch topic, after an untimed
        one (a fresh broker's JIT needs it: its first produces are markedly slower)."""
        scratch = scratch_topic(self.settings)
        await produce(self.settings, scratch, events)
        before = self.cpu.sample()
        seconds = [await produce(self.settings, scratch, events) for _ in range(runs)]
        self.usage["baseline"] = CpuMeter.cores(before, self.cpu.sample(), len(events) * runs)
        return seconds

    async def http(
        self, batches: Sequence[tuple[str, bytes, int]], count: int, concurrency: int
    ) -> tuple[float, float]:
        """(seconds until all accepted, seconds until all on the canonical topic)."""
        target = await self.probes.canonical() + count
        before = self.cpu.sample()
        began = time.perf_counter()
        on_log = asyncio.create_task(reached(self.probes.canonical, target, began, self.stall))
        url = self.probes.url
        await post_batches(self.probes.session, url, batches, self.keys, concurrency)
        accepted = time.perf_counter() - began
        logged = await on_log
        self.usage["http"] = CpuMeter.cores(before, self.cpu.sample(), count)
        return accepted, logged

    async def kafka(self, events: Sequence[Event]) -> tuple[float, float, float]:
        """(seconds to produce, until all recorded by the worker, until all on the canonical topic)."""
        target_log = await self.probes.canonical() + len(events)
        target_stored = await self.probes.stored_from_kafka() + len(events)
        before = self.cpu.sample()
        began = time.perf_counter()
        stored = asyncio.create_task(
            reached(self.probes.stored_from_kafka, target_stored, began, self.stall, METRICS_POLL_SECONDS)
        )
        on_log = asyncio.create_task(reached(self.probes.canonical, target_log, began, self.stall))
        produced = await produce(self.settings, self.settings.topic_inbound, events)
        logged = await on_log
        # The relay copies only recorded events, so all were recorded by the time all are on the
        # topic; the /metrics poll is coarser than the topic's and may see it a moment later.
        recorded = min(await stored, logged)
        self.usage["kafka"] = CpuMeter.cores(before, self.cpu.sample(), len(events))
        return produced, recorded, logged


async def warm_up(bench: Bench, batches: Sequence[tuple[str, bytes, int]], inbound: Sequence[Event]) -> None:
    """Untimed: one pass through both paths, so the first timed request finds everything loaded."""
    await post_batches(bench.probes.session, bench.probes.url, batches, bench.keys, 1)
    stored = await bench.probes.stored_from_kafka()
    await produce(bench.settings, bench.settings.topic_inbound, inbound)
    target = stored + len(inbound)
    await reached(
        bench.probes.stored_from_kafka, target, time.perf_counter(), bench.stall, METRICS_POLL_SECONDS
    )


async def measure(
    args: argparse.Namespace, settings: Settings, pids: tuple[int | None, int | None], keys: dict[str, str]
) -> dict[str, Any]:
    """Baseline, then HTTP batch, then Kafka inbound; the rows of the table and what explains them."""
    n, warm = args.events, max(args.events // 50, 1000)
    http_events, kafka_events = make_events(n, "h", args.seed), make_events(n, "k", args.seed)
    warm_http, warm_kafka = (
        make_events(warm, "wh", args.seed),
        make_events(warm, "wk", args.seed),
    )
    consumer = AIOKafkaConsumer(**aiokafka_options(settings), group_id=None)
    await consumer.start()
    connector = aiohttp.TCPConnector(limit=args.http_concurrency)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=600)
    ) as session:
        probes = Probes(settings, session, consumer)
        bench = Bench(settings, probes, CpuMeter(*pids), keys, STALL_SECONDS, {}, {})
        try:
            baseline_runs = await bench.baseline(http_events, args.baseline_runs)
            await warm_up(bench, http_batches(warm_http, args.batch_size), warm_kafka)
            await bench.settle("http")
            accepted, http_logged = await bench.http(
                http_batches(http_events, args.batch_size), n, args.http_concurrency
            )
            await bench.settle("kafka")
            produced, stored, kafka_logged = await bench.kafka(kafka_events)
            await bench.settle("end")
            total, dead = await probes.canonical(), await probes.deadlettered()
        finally:
            await consumer.stop()
    if total != 2 * (n + warm) or dead:
        raise RuntimeError(
            f"canonical topic holds {total} records, not {2 * (n + warm)}; {dead} dead letters"
        )
    base = min(baseline_runs)
    rows = [
        Row(f"raw aiokafka produce (baseline, best of {len(baseline_runs)})", n, base),
        Row("HTTP batch: all accepted", n, accepted),
        Row("HTTP batch: all on canonical topic", n, http_logged),
        Row("Kafka inbound: raw produce (check)", n, produced),
        Row("Kafka inbound: all recorded", n, stored),
        Row("Kafka inbound: all on canonical topic", n, kafka_logged),
    ]
    sizes = [len(e.value) for e in http_events]
    return {
        "rows": [row.as_dict(base) for row in rows],
        "baseline_runs_seconds": [round(s, 3) for s in baseline_runs],
        "cpu_cores_used": bench.usage,
        "projector_catch_up_seconds": bench.catch_up,
        "event_bytes": {"min": min(sizes), "mean": round(sum(sizes) / n), "max": max(sizes)},
        "warmup_events_per_path": warm,
    }


# --- reporting -----------------------------------------------------------------------------------


def table(result: dict[str, Any]) -> str:
    lines = [f"{'path':<46} {'events':>8} {'seconds':>8} {'events/s':>9} {'ratio':>6}"]
    for row in result["rows"]:
        lines.append(
            f"{row['path']:<46} {row['events']:>8} {row['seconds']:>8.2f} {row['events_per_s']:>9,}"
            f" {row['ratio']:>6.2f}"
        )
    lines += ["", f"CPU per path, in cores of {os.cpu_count()}: worker / broker / bench / other (steal)"]
    for path, used in result["cpu_cores_used"].items():
        shares = " / ".join(f"{used[who]:.2f}" for who in ("worker", "broker", "bench", "other"))
        per_event = used["worker_us_per_event"]
        lines.append(f"  {path:<9} {shares} ({used['steal']:.2f}); worker CPU {per_event} us/event")
    catch_up = ", ".join(f"before {k} {v:.1f}s" for k, v in result["projector_catch_up_seconds"].items())
    sizes = result["event_bytes"]
    lines.append(f"projector catch-up (not timed): {catch_up}")
    lines.append(f"event size: {sizes['min']}..{sizes['max']} bytes, mean {sizes['mean']}")
    return "\n".join(lines)


def print_profile(path: Path, top: int = 30) -> None:
    stats = pstats.Stats(str(path))
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000, help="events per path (default 100000)")
    parser.add_argument("--http-concurrency", type=int, default=4, help="concurrent HTTP clients (default 4)")
    parser.add_argument("--batch-size", type=int, default=1000, help="events per HTTP batch (default 1000)")
    parser.add_argument("--store", choices=("memory", "rocksdb"), default="memory", help="Faust table store")
    parser.add_argument(
        "--database-url", help="the write model's database (default: a fresh SQLite file); must be empty"
    )
    parser.add_argument("--baseline-runs", type=int, default=3, help="raw produce runs; the best counts")
    parser.add_argument(
        "--seed", type=int, default=7, help="workload seed (ids change per path, not per seed)"
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this path")
    parser.add_argument("--profile", type=Path, help="run the worker under cProfile, write its stats here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    started, host, commit = datetime.now(UTC), machine(), revision()
    with tempfile.TemporaryDirectory(prefix="salesledger-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        settings = bench_settings(tmp, args.store, args.database_url)
        state = broker.up(settings)
        worker: BenchWorker | None = None
        try:
            asyncio.run(ensure_topics(settings))
            asyncio.run(create_topic(settings, scratch_topic(settings)))  # early: leaders settle meanwhile
            api_keys = ApiKeys.from_url(settings.database_url)
            keys = {source: api_keys.create(source) for source in (DIALER, CRM)}
            api_keys.close()
            worker = BenchWorker(settings, tmp / "worker.log", worker_command(args.profile)).start()
            worker_pid = worker.process.pid if worker.process else None
            try:
                result = asyncio.run(measure(args, settings, (worker_pid, state.pid), keys))
            except Exception:
                print(worker.log_tail(), file=sys.stderr)
                raise
        finally:
            if worker is not None:
                worker.stop(timeout=60)
            broker.down(settings)
    result |= {
        "date": started.isoformat(timespec="seconds"),
        "command": " ".join(
            [".venv/bin/python -m bench.ingest", *(argv if argv is not None else sys.argv[1:])]
        ),
        "commit": commit,
        "machine": host,
        "setup": {
            "partitions": settings.topic_partitions,
            "store": settings.store,
            "database": (
                f"{args.database_url.split('@')[-1]} (write model)"
                if args.database_url
                else "sqlite (write model; eventsourcing defaults: WAL, synchronous FULL)"
            ),
            "aggregate_cache_size": settings.aggregate_cache_size,
            "ingest_batch_size": settings.ingest_batch_size,
            "relay_batch_size": settings.relay_batch_size,
            "log_level": settings.log_level,
            "http_concurrency": args.http_concurrency,
            "http_batch_size": args.batch_size,
        },
    }
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    if args.profile:
        print_profile(args.profile)


if __name__ == "__main__":
    main()
