"""Local broker start time: spawn of the JVM to the first answered metadata request.

    .venv/bin/python -m bench.broker_start --runs 5

Each run uses a fresh data dir (so formatting is included in `up` but not in `start_seconds`).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from services import broker
from services.settings import Settings
from tests.support import free_port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    spawn_to_ready, whole_up = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as data:
            settings = Settings(
                kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
                kafka_controller_port=free_port(),
                kafka_data_dir=Path(data),
            )
            began = time.perf_counter()
            state = broker.up(settings)
            whole_up.append(time.perf_counter() - began)
            spawn_to_ready.append(state.start_seconds or 0.0)
            broker.down(settings)
    print(
        f"runs={runs} spawn->ready median={statistics.median(spawn_to_ready):.2f}s "
        f"max={max(spawn_to_ready):.2f}s; whole `up` (format+start) median={statistics.median(whole_up):.2f}s"
    )


if __name__ == "__main__":
    main()
