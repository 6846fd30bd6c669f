"""Issue 12, "Load that one caller can impose": how much one caller hammering the expensive endpoints
slows the worker's event loop, seen as the latency of ``GET /v1/health`` (an answer that costs
nothing, so its latency is the event loop's wait), idle and under that load, in the same run.

    .venv/bin/python -m bench.one_caller                       # 20 s idle, 60 s loaded (~2.5 min)
    .venv/bin/python -m bench.one_caller --seconds 30 --json one_caller.json

One run starts a private Kafka broker (free ports, temporary data dir, its own topic prefix) and one
``salesledger worker`` (Faust tables in ``memory://``, the write model on SQLite), feeds it the
simulator's seeded quarter over HTTP (``--reps`` reps, ``--leads`` leads: the history `make run`
feeds, larger) and waits until the read models hold it. Then, after one untimed request of each
kind:

1. **Idle (baseline)**: a prober in its own process (so nothing of this process delays it) sends
   ``GET /v1/health`` over one keep-alive connection every ``--probe-every`` seconds (default
   0.02) for ``--idle-seconds`` (default 20); each latency is from the request's first byte to the
   answer's last.
2. **One caller**: the same prober for ``--seconds`` (default 60) while one caller, with one API
   key, keeps ``--connections`` (default 4) connections busy back to back, each cycling through
   the expensive requests (each connection starting at another):

   - a **big batch**: ``POST /v1/events:batch`` of 1,000 new `LeadCaptured` events (the count
     limit), all accepted, one write-model transaction;
   - a **leaderboard**: ``GET /v1/leaderboards?kpi=won_revenue.EUR&period=2026-Q3&by=rep`` with
     an ``as_of`` that changes every request, so the 5 s answer cache never helps;
   - a **statement**: ``GET /v1/statements/{rep}/2026-Q3`` of a rep with a plan, ``as_of``
     changing likewise;
   - a **60 MB body**: ``POST /v1/events:batch`` of 1,000 events of 60 KB each (just under the
     per-event limit, 64 KiB; the note is longer than a note may be, so each event is refused
     alone as ``invalid``), about 60 MB, under the 64 MiB body limit: read, decoded and validated
     whole.

Reported: p50, p99 and max of the health latency in each phase and the **ratio of the loaded p99 to
the idle p99**, the requests the caller completed by kind (status codes, median time), and the CPU
of the worker, the broker, this process and the rest of the machine per phase (from /proc): on a
machine with two cores the caller itself takes CPU the worker would have had. No figure is
checked against a threshold here; docs/performance.md states the bound and the figures measured.
``--commit`` records the commit measured (the bench does not ask git).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import math
import multiprocessing
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp

from bench.ingest import BenchWorker, CpuMeter, bench_settings, machine, worker_command
from services import broker
from services.auth.keys import ApiKeys
from services.auth.roles import Role
from services.runner import feed_simulated_history, simulated_history
from services.settings import Settings
from services.topics import ensure_topics

CALLER = "/crm/one-caller"
PERIOD = "2026-Q3"
BATCH_EVENTS = 1000
BIG_EVENT_BYTES = 60_000
KINDS = ("big_batch", "leaderboard", "statement", "body_60mb")


# --- the prober (its own process) -----------------------------------------------------------------


def probe_health(host: str, port: int, seconds: float, every: float, out: Connection) -> None:
    """GET /v1/health every `every` seconds for `seconds`, over one keep-alive connection; send the
    latencies (seconds) and the count of answers that were not 200 back through `out`."""
    latencies: list[float] = []
    failures = 0
    conn = http.client.HTTPConnection(host, port, timeout=120)
    deadline = time.perf_counter() + seconds
    next_at = time.perf_counter()
    while next_at < deadline:
        now = time.perf_counter()
        if next_at > now:
            time.sleep(next_at - now)
        started = time.perf_counter()
        try:
            conn.request("GET", "/v1/health")
            response = conn.getresponse()
            response.read()
            failures += response.status != 200
        except (OSError, http.client.HTTPException):
            failures += 1
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=120)
        latencies.append(time.perf_counter() - started)
        next_at = max(next_at + every, time.perf_counter())
    conn.close()
    out.send((latencies, failures))
    out.close()


def start_prober(settings: Settings, seconds: float, every: float) -> tuple[Any, Connection]:
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(
        target=probe_health, args=(settings.web_host, settings.web_port, seconds, every, send), daemon=True
    )
    process.start()
    send.close()
    return process, receive


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def summary(latencies: Sequence[float], failures: int) -> dict[str, Any]:
    ms = [v * 1000 for v in latencies]
    return {
        "probes": len(ms),
        "not_200": failures,
        "p50_ms": round(percentile(ms, 50), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "max_ms": round(max(ms), 2),
    }


# --- the caller ---------------------------------------------------------------------------------


@dataclass
class Workload:
    """The caller's requests: bodies made before the clock starts, so making them costs nothing."""

    url: str
    key: str
    rep: str
    big_body: bytes
    reps: list[str]
    made: int = 0
    done: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def batch(self) -> bytes:
        """1,000 new LeadCaptured events (ids never used before)."""
        self.made += 1
        events = [
            {
                "specversion": "1.0",
                "id": f"one-caller-{self.made}-{n}",
                "source": CALLER,
                "type": "LeadCaptured",
                "time": "2026-09-15T10:00:00Z",
                "subject": f"lead-oc-{self.made}-{n}",
                "data": {
                    "lead_id": f"lead-oc-{self.made}-{n}",
                    "rep_id": self.reps[n % len(self.reps)],
                    "source": "inbound",
                },
            }
            for n in range(BATCH_EVENTS)
        ]
        return json.dumps(events).encode()

    def as_of(self) -> str:
        self.made += 1
        return f"2026-09-30T18:00:00.{self.made % 1_000_000:06d}Z"

    async def one(self, http: aiohttp.ClientSession, kind: str) -> None:
        auth = {"Authorization": f"Bearer {self.key}"}
        started = time.perf_counter()
        if kind == "big_batch":
            request = http.post(f"{self.url}/v1/events:batch", data=self.batch(), headers=auth)
        elif kind == "body_60mb":
            request = http.post(f"{self.url}/v1/events:batch", data=self.big_body, headers=auth)
        elif kind == "leaderboard":
            params = {"kpi": "won_revenue.EUR", "period": PERIOD, "by": "rep", "as_of": self.as_of()}
            request = http.get(f"{self.url}/v1/leaderboards", params=params, headers=auth)
        else:
            request = http.get(
                f"{self.url}/v1/statements/{self.rep}/{PERIOD}", params={"as_of": self.as_of()}, headers=auth
            )
        async with request as response:
            await response.read()
            self.done[kind][response.status] += 1
        self.seconds[kind].append(time.perf_counter() - started)


def big_body() -> bytes:
    """1,000 CallLogged events of 60 KB each: each within the per-event byte limit, each refused
    alone (its note is longer than 4,000 characters), about 60 MB in all."""
    data: dict[str, object] = {"rep_id": "rep-001", "lead_id": "lead-x", "outcome": "connected"}
    data["duration_seconds"] = 60
    envelope: dict[str, object] = {
        "specversion": "1.0",
        "source": CALLER,
        "type": "CallLogged",
        "time": "2026-09-15T10:00:00Z",
        "subject": "lead-x",
    }
    size = len(json.dumps({**envelope, "id": "big-0000", "data": {**data, "notes": ""}}))
    note = "n" * (BIG_EVENT_BYTES - size)
    events = [
        {**envelope, "id": f"big-{n:04d}", "data": {**data, "notes": note}} for n in range(BATCH_EVENTS)
    ]
    return json.dumps(events).encode()


async def hammer(workload: Workload, connections: int, seconds: float) -> None:
    """`connections` connections back to back for `seconds`, each cycling through the kinds."""
    deadline = time.perf_counter() + seconds
    timeout = aiohttp.ClientTimeout(total=300)
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def loop(start: int) -> None:
            turn = start
            while time.perf_counter() < deadline:
                await workload.one(http, KINDS[turn % len(KINDS)])
                turn += 1

        await asyncio.gather(*(loop(n) for n in range(connections)))


async def warm_up(workload: Workload) -> dict[str, int]:
    """One request of each kind, untimed; the status of each (all must be 200)."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as http:
        for kind in KINDS:
            await workload.one(http, kind)
    statuses = {kind: next(iter(workload.done[kind])) for kind in KINDS}
    workload.done.clear()
    workload.seconds.clear()
    return statuses


# --- the system under test -----------------------------------------------------------------------


async def wait_for_history(url: str, key: str, calls: int, timeout: float = 300.0) -> float:
    """Seconds until the read models count every call of the fed history."""
    started = time.perf_counter()
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as http:
        while time.perf_counter() - started < timeout:
            async with http.get(f"{url}/v1/reps/activity") as response:
                body = await response.json()
            if sum(rep["calls"] for rep in body["reps"].values()) >= calls:
                return time.perf_counter() - started
            await asyncio.sleep(0.5)
    raise TimeoutError(f"the read models did not reach {calls} calls in {timeout:.0f}s")


def phase(
    meter: CpuMeter,
    settings: Settings,
    seconds: float,
    every: float,
    workload: Workload | None,
    connections: int,
) -> dict[str, Any]:
    before = meter.sample()
    prober, results = start_prober(settings, seconds, every)
    if workload is not None:
        asyncio.run(hammer(workload, connections, seconds))
    latencies, failures = results.recv()
    prober.join()
    cores = CpuMeter.cores(before, meter.sample(), 1)
    cores.pop("worker_us_per_event")
    return summary(latencies, failures) | {"cores": cores}


def measure(args: argparse.Namespace, settings: Settings, meter: CpuMeter, key: str) -> dict[str, Any]:
    url = f"http://{settings.web_host}:{settings.web_port}"
    documents = simulated_history(args.reps, args.leads)
    fed_started = time.perf_counter()
    asyncio.run(feed_simulated_history(settings, reps=args.reps, leads=args.leads))
    fed = time.perf_counter() - fed_started
    calls = sum(1 for d in documents if d["type"] == "CallLogged")
    caught_up = asyncio.run(wait_for_history(url, key, calls))
    reps = sorted({d["data"]["rep_id"] for d in documents if d["type"] == "RepOnboarded"})
    planned = [d["data"]["rep_id"] for d in documents if d["type"] == "CompPlanAssigned"]
    rep = next(r for r in planned if r != planned[0])  # the first is the head of sales (plan-mgr)
    workload = Workload(url, key, rep, big_body(), reps)
    warm = asyncio.run(warm_up(workload))
    if set(warm.values()) != {200}:
        raise RuntimeError(f"a warm-up request failed: {warm}")
    idle = phase(meter, settings, args.idle_seconds, args.probe_every, None, args.connections)
    loaded = phase(meter, settings, args.seconds, args.probe_every, workload, args.connections)
    return {
        "history": {
            "events": len(documents),
            "reps": len(reps),
            "fed_s": round(fed, 1),
            "caught_up_s": round(caught_up, 1),
        },
        "statement_rep": rep,
        "big_body_bytes": len(workload.big_body),
        "idle": idle,
        "loaded": loaded,
        "p99_ratio": round(loaded["p99_ms"] / idle["p99_ms"], 1),
        "caller": {
            kind: {
                "requests": sum(workload.done[kind].values()),
                "statuses": dict(workload.done[kind]),
                "median_s": round(statistics.median(workload.seconds[kind]), 2)
                if workload.seconds[kind]
                else None,
            }
            for kind in KINDS
        },
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        f"GET /v1/health latency, one probe every {result['setup']['probe_every_s'] * 1000:.0f} ms:",
        "| Phase | Probes | p50 ms | p99 ms | max ms | Worker cores | Broker | Bench | Other |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in ("idle", "loaded"):
        row, cores = result[name], result[name]["cores"]
        lines.append(
            f"| {name} | {row['probes']} | {row['p50_ms']} | {row['p99_ms']} | {row['max_ms']} | "
            f"{cores['worker']} | {cores['broker']} | {cores['bench']} | {cores['other']} |"
        )
    lines += [
        f"p99 loaded / p99 idle: {result['p99_ratio']}; health answers not 200: "
        f"{result['idle']['not_200']} idle, {result['loaded']['not_200']} loaded",
        f"the caller ({result['setup']['connections']} connections, {result['setup']['seconds']} s):",
    ]
    for kind, row in result["caller"].items():
        lines.append(
            f"  {kind}: {row['requests']} requests, statuses {row['statuses']}, median {row['median_s']} s"
        )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.one_caller", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="loaded phase (default 60)")
    parser.add_argument("--idle-seconds", type=float, default=20.0, help="idle baseline (default 20)")
    parser.add_argument("--connections", type=int, default=4, help="the caller's connections (default 4)")
    parser.add_argument("--probe-every", type=float, default=0.02, help="health probe interval, s (0.02)")
    parser.add_argument("--reps", type=int, default=30, help="reps in the simulated history (default 30)")
    parser.add_argument("--leads", type=int, default=300, help="leads in the simulated history (default 300)")
    parser.add_argument("--commit", default="unknown", help="the commit measured, recorded as given")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this path")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    started, host = datetime.now(UTC), machine()
    with tempfile.TemporaryDirectory(prefix="salesledger-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        settings = bench_settings(tmp, "memory")
        state = broker.up(settings)
        worker: BenchWorker | None = None
        try:
            asyncio.run(ensure_topics(settings))
            api_keys = ApiKeys.from_url(settings.database_url)
            key = api_keys.create(CALLER, role=Role.ADMIN)  # one caller: publishes and reads everything
            api_keys.close()
            worker = BenchWorker(settings, tmp / "worker.log", worker_command(None)).start()
            meter = CpuMeter(worker.process.pid if worker.process else None, state.pid)
            try:
                result = measure(args, settings, meter, key)
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
            [".venv/bin/python -m bench.one_caller", *(argv if argv is not None else sys.argv[1:])]
        ),
        "commit": args.commit,
        "machine": host,
        "setup": {
            "seconds": args.seconds,
            "idle_seconds": args.idle_seconds,
            "connections": args.connections,
            "probe_every_s": args.probe_every,
            "partitions": settings.topic_partitions,
            "web_max_connections": settings.web_max_connections,
        },
    }
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
