"""Replay (issue #11): `salesledger replay` over a large canonical log, as a ratio to a raw aiokafka
consumer of the same topic in the same run, and its peak memory.

    .venv/bin/python -m bench.replay                       # 1,000,000 events (about 8 minutes)
    .venv/bin/python -m bench.replay --events 200000       # quicker
    .venv/bin/python -m bench.replay --json r.json --workers 1 2

One run starts a private Kafka broker (free ports, temporary data dir, its own topic prefix) and
fills a fresh canonical topic with the simulator's history (`bench.projection.history`, seed 7,
cut after ``--events`` events), as the relay writes it (`bench.projection.records`: key, value,
sequence header). Then, each ``--runs`` times:

1. **Baseline**: a raw aiokafka consumer (no group) reads the topic from offset 0 with ``getmany``
   and ``json.loads`` of every value (`bench.projection.raw_consume`).
2. **Replay**: for each ``--workers`` value, the real CLI, ``salesledger replay --quiet
   --workers N`` (every read model, in memory, nothing written), run as a child process with the
   broker's settings in its environment. Its own figure is the one it prints (from its first
   read to its last fold: process start, imports and the model set-up excluded); the wall time
   of the whole command is given too. Peak memory: the largest ``ru_maxrss`` of the command and
   its children (`resource.RUSAGE_CHILDREN`, read after each run; a process pool's workers
   count once each, the parent separately).

Aims (issue #11): at least 0.60 of the raw consumer's rate; one million events in under 30 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.ingest import bench_settings, machine, revision
from bench.projection import fill, history, raw_consume, records
from services import broker
from services.settings import Settings
from services.topics import ensure_topics
from tests.support import ROOT, settings_env

RATE = re.compile(r"replayed (\d+) events .* in ([\d.]+) s")


def replay_once(settings: Settings, workers: int) -> dict[str, Any]:
    """One `salesledger replay` of the whole topic: events, its own seconds, wall seconds, peak RSS."""
    command = [str(ROOT / ".venv" / "bin" / "salesledger"), "replay", "--quiet", "--workers", str(workers)]
    began = time.perf_counter()
    done = subprocess.run(command, env=settings_env(settings), cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"replay failed: {done.stdout}{done.stderr}")
    found = RATE.search(done.stdout)
    if found is None:
        raise RuntimeError(f"no figure in: {done.stdout}")
    events, seconds = int(found.group(1)), float(found.group(2))
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "workers": workers,
        "events": events,
        "seconds": seconds,
        "wall_seconds": wall,
        "peak_kib": peak_kib,
    }


async def prepare(settings: Settings, count: int, seed: int) -> int:
    await ensure_topics(settings)
    events = history(count, seed)
    await fill(settings, records(events, 1))
    return len(events)


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="salesledger-bench-") as tmp_dir:
        settings = bench_settings(Path(tmp_dir), "memory")
        broker.up(settings)
        try:
            count = asyncio.run(prepare(settings, args.events, args.seed))
            rounds = []
            for _ in range(args.runs):
                baseline = asyncio.run(raw_consume(settings, count))
                replays = [replay_once(settings, workers) for workers in args.workers]
                rounds.append({"raw_seconds": baseline, "replays": replays})
        finally:
            broker.down(settings)
    return {"events": count, "rounds": rounds}


def report(figures: dict[str, Any]) -> None:
    count = figures["events"]
    print(f"{count:,} events on the canonical topic (4 partitions)")
    for index, one in enumerate(figures["rounds"], start=1):
        raw = count / one["raw_seconds"]
        print(f"round {index}: raw consumer {raw:,.0f} events/s ({one['raw_seconds']:.1f} s)")
        for replay in one["replays"]:
            rate = replay["events"] / replay["seconds"]
            print(
                f"  replay --workers {replay['workers']}: {rate:,.0f} events/s, {replay['seconds']:.1f} s "
                f"(wall {replay['wall_seconds']:.1f} s), ratio {rate / raw:.2f}, "
                f"peak RSS so far {replay['peak_kib'] / 1024:,.0f} MiB"
            )
    for workers in sorted({r["workers"] for one in figures["rounds"] for r in one["replays"]}):
        ratios = [
            (r["events"] / r["seconds"]) / (count / one["raw_seconds"])
            for one in figures["rounds"]
            for r in one["replays"]
            if r["workers"] == workers
        ]
        print(f"--workers {workers}: ratio to raw consume {min(ratios):.2f} to {max(ratios):.2f}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=2, help="rounds of baseline + replays (default 2)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="replay --workers values")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    figures = run(args)
    figures |= {
        "machine": machine(),
        "commit": revision(),
        "command": " ".join(["bench.replay", *sys.argv[1:]]),
    }
    report(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
