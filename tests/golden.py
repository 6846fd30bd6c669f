"""The golden history: a checked-in canonical log and the read models a replay of it must write.

``tests/data/golden/events.jsonl`` is a small canonical log (a simulated year plus a few hand-made
events, so that every type of `events.catalogue.EVENT_TYPES` occurs), one record per line as the
relay writes it: ``{"partition": p, "offset": o, "key": k, "value": <the event>}`` where the value
is exactly the bytes of ``serialize_event(event.recorded(RECORDED))`` (``orjson`` gives them back
unchanged), the partition is the relay's `partition_for` over `PARTITIONS` partitions and offsets
count up per partition in log order. ``tests/data/golden/expected/`` holds what the replay's writer
(`services.replay.run.write`) writes for that log: one ``<model>.json`` per read model and
``replay.json``. The read models are bound to the shipped default process and `TIMEZONE` (what
``SALESLEDGER_ORG_TIMEZONE=Europe/Berlin salesledger replay --out DIR`` writes for this log).

Usage (``tests/unit/test_golden_history.py`` is the test; this is the tool behind it):

    .venv/bin/python -m tests.golden            # check: replay the log, diff with expected/
    .venv/bin/python -m tests.golden --write    # rewrite expected/ from the checked-in log
    .venv/bin/python -m tests.golden --write --log   # re-simulate the log too, then expected/

When regenerating is legitimate:

- ``--write``: only after a fold's semantics changed *on purpose* (a business rule fixed or
  changed, a read model added or its stored form changed), reviewed as such. A failing golden
  test after a refactoring or a performance change is a bug in that change, not a reason to
  regenerate. The diff of ``expected/`` is part of the change and must be read in review: every
  changed partial should be explained by the intended change, and nothing else may move.
- ``--write --log``: only when the log itself must change: a new event type in the catalogue (the
  coverage test fails until the log holds it; add it to the simulator or to `hand_made`), or a
  new schema version. The log is the fixed input, so a simulator change alone is no reason: the
  check mode notes when the simulator no longer reproduces the log, and that is fine.
"""

from __future__ import annotations

import argparse
import bisect
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import orjson

from events import serialize_event
from events.catalogue import EVENT_TYPES
from events.envelope import Envelope
from sales.process import load_process
from services.outbox.relay import partition_for
from services.projector.readmodels import ReadModel, read_models
from services.replay.rebuild import Rebuild
from services.replay.run import Replayed, write
from services.simulator import simulate_envelopes
from tests.samples import money, sample_event

GOLDEN = Path(__file__).resolve().parent / "data" / "golden"
EVENTS = GOLDEN / "events.jsonl"
EXPECTED = GOLDEN / "expected"

SEED, REPS, LEADS, START, WEEKS = 11, 12, 300, date(2026, 1, 5), 52
"""The simulated part: a year of a small sales org (about 3,000 events)."""
PARTITIONS = 4
RECORDED = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
"""When the relay 'accepted' every event: one fixed instant, after the history ends."""
TIMEZONE = "Europe/Berlin"
"""The organisation's time zone the read models are bound to (KPI days: not UTC, with DST)."""
BATCH = 500
"""Records per `Rebuild.fold` call (as fetches arrive); the output does not depend on it."""


@dataclass(frozen=True)
class Record:
    """One record of the canonical log (aiokafka's `ConsumerRecord` fields that replay reads)."""

    partition: int
    offset: int
    key: str
    value: bytes


def hand_made() -> list[Envelope]:
    """Events of types the simulator never produces, about the simulated org (seed 11).

    rep-007 (an account executive in team-na-1, managed by rep-003) won deal-000208 on
    2026-11-18; the adjustment adds a workshop sold with it, the payout settles Q3.
    """
    return [
        sample_event(
            "PayoutApproved",
            "2026-10-05T10:00:00-05:00",
            "golden-payout-rep-007-2026-q3",
            payout_id="payout-rep-007-2026-q3",
            rep_id="rep-007",
            period={"kind": "quarter", "start": "2026-07-01", "end": "2026-09-30"},
            amount=money("1148.00"),
            approved_by="rep-003",
            statement_id="stmt-rep-007-2026-q3",
        ),
        sample_event(
            "CommissionAdjusted",
            "2026-12-28T09:30:00-05:00",
            "golden-adjustment-rep-007-2026-q4",
            adjustment_id="adj-rep-007-2026-q4-1",
            rep_id="rep-007",
            period={"kind": "quarter", "start": "2026-10-01", "end": "2026-12-31"},
            amount=money("250.00"),
            direction="add",
            reason="Onsite workshop sold with deal-000208 was credited to nobody",
            requested_by="rep-003",
            deal_id="deal-000208",
        ),
    ]


def history() -> list[Envelope]:
    """The simulated history with the hand-made events slotted in by time, all stamped `RECORDED`."""
    events = list(simulate_envelopes(SEED, reps=REPS, leads=LEADS, start=START, weeks=WEEKS))
    for extra in hand_made():
        times = [event.time for event in events]
        events.insert(bisect.bisect_right(times, extra.time), extra)
    return [event.recorded(RECORDED) for event in events]


def records(events: Iterable[Envelope]) -> list[Record]:
    """The events as the relay writes them: partitioned by key, offsets per partition in order."""
    offsets = dict.fromkeys(range(PARTITIONS), 0)
    out = []
    for event in events:
        key = event.partition_key
        partition = partition_for(key, PARTITIONS)
        out.append(Record(partition, offsets[partition], key, serialize_event(event)))
        offsets[partition] += 1
    return out


def encode_log(log: Sequence[Record]) -> bytes:
    """JSON lines, the value embedded as the very bytes the relay wrote (checked to read back)."""
    lines = []
    for record in log:
        if orjson.dumps(orjson.loads(record.value)) != record.value:
            raise ValueError(f"the value at {record.partition}/{record.offset} does not read back as is")
        lines.append(
            b'{"partition":%d,"offset":%d,"key":%b,"value":%b}\n'
            % (record.partition, record.offset, orjson.dumps(record.key), record.value)
        )
    return b"".join(lines)


def read_log(path: Path = EVENTS) -> list[Record]:
    """The checked-in log, in the order it was written."""
    out = []
    for line in path.read_bytes().splitlines():
        row = orjson.loads(line)
        out.append(Record(row["partition"], row["offset"], row["key"], orjson.dumps(row["value"])))
    return out


def models() -> tuple[ReadModel, ...]:
    """Every read model, bound to the shipped default process and `TIMEZONE`."""
    return read_models(load_process(None), TIMEZONE)


def rebuild(log: Sequence[Record], batch: int = BATCH) -> Rebuild:
    """The replay's in-memory rebuild of ``log``, each partition fed in batches, interleaved."""
    result = Rebuild(models())
    by_partition = {p: [r for r in log if r.partition == p] for p in range(PARTITIONS)}
    longest = max((len(mine) for mine in by_partition.values()), default=0)
    for start in range(0, longest, batch):
        for partition, mine in by_partition.items():
            if mine[start : start + batch]:
                result.fold(partition, mine[start : start + batch])
    result.finish()
    return result


def written(log: Sequence[Record], out: Path) -> dict[str, bytes]:
    """What the replay's writer writes for ``log`` into ``out``: file name to bytes."""
    paths = write(out, Replayed(rebuild(log), 0.0, PARTITIONS))
    return {path.name: path.read_bytes() for path in paths}


def expected() -> dict[str, bytes]:
    """The checked-in expected files: file name to bytes."""
    return {path.name: path.read_bytes() for path in sorted(EXPECTED.glob("*.json"))}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.golden", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--write", action="store_true", help="rewrite expected/ (read its diff in review)")
    parser.add_argument("--log", action="store_true", help="with --write: re-simulate events.jsonl first")
    args = parser.parse_args(argv)
    if args.log and not args.write:
        parser.error("--log only goes with --write")

    fresh = encode_log(records(history()))
    if args.log:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        EVENTS.write_bytes(fresh)
        print(f"wrote {EVENTS} ({len(fresh):,} bytes)")
    elif not EVENTS.exists():
        print(f"no {EVENTS}: run with --write --log", file=sys.stderr)
        return 1
    elif EVENTS.read_bytes() != fresh:
        print(f"note: the simulator no longer reproduces {EVENTS.name} (the checked-in log stays the input)")

    log = read_log()
    types = {orjson.loads(r.value)["type"] for r in log}
    if types != set(EVENT_TYPES):
        missing, unknown = sorted(set(EVENT_TYPES) - types), sorted(types - set(EVENT_TYPES))
        print(f"the log does not match the catalogue: missing {missing}, unknown {unknown}", file=sys.stderr)

    if args.write:
        EXPECTED.mkdir(parents=True, exist_ok=True)
        for stale in EXPECTED.glob("*.json"):
            stale.unlink()
        files = written(log, EXPECTED)
        print(f"wrote {len(files)} files into {EXPECTED}: read `git diff {EXPECTED}` before committing")
        return 0

    with tempfile.TemporaryDirectory() as scratch:
        files = written(log, Path(scratch))
    ours = expected()
    differing = sorted(name for name in set(files) | set(ours) if files.get(name) != ours.get(name))
    for name in differing:
        print(f"differs: {name}", file=sys.stderr)
    if differing:
        print("a fold changed: if on purpose, rerun with --write and review the diff", file=sys.stderr)
        return 1
    print(f"{len(log)} events, {len(files)} files: the replay writes exactly expected/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
