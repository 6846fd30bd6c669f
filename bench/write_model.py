"""Write model throughput (issue #4): events recorded per second on SQLite and PostgreSQL by batch
size, and the relay's throughput as a ratio to raw aiokafka produce in the same run.

    .venv/bin/python -m bench.write_model                       # 60,000 events, about 2.5 minutes
    .venv/bin/python -m bench.write_model --events 10000        # quick run
    .venv/bin/python -m bench.write_model --json wm.json --profile wm.prof

Workload: the simulator's history (`services.simulator`, seed 7), cut after ``--events`` events (a
prefix of a valid history is valid), parsed through the gate before any clock starts. Every event
must come back ``accepted``: a violation or duplicate fails the run.

1. **Write model.** For each database and each batch size (1, 100, 500, 1000 events per
   `WriteModel.record` call, i.e. per transaction) a fresh store records the events in time order.
   Batch size 1 is the baseline (one command per transaction) and runs on the first
   ``--baseline-events`` only. SQLite is a file with the library defaults (WAL, ``synchronous``
   FULL). PostgreSQL is ``SALESLEDGER_TEST_POSTGRES_URL`` if set, else a private server started as
   `tests.postgres` does and restarted with durable settings (fsync, full-page writes and
   synchronous commit on, as in production; ``--pg-fast`` keeps the test server's durability off).
   Aims from the issue: 10,000 events/s on SQLite, 6,000 on PostgreSQL. Each row also shows the
   cores used meanwhile (from /proc): by this process ("own": near 1 means Python-bound, well
   below it waiting on disk or server), by the database server (a private PostgreSQL's processes)
   and by everything else ("other": the machine was shared, so a disturbed row says so), and this
   process's CPU time per event.
2. **Relay.** A private Kafka broker (free ports, temporary data dir, own topic prefix). Raw
   aiokafka produce (idempotent, the relay's producer settings) of the same records, with the same
   keys, partitions, headers and bytes, to a scratch topic with as many partitions (best of 3,
   after an untimed run); then `Relay` copies the SQLite store (batch 1000's) onto the canonical
   topic; its clock runs from `Relay.run` until the topic's end offsets hold every record.

``--profile PATH`` afterwards runs cProfile over recording the second half of the workload (batch
500, after the first half unprofiled) and the relay's `read_after`, on SQLite (stats to PATH) and
on PostgreSQL (to PATH with ``-postgresql`` before its suffix), and prints the top functions (the
profiler slows everything down: never quote its timings).
``--what-if`` adds runs at batch 1000 with the cheap fixes suggested in docs/performance.md patched
into this process (see `what_if`; no file is changed), then the same without saving `EventKey`
aggregates (`WithoutKeys`: an upper bound of replacing them, not a valid configuration).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import gc
import itertools
import json
import os
import platform
import pstats
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from eventsourcing.application import ProcessingEvent

from events import Envelope
from sales import routing
from sales.names import event_type
from sales.process import load_process
from services import broker
from services.db import PostgresConfig, parse_database_url
from services.kafka_access import aiokafka_options, kafka_access
from services.outbox.lease import RelayLease
from services.outbox.relay import SEQ_HEADER, STORE_HEADER, Relay, partition_for
from services.settings import Settings
from services.simulator import simulate_envelopes
from services.topics import ensure_topics
from services.writemodel.aggregates import EventKey, Ledger
from services.writemodel.application import WriteModel
from services.writemodel.environment import write_model_env
from services.writemodel.outcomes import IntakeRow, Outcome
from tests.postgres import ENV_URL, PrivateServer, _server_options, start_private_server, with_schema
from tests.support import ROOT, free_port

BATCHES = (1, 100, 500, 1000)
WHAT_IF_VARIANTS = ("what-if", "no keys")
AIMS = {"sqlite": 10_000, "postgresql": 6_000}
SEED, START = 7, date(2026, 1, 5)
POLL_SECONDS = 0.01
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Row:
    database: str
    variant: str
    batch: int
    events: int
    seconds: float
    cores: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        rate, aim = self.events / self.seconds, AIMS[self.database]
        return asdict(self) | {
            "events_per_s": round(rate),
            "aim_events_per_s": aim,
            "of_aim": round(rate / aim, 2),
            "own_cpu_us_per_event": round(self.cores["own"] * self.seconds / self.events * 1e6),
        }


# --- CPU use -------------------------------------------------------------------------------------


def _process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of process ``pid`` so far, 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def _machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all cores)."""
    user, nice, system, _idle, _iowait, irq, softirq = (
        int(v) for v in Path("/proc/stat").read_text().split()[1:8]
    )
    return (user + nice + system + irq + softirq) / CLK_TCK


@dataclass
class CpuMeter:
    """Cores used while measuring: by this process, by the database server (a private PostgreSQL's
    postmaster and backends), and by everything else on the machine (other work disturbs a run)."""

    server_pid: int | None = None

    def sample(self) -> dict[str, float]:
        server = 0.0
        if self.server_pid is not None:
            server = sum(_process_cpu(pid) for pid in (self.server_pid, *_children(self.server_pid)))
        return {
            "own": sum(os.times()[:2]),
            "server": server,
            "machine": _machine_busy(),
            "wall": time.perf_counter(),
        }

    @staticmethod
    def cores(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
        wall = after["wall"] - before["wall"]
        used = {key: (after[key] - before[key]) / wall for key in ("own", "server", "machine")}
        used["other"] = max(0.0, used.pop("machine") - used["own"] - used["server"])
        return {key: round(value, 2) for key, value in used.items()}


# --- workload ------------------------------------------------------------------------------------


def workload(count: int) -> list[Envelope]:
    """The first ``count`` events of a simulated year (more leads if a year holds fewer events)."""
    leads = max(200, count // 9)
    while True:
        reps = max(20, leads // 80)
        history = simulate_envelopes(SEED, reps, leads, START, weeks=52)
        events = list(itertools.islice(history, count))
        if len(events) == count:
            return events
        leads *= 2


# --- the write model -----------------------------------------------------------------------------


class WithoutKeys(WriteModel):
    """An experiment, not a fix: the write model without writing its `EventKey` rows (so without
    idempotency), an upper bound of what a cheaper unique key would save."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        put = self.events.put

        def without_keys(events: Sequence[Any], **options: Any) -> Any:
            return put([e for e in events if not isinstance(e, EventKey.Created)], **options)

        self.events.put = without_keys  # type: ignore[method-assign,assignment]


def open_model(database_url: str, variant: str = "as is") -> WriteModel:
    """The write model on ``database_url``; variants other than "as is" skip PostgreSQL's pre-ping
    of pooled connections, and "no keys" is `WithoutKeys`."""
    env = write_model_env(Settings(database_url=database_url))
    if variant != "as is":
        env["POSTGRES_PRE_PING"] = "n"
    return (WithoutKeys if variant == "no keys" else WriteModel)(load_process(None), env)


def record_all(model: WriteModel, events: Sequence[Envelope], batch: int) -> float:
    """Seconds to record ``events`` in calls of ``batch`` events; all must be accepted."""
    chunks = [events[i : i + batch] for i in range(0, len(events), batch)]
    refused: list[str] = []
    began = time.perf_counter()
    for chunk in chunks:
        results = model.record(chunk)
        refused += [
            f"{r.event_id}: {r.outcome} {r.rule or ''}" for r in results if r.outcome is not Outcome.ACCEPTED
        ]
    seconds = time.perf_counter() - began
    if refused:
        raise RuntimeError(f"{len(refused)} events not accepted, e.g. {refused[:3]}")
    return seconds


@dataclass
class Database:
    """A database to measure: fresh stores by URL, and the meter that sees its server."""

    name: str
    url_for: Callable[[str], str]
    meter: CpuMeter
    kept: str = ""

    def measure(self, events: Sequence[Envelope], batch: int, variant: str = "as is") -> Row:
        url = self.url_for(f"{variant.replace(' ', '')}-{batch}")
        model = open_model(url, variant)
        try:
            before = self.meter.sample()
            seconds = record_all(model, events, batch)
            cores = CpuMeter.cores(before, self.meter.sample())
        finally:
            model.close()
        if batch == max(BATCHES) and variant == "as is":
            self.kept = url
        print(
            f"  {self.name:<10} {variant:<7} batch {batch:>5}: {len(events) / seconds:>8,.0f} events/s",
            flush=True,
        )
        return Row(self.name, variant, batch, len(events), seconds, cores)


def what_if() -> None:
    """Cheap fixes suggested in docs/performance.md, patched into this process (no file changes):
    fewer garbage collections, no runtime-checked protocols when collecting pending events (slow
    before Python 3.12), the event types of each aggregate kind computed once, ledger ids memoized;
    `open_model` also turns off PostgreSQL's pre-ping of pooled connections for these variants."""
    gc.set_threshold(50_000, 20, 100)

    def collect_events(self: ProcessingEvent[Any], *objs: Any, **kwargs: Any) -> None:
        for obj in objs:
            if obj is not None:
                self.events.extend(obj.collect_events())
                self.aggregates[obj.id] = obj
        self.saved_kwargs.update(kwargs)

    ProcessingEvent.collect_events = collect_events  # type: ignore[method-assign]
    handles = {kind: routing.handled_by(kind) for kind in routing.KINDS}

    def checked(kind: str, event: Envelope) -> None:
        if event_type(event) not in handles[kind]:
            raise TypeError(f"{event_type(event)} does not change a {kind}")

    routing._checked = checked
    Ledger.create_id = staticmethod(functools.lru_cache(maxsize=100_000)(Ledger.create_id))  # type: ignore[method-assign]


@contextmanager
def postgres(fast: bool) -> Iterator[tuple[str, int | None, dict[str, str]]]:
    """(URL, server pid, server settings) of the PostgreSQL to measure; a private one is stopped after."""
    external = os.environ.get(ENV_URL)
    if external:
        yield external, None, server_settings(external)
        return
    server = start_private_server()
    try:
        if not fast:
            make_durable(server)
        pid = int((server.data / "postmaster.pid").read_text().split()[0])
        yield server.url, pid, server_settings(server.url)
    finally:
        server.stop()


def make_durable(server: PrivateServer) -> None:
    """Restart the throw-away test server with PostgreSQL's durable defaults (fsync and friends on)."""
    options = _server_options(server.base, server.port).replace("=off", "=on")
    server.run(
        "pg_ctl", "restart", "-D", str(server.data), "-l", str(server.log), "-m", "fast", "-w", "-o", options
    )


def server_settings(url: str) -> dict[str, str]:
    config = parse_database_url(url)
    assert isinstance(config, PostgresConfig)
    names = ("server_version", "fsync", "synchronous_commit", "full_page_writes")
    with config.connect() as conn:
        return {name: str(row[0]) for name in names if (row := conn.execute(f"SHOW {name}").fetchone())}


def sqlite_settings(url: str) -> dict[str, str]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
        synchronous = conn.execute("PRAGMA synchronous").fetchone()[0]
    names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
    return {"version": sqlite3.sqlite_version, "journal_mode": journal, "synchronous": names[synchronous]}


def measure_databases(
    events: Sequence[Envelope], args: argparse.Namespace, tmp: Path
) -> tuple[list[Row], dict[str, Any], str]:
    """Every batch size on SQLite and on PostgreSQL (then, with ``--what-if``, the patched runs)."""
    baseline = events[: args.baseline_events]
    sqlite = Database("sqlite", lambda name: f"sqlite:///{tmp / f'{name}.sqlite3'}", CpuMeter())
    rows = [sqlite.measure(baseline if batch == 1 else events, batch) for batch in BATCHES]
    settings: dict[str, Any] = {"sqlite": sqlite_settings(sqlite.kept)}
    with postgres(args.pg_fast) as (url, pid, server):
        run = uuid.uuid4().hex[:6]
        pg = Database(
            "postgresql",
            lambda name: with_schema(url, f"bench_{run}_{name.replace('-', '_')}"),
            CpuMeter(pid),
        )
        rows += [pg.measure(baseline if batch == 1 else events, batch) for batch in BATCHES]
        settings["postgresql"] = server | {"private_server": pid is not None}
        if args.profile:
            profile(events, sqlite.url_for("profiled"), args.profile)
            profile(
                events, pg.url_for("profiled"), args.profile.with_name(f"{args.profile.stem}-postgresql.prof")
            )
        if args.what_if:
            thresholds = gc.get_threshold()
            what_if()
            rows += [
                db.measure(events, max(BATCHES), variant)
                for variant in WHAT_IF_VARIANTS
                for db in (sqlite, pg)
            ]
            gc.set_threshold(*thresholds)  # the relay is measured as is (the other patches do not touch it)
    return rows, settings, sqlite.kept


# --- the relay -----------------------------------------------------------------------------------


def kafka_settings(tmp: Path) -> Settings:
    """A private broker's settings: two different free ports (the OS may hand out one twice)."""
    listener = free_port()
    controller = free_port()
    while controller == listener:
        controller = free_port()
    return Settings(
        kafka_bootstrap_servers=f"127.0.0.1:{listener}",
        kafka_controller_port=controller,
        kafka_data_dir=tmp / f"kafka-data-{listener}",
        topic_prefix=f"bench-wm-{uuid.uuid4().hex[:8]}",
    )


def relay_producer(settings: Settings) -> AIOKafkaProducer:
    """The relay's own producer settings (`services.outbox.relay`)."""
    return AIOKafkaProducer(
        **aiokafka_options(settings),
        enable_idempotence=True,
        linger_ms=2,
        max_batch_size=256 * 1024,
    )


async def produce(settings: Settings, topic: str, rows: Sequence[IntakeRow], store_id: bytes) -> float:
    """Seconds to produce ``rows`` as the relay would send them, until all are acknowledged."""
    producer = relay_producer(settings)
    await producer.start()
    try:
        partitions = len(await producer.partitions_for(topic))
        began = time.perf_counter()
        futures = [
            await producer.send(
                topic,
                row.body,
                key=row.partition_key.encode(),
                partition=partition_for(row.partition_key, partitions),
                headers=[(SEQ_HEADER, str(row.seq).encode()), (STORE_HEADER, store_id), *row.headers],
            )
            for row in rows
        ]
        await asyncio.gather(*futures)
        return time.perf_counter() - began
    finally:
        await producer.stop()


async def end_offsets(consumer: AIOKafkaConsumer, topic: str, partitions: int) -> int:
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    return sum((await consumer.end_offsets(tps)).values())


async def relay_run(
    settings: Settings, store: WriteModel, lease_path: Path, count: int
) -> tuple[float, float]:
    """(seconds until the first record is on the topic, until all ``count`` are) from `Relay.run`."""
    consumer = AIOKafkaConsumer(**aiokafka_options(settings), group_id=None)
    await consumer.start()
    stopping = asyncio.Event()
    relay = Relay(
        store,
        kafka_access(settings),
        settings.topic_events,
        RelayLease(lease_path),
        settings.relay_batch_size,
    )
    began = time.perf_counter()
    task = asyncio.create_task(relay.run(stopping))
    first = 0.0
    try:
        while (held := await end_offsets(consumer, settings.topic_events, settings.topic_partitions)) < count:
            if held and not first:
                first = time.perf_counter() - began
            if task.done():
                task.result()
                raise RuntimeError("the relay stopped early")
            await asyncio.sleep(POLL_SECONDS)
        return first, time.perf_counter() - began
    finally:
        stopping.set()
        relay.wake()
        await task
        await consumer.stop()


async def create_topic(settings: Settings, name: str) -> None:
    admin = AIOKafkaAdminClient(**aiokafka_options(settings))
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(name, settings.topic_partitions, settings.topic_replication_factor)]
        )
    finally:
        await admin.close()


async def measure_relay(
    settings: Settings, store: WriteModel, lease_path: Path, runs: int, meter: CpuMeter
) -> dict[str, Any]:
    """Raw produce of the store's records (best of ``runs``), then the relay of the same records."""
    rows = store.read_after(0, 10**9)
    scratch = f"{settings.topic_prefix}.bench-raw"
    await create_topic(settings, scratch)
    store_id = store.store_id.encode()
    await produce(settings, scratch, rows, store_id)  # untimed: a fresh broker's JIT needs a warm-up
    before = meter.sample()
    raw = [await produce(settings, scratch, rows, store_id) for _ in range(runs)]
    raw_cores = CpuMeter.cores(before, meter.sample())
    before = meter.sample()
    first, relayed = await relay_run(settings, store, lease_path, len(rows))
    relay_cores = CpuMeter.cores(before, meter.sample())
    best = min(raw)
    return {
        "events": len(rows),
        "raw_seconds": [round(s, 3) for s in raw],
        "raw_events_per_s": round(len(rows) / best),
        "raw_cores": raw_cores,
        "relay_seconds": round(relayed, 3),
        "relay_first_record_seconds": round(first, 3),
        "relay_events_per_s": round(len(rows) / relayed),
        "relay_events_per_s_after_first": round(len(rows) / max(relayed - first, 1e-9)),
        "relay_cores": relay_cores,
        "ratio": round(best / relayed, 3),
        "bytes_mean": round(sum(len(r.body) for r in rows) / len(rows)),
    }


def relay_phase(kept: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """A private broker and topics, then `measure_relay` on the store kept from the SQLite runs."""
    settings = kafka_settings(tmp)
    try:
        state = broker.up(settings)
    except broker.BrokerError:  # most likely a port taken in between: once more, on other ports
        settings = kafka_settings(tmp)
        state = broker.up(settings)
    store = open_model(kept)
    try:
        asyncio.run(ensure_topics(settings))
        relay = asyncio.run(
            measure_relay(settings, store, tmp / "relay.lock", args.raw_runs, CpuMeter(state.pid))
        )
    finally:
        store.close()
        if state.started:
            broker.down(settings)
    return relay | {"partitions": settings.topic_partitions, "relay_batch_size": settings.relay_batch_size}


# --- profiling -----------------------------------------------------------------------------------


def profile(events: Sequence[Envelope], url: str, out: Path) -> None:
    """cProfile of recording the workload's second half at batch 500 on a fresh store at ``url``
    (the first half is recorded first, unprofiled, so caches and tables are warm), then of reading
    it all back as the relay does. Stats go to ``out``; the top functions are printed."""
    half = len(events) // 2
    model = open_model(url)
    record_all(model, events[:half], 500)
    profiler = cProfile.Profile()
    profiler.enable()
    record_all(model, events[half:], 500)
    model.read_after(0, 10**9)
    profiler.disable()
    model.close()
    profiler.dump_stats(out)
    print(f"--- profile of {url.split('@')[-1]} -> {out}")
    stats = pstats.Stats(str(out))
    stats.strip_dirs().sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)


# --- reporting -----------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    load = [round(v, 2) for v in os.getloadavg()]
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model,
        "python": platform.python_version(),
        "load_average_at_start": load,
    }


def revision() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    return git("rev-parse", "--short", "HEAD") + ("+dirty" if git("status", "--porcelain") else "")


def table(result: dict[str, Any]) -> str:
    """The results as two Markdown tables (ready for docs/performance.md)."""
    lines = [
        "| Database | Variant | Batch | Events | Seconds | Events/s | Of aim | CPU µs/event"
        " | Cores: own / db / other |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in result["write_model"]:
        cells = [row["database"], row["variant"], row["batch"], row["events"], f"{row['seconds']:.2f}"]
        cells += [
            f"{row['events_per_s']:,}",
            f"{row['of_aim']:.2f}",
            row["own_cpu_us_per_event"],
            _cores(row["cores"]),
        ]
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    relay = result["relay"]
    runs, events = len(relay["raw_seconds"]), relay["events"]
    raw = (
        f"{min(relay['raw_seconds']):.2f}",
        f"{relay['raw_events_per_s']:,}",
        "1.00",
        _cores(relay["raw_cores"]),
    )
    relayed = (f"{relay['relay_seconds']:.2f}", f"{relay['relay_events_per_s']:,}", f"{relay['ratio']:.2f}")
    lines += [
        "",
        "| Path | Events | Seconds | Events/s | Ratio | Cores: own / broker / other |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
        f"| raw aiokafka produce (best of {runs}) | {events} | " + " | ".join(raw) + " |",
        f"| `Relay`, until all are on the canonical topic | {events} | "
        + " | ".join(relayed)
        + f" | {_cores(relay['relay_cores'])} |",
        "",
        f"The relay's first record was on the topic after {relay['relay_first_record_seconds']:.2f}s;"
        f" from then on {relay['relay_events_per_s_after_first']:,} events/s."
        f" Mean record {relay['bytes_mean']} bytes.",
    ]
    return "\n".join(lines)


def _cores(cores: dict[str, float]) -> str:
    return f"{cores['own']:.2f} / {cores['server']:.2f} / {cores['other']:.2f}"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=60_000, help="events per measurement (default 60000)")
    parser.add_argument(
        "--baseline-events", type=int, default=3000, help="events at batch size 1 (default 3000)"
    )
    parser.add_argument(
        "--raw-runs", type=int, default=3, help="raw produce runs; the best counts (default 3)"
    )
    parser.add_argument(
        "--pg-fast", action="store_true", help="private PostgreSQL with fsync etc. off (as the tests)"
    )
    parser.add_argument(
        "--what-if", action="store_true", help="also measure with the suggested cheap fixes patched in"
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this path")
    parser.add_argument("--profile", type=Path, help="afterwards, profile recording and write the stats here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    started, host, commit = datetime.now(UTC), machine(), revision()
    began = time.perf_counter()
    events = workload(args.events)
    # The workload is the bench's, not the write model's: keep the garbage collector off it.
    gc.collect()
    gc.freeze()
    print(
        f"workload: {len(events)} simulated events ({time.perf_counter() - began:.1f}s to simulate and parse)"
    )
    with tempfile.TemporaryDirectory(prefix="salesledger-bench-wm-") as tmp_dir:
        tmp = Path(tmp_dir)
        rows, databases, kept = measure_databases(events, args, tmp)
        print(json.dumps([row.as_dict() for row in rows]), flush=True)  # kept if the relay phase fails
        relay = relay_phase(kept, args, tmp)
    command = [".venv/bin/python -m bench.write_model", *(argv if argv is not None else sys.argv[1:])]
    result = {
        "date": started.isoformat(timespec="seconds"),
        "command": " ".join(command),
        "commit": commit,
        "machine": host | {"load_average_at_end": [round(v, 2) for v in os.getloadavg()]},
        "databases": databases,
        "write_model": [row.as_dict() for row in rows],
        "relay": relay,
    }
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
