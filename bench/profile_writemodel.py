"""cProfile of the write model alone, on SQLite or PostgreSQL (issue 13's profile of the writer).

    .venv/bin/python -m bench.profile_writemodel                          # SQLite, 20,000 events
    .venv/bin/python -m bench.profile_writemodel --postgres --events 10000  # a private durable server

The workload is bench.write_model's (the simulator's history, parsed before any clock starts); the
first half is recorded unprofiled at batch 500 (warm caches, a store that is not empty), then the
second half under cProfile, then everything is read back as the relay reads it
(`bench.write_model.profile`). The worker's whole picture (gate, relay, projector in one process)
needs a sampling profiler on a `bench.ingest` run instead (docs/performance.md says how); this one
isolates the writer, which runs in a thread that `bench.ingest --profile` cannot see.
The profiler slows everything down: never quote its timings, only their shares.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.write_model import postgres, profile, workload


def main(argv: Sequence[str] | None = None) -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--events", type=int, default=20_000, help="events in the workload (default 20000)")
    parser.add_argument("--postgres", action="store_true", help="a private PostgreSQL (fsync on), not SQLite")
    parser.add_argument("--out", type=Path, default=Path("writemodel.prof"), help="where the stats go")
    args = parser.parse_args(argv)
    events = workload(args.events)
    gc.collect()
    gc.freeze()  # the workload is the bench's, not the writer's
    if args.postgres:
        with postgres(fast=False) as (url, _, _):
            profile(events, url, args.out)
        return
    with tempfile.TemporaryDirectory(prefix="salesledger-profile-wm-") as tmp:
        profile(events, f"sqlite:///{Path(tmp) / 'writemodel.sqlite3'}", args.out)


if __name__ == "__main__":
    main()
