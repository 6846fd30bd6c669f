"""Soak (issue 15): a worker fed at a steady rate for minutes, sampled for what grows.

    .venv/bin/python -m bench.soak --minutes 30 --rate 500     # the issue's run
    .venv/bin/python -m bench.soak --minutes 3 --rate 200 --json soak.json

One run starts a private Kafka broker (free ports, temporary data dir, its own topic prefix) and one
``salesledger worker`` (RocksDB read models, the write model on SQLite), then POSTs batches of new
``CallLogged`` events at ``--rate`` events a second (``--batch`` per request, paced by the clock so a
slow answer is caught up, never skipped) for ``--minutes``. Every ``--sample-every`` seconds it
records the worker's resident memory (its process and children, from /proc), the projector's lag
and the relay backlog (from ``/metrics``), readiness, and the requests that failed since the last
sample. At the end it waits for the read model to hold every accepted event and checks the count.

Reported: the samples, and the summary a reader needs: memory in the second and the last quarter of
the run (growth between them; the first quarter is warm-up), the largest lag and backlog, the lag
at the end, errors, and whether the final count is exact. Nothing is checked against a threshold:
docs/performance.md states what the run showed. Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bench.ingest import BenchWorker, bench_settings, machine, worker_command
from services import broker
from services.auth.keys import ApiKeys
from services.auth.roles import Role
from services.topics import ensure_topics
from tests.samples import call_logged

SOURCE = "/dialer/test"


def resident_mib(pid: int) -> float:
    """Resident memory of `pid` and its children (the gauge child), in MiB."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().split(")")[-1].split()
            if int(entry.name) != pid and int(stat[1]) != pid:
                continue
            rss = next(
                line for line in (entry / "status").read_text().splitlines() if line.startswith("VmRSS:")
            )
            total += int(rss.split()[1])
        except (OSError, StopIteration, ValueError, IndexError):
            continue
    return total / 1024


def series(text: str, name: str) -> float | None:
    """The sum over labels of one series in Prometheus text."""
    found = re.findall(rf"^{re.escape(name)}(?:{{[^}}]*}})? (\S+)$", text, re.MULTILINE)
    return sum(float(value) for value in found) if found else None


class Feeder:
    """POSTs batches at a steady rate; counts what was accepted and what failed."""

    def __init__(self, url: str, key: str, rate: float, batch: int, run: str) -> None:
        self.url, self.rate, self.batch, self.run = url, rate, batch, run
        self.headers = {"Authorization": f"Bearer {key}"}
        self.sent = self.accepted = self.errors = 0

    def next_batch(self) -> list[dict[str, Any]]:
        start, self.sent = self.sent, self.sent + self.batch
        return [
            call_logged(f"soak-{self.run}-{n}", rep_id=f"rep-soak-{n % 50}", lead_id=f"lead-soak-{n % 500}")
            for n in range(start, self.sent)
        ]

    def post(self, client: httpx.Client) -> None:
        body = json.dumps(self.next_batch())
        for _attempt in range(5):  # a publisher retries identical bytes (duplicates are harmless)
            try:
                answer = client.post(f"{self.url}/v1/events:batch", content=body, headers=self.headers)
                statuses = [r["status"] for r in answer.json()["results"]]
                if answer.status_code == 200 and set(statuses) <= {"accepted", "duplicate"}:
                    self.accepted += len(statuses)
                    return
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            self.errors += 1
            time.sleep(0.5)


def soak(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    settings = bench_settings(tmp, "rocksdb")
    broker.up(settings)
    try:
        asyncio.run(ensure_topics(settings))
        keys = ApiKeys(settings.database_path)
        key, reader = keys.create(SOURCE), keys.create(role=Role.AUDITOR, label="soak")
        worker = BenchWorker(settings, tmp / "worker.log", worker_command(None)).start()
        try:
            return run(args, worker, key, reader)
        finally:
            worker.stop()
    finally:
        broker.down(settings)


def run(args: argparse.Namespace, worker: BenchWorker, key: str, reader: str) -> dict[str, Any]:
    assert worker.process is not None
    feeder = Feeder(worker.url, key, args.rate, args.batch, worker.settings.app_id)
    samples: list[dict[str, float | None]] = []
    start = time.monotonic()
    end, next_sample, errors_before = start + args.minutes * 60, start, 0
    with httpx.Client(timeout=30) as client:
        while (now := time.monotonic()) < end:
            due = int((now - start) * args.rate / args.batch)  # batches the clock says are due
            if feeder.sent // args.batch < due:
                feeder.post(client)
                continue
            if now >= next_sample:
                metrics = client.get(f"{worker.url}/metrics").text
                samples.append(
                    {
                        "t": round(now - start, 1),
                        "rss_mib": round(resident_mib(worker.process.pid), 1),
                        "lag": series(metrics, "salesledger_consumer_lag"),
                        "backlog": series(metrics, "salesledger_relay_backlog"),
                        "ready": float(client.get(f"{worker.url}/v1/health/ready").status_code == 200),
                        "errors": feeder.errors - errors_before,
                        "accepted": feeder.accepted,
                    }
                )
                errors_before, next_sample = feeder.errors, next_sample + args.sample_every
                print(json.dumps(samples[-1]), flush=True)
            time.sleep(min(0.01, args.batch / args.rate))
        settled = time.monotonic()
        calls = 0
        while time.monotonic() - settled < 120:
            body = client.get(f"{worker.url}/v1/reps/activity", headers={"Authorization": f"Bearer {reader}"})
            reps = body.json().get("reps", {}) if body.status_code == 200 else {}
            calls = sum(state["calls"] for rep, state in reps.items() if rep.startswith("rep-soak-"))
            if calls >= feeder.accepted:
                break
            time.sleep(1)
    return summary(args, samples, feeder, calls, time.monotonic() - settled)


def summary(
    args: argparse.Namespace, samples: list[dict[str, Any]], feeder: Feeder, calls: int, settle: float
) -> dict[str, Any]:
    quarter = max(len(samples) // 4, 1)
    # the first quarter is warm-up (caches and RocksDB memtables filling): growth is measured after it
    first = statistics.median(s["rss_mib"] for s in samples[quarter : 2 * quarter] or samples[:quarter])
    last = statistics.median(s["rss_mib"] for s in samples[-quarter:])
    lags = [s["lag"] or 0 for s in samples]
    backlogs = [s["backlog"] or 0 for s in samples]
    return {
        "machine": machine(),
        "minutes": args.minutes,
        "rate": args.rate,
        "accepted": feeder.accepted,
        "errors": feeder.errors,
        "rss_mib_second_quarter": first,
        "rss_mib_last_quarter": last,
        "rss_growth_mib": round(last - first, 1),
        "lag_max": max(lags),
        "lag_last_quarter_median": statistics.median(lags[-quarter:]),
        "backlog_max": max(backlogs),
        "not_ready_samples": sum(1 for s in samples if not s["ready"]),
        "read_model_calls": calls,
        "exact": calls == feeder.accepted,
        "settled_seconds": round(settle, 1),
        "samples": samples,
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=500.0, help="events a second")
    parser.add_argument("--batch", type=int, default=50, help="events per POST")
    parser.add_argument("--sample-every", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--json", type=Path, help="also write the result here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="salesledger-soak-") as tmp:
        result = soak(args, Path(tmp))
    shown = {k: v for k, v in result.items() if k not in ("samples", "machine")}
    print(json.dumps(shown, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    sys.exit(0 if result["exact"] and not result["errors"] else 1)


if __name__ == "__main__":
    main()
