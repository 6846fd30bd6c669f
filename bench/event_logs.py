"""The cost of one event line (issue 16: every accept is logged), beside a plain ``logging.info``
line through the same handler in the same run.

    .venv/bin/python -m bench.event_logs              # 20,000 events, best of 5 runs
    .venv/bin/python -m bench.event_logs --events 5000 --runs 3

`services.logs.log_outcomes` writes one INFO line per accepted event, formatted as JSON or as
text, into an in-memory stream (so the disk is not what is measured); the baseline is
``logging.getLogger(...).info("event %s", id)`` with the text formatter. The ratio is what the
event line costs over the cheapest line Python's logging writes.
"""

from __future__ import annotations

import argparse
import io
import logging
import time
from types import SimpleNamespace

from services.logs import log_outcomes, use_format


def best_of(runs: int, action: object) -> float:
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    best = float("inf")
    for _ in range(runs):
        handler.setStream(io.StringIO())
        start = time.perf_counter()
        action()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    root = logging.getLogger()
    root.handlers[:] = [logging.StreamHandler(io.StringIO())]
    root.setLevel(logging.INFO)
    events = [
        SimpleNamespace(id=f"evt-{n}", source="/dialer", type="CallLogged", partition_key=f"lead-{n}")
        for n in range(args.events)
    ]
    results = [SimpleNamespace(outcome=SimpleNamespace(value="accepted"), rule=None) for _ in events]
    plain = logging.getLogger("bench.plain")

    def baseline() -> None:
        for event in events:
            plain.info("event %s", event.id)

    use_format(root, "text")
    base = best_of(args.runs, baseline)
    print(f"baseline (plain info, text): {base / args.events * 1e6:.1f} us/line")
    for log_format in ("text", "json"):
        use_format(root, log_format)
        took = best_of(args.runs, lambda: log_outcomes(events, results, "http"))
        print(
            f"event line ({log_format}): {took / args.events * 1e6:.1f} us/event, {took / base:.2f}x baseline"
        )


if __name__ == "__main__":
    main()
