"""A projector SIGKILLed mid-stream, again and again, still folds every event exactly once.

The canonical log is filled directly (as the relay writes it) with a simulated history; a worker
with small batches and RocksDB state is killed with SIGKILL three times while it catches up, each
time restarting from its local store plus the changelog. Its answers must then equal the pure
folds over the log: an event applied twice or skipped would show in the counts.
"""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from events import Envelope, serialize_event
from projections import rep_activity
from sales.process import load_process
from services.kafka_access import aiokafka_options
from services.outbox.relay import partition_for
from services.projector.partition import POSITION
from services.settings import Settings
from services.simulator import simulate_envelopes
from tests.conftest import private_system
from tests.replayed import replayed_answers
from tests.support import WorkerProcess, eventually, read_topic_sync

pytestmark = pytest.mark.integration
RECORDED = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


async def fill(settings: Settings, events: list[Envelope]) -> None:
    producer = AIOKafkaProducer(**aiokafka_options(settings), enable_idempotence=True)
    await producer.start()
    try:
        for event in events:
            key = event.partition_key
            await producer.send(
                settings.topic_events,
                key=key.encode(),
                value=serialize_event(event),
                partition=partition_for(key, settings.topic_partitions),
            )
        await producer.flush()
    finally:
        await producer.stop()


def projected(worker: WorkerProcess) -> int:
    """Events this worker process has folded and written since it started (0 until it serves)."""
    prefix = "salesledger_projection_events_total{outcome="
    try:
        text = worker.get("/metrics").text
    except httpx.HTTPError:
        return 0
    total = 0.0
    for line in text.splitlines():
        if line.startswith(prefix) and 'read_model="rep-activity"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


def durable_position(settings: Settings) -> int:
    """Events folded durably: the sum over partitions of each one's last position on the changelog."""
    records = read_topic_sync(settings, settings.topic_projection_changelog, count=10**7, timeout=3)
    latest = {r.partition: int(r.value) for r in records if r.key == POSITION and r.value is not None}
    return sum(latest.values())


def test_a_projector_killed_three_times_mid_stream_folds_every_event_exactly_once(
    kafka: Settings, api_keys: dict[str, str], tmp_path: Path
) -> None:
    settings = private_system(
        kafka,
        tmp_path,
        "kills",
        store="rocksdb://",
        projection_batch_max=50,  # many batches, so every kill lands between two of them
    )
    history = [
        e.recorded(RECORDED) for e in simulate_envelopes(4, reps=12, leads=2500, start=date(2026, 1, 5))
    ]
    assert len(history) > 20_000
    asyncio.run(fill(settings, history))

    worker = WorkerProcess(settings, tmp_path / "worker.log", api_keys)
    kills_mid_stream = 0
    try:
        for life in range(3):
            if life and durable_position(settings) >= len(history):
                break  # the previous life had folded and written everything
            worker.start(wait=False)  # its projector folds before the worker reports ready
            try:  # killed right after its first changelog write (with more already folded)
                eventually(lambda: projected(worker), until=lambda n: n > 0, timeout=60, interval=0.01)
            except AssertionError:
                break  # nothing was left to write
            time.sleep(0.2 * life)  # deeper into the stream each time
            worker.stop(sig=signal.SIGKILL)
            kills_mid_stream += durable_position(settings) < len(history)
        assert kills_mid_stream >= 1, "every kill came after the worker had caught up"
        if worker.process is not None and worker.process.poll() is None:  # left running by a `break`
            eventually(worker.ready, timeout=120, interval=0.5)
        else:
            worker.start()

        process = load_process(None)
        expected_reps = {rep: s.to_dict() for rep, s in rep_activity.fold(history).items()}
        as_of = "2026-12-31T18:00:00+00:00"
        expected_rows, expected_funnel = replayed_answers(history, process, as_of, "stage")

        reps = eventually(
            lambda: worker.get("/v1/reps/activity").json()["reps"],
            until=lambda got: got == expected_reps,
            timeout=120,
        )
        assert reps == expected_reps
        answer = worker.get("/v1/pipeline", params={"group_by": "stage", "as_of": as_of}).json()
        assert answer["rows"] == expected_rows and answer["partitions_covered"] == 4
        report = worker.get("/v1/funnel").json()
        assert {k: report[k] for k in expected_funnel} == expected_funnel
        assert "rebuilding" not in worker.log_tail(400)
    finally:
        worker.stop()
