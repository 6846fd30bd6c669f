"""Kill -9 the worker again and again while its Kafka ingestor works through the inbound topic:
every event is recorded exactly once, in the order of its inbound partition, and reaches the
canonical log once. Offsets are committed only after a batch is recorded, so a killed batch is read
again and the write model reports its events as duplicates instead of recording them twice."""

from __future__ import annotations

import asyncio
import json
import random
import signal
import time
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from events import parse_event
from sales.process import load_process
from services import broker
from services.kafka_access import aiokafka_options
from services.settings import Settings
from services.topics import ensure_topics
from services.writemodel.application import WriteModel
from services.writemodel.environment import write_model_env
from tests.samples import call_logged
from tests.support import WorkerProcess, free_port, read_topic_sync

pytestmark = pytest.mark.integration
EVENTS, LEADS, KILLS = 6000, 31, 5


class Recorded:
    """How many events the store has recorded so far, read incrementally (the store's sequence
    numbers also count its bookkeeping records, so they are no count of events)."""

    def __init__(self, store: WriteModel) -> None:
        self.store, self.seq, self.ids = store, 0, list[str]()

    def count(self) -> int:
        rows = self.store.read_after(self.seq, 10_000)
        if rows:
            self.seq = rows[-1].seq
            self.ids.extend(row.event_id for row in rows)
        return len(self.ids)


async def produce(settings: Settings, events: list[dict[str, object]]) -> None:
    """Publish to the shared inbound topic, keyed by lead: one lead's events share a partition."""
    producer = AIOKafkaProducer(**aiokafka_options(settings), enable_idempotence=True, acks="all")
    await producer.start()
    try:
        sent = [
            await producer.send(
                settings.topic_inbound, json.dumps(e).encode(), key=str(e["subject"]).encode()
            )
            for e in events
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


def test_a_kafka_ingestor_killed_mid_stream_records_every_inbound_event_once_in_order(
    kafka: Settings, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:6]
    settings = kafka.model_copy(
        update={
            "topic_prefix": f"ingkill-{run}",
            "app_id": f"ingkill-{run}",
            "web_port": free_port(),
            "database_url": f"sqlite:///{tmp_path / 'intake.sqlite3'}",
            "data_dir": tmp_path / "faust",
            "worker_instance_id": f"ingkill-{run}-worker",  # static membership: no rebalance wait
            "consumer_session_timeout": 10.0,
            "ingest_batch_size": 40,  # many small batches: more commits to be killed in between
        }
    )
    broker.up(settings)  # grants the worker principal this prefix's topics and groups
    asyncio.run(ensure_topics(settings))  # retried while the new ACLs reach the broker
    events = [
        call_logged(f"ingkill-{run}-{i}", lead_id=f"lead-{i % LEADS}", rep_id="rep-kill")
        for i in range(EVENTS)
    ]
    asyncio.run(produce(settings, events))
    recorded = Recorded(WriteModel(load_process(None), write_model_env(settings)))

    worker = WorkerProcess(settings, tmp_path / "worker.log").start()
    rng = random.Random(11)
    killed_at = []
    for threshold in sorted(rng.sample(range(EVENTS // 10, EVENTS * 7 // 10), KILLS)):
        deadline = time.monotonic() + 120
        while recorded.count() < threshold:
            assert time.monotonic() < deadline, f"ingestor stalled below {threshold}:\n{worker.log_tail()}"
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.03))  # somewhere inside a later batch: fetch, record or commit
        worker.stop(signal.SIGKILL)
        killed_at.append(recorded.count())
        worker.start()
    assert all(seq < EVENTS for seq in killed_at), f"a kill landed after the last event: {killed_at}"

    deadline = time.monotonic() + 120
    while recorded.count() < EVENTS and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # a repeat recorded after the last new event would show up here
    recorded.count()
    assert len(recorded.ids) == len(set(recorded.ids)), "an inbound event was recorded twice"
    assert set(recorded.ids) == {e["id"] for e in events}, f"missing: {EVENTS - len(set(recorded.ids))}"
    for lead in range(LEADS):  # one lead, one inbound partition: recorded in the order published
        ids = [e["id"] for e in events if e["subject"] == f"lead-{lead}"]
        mine = set(ids)
        assert [i for i in recorded.ids if i in mine] == ids, f"lead-{lead} recorded out of order"

    records = read_topic_sync(settings, settings.topic_events, count=EVENTS, timeout=60)
    on_log = [parse_event(r.value).id for r in records]
    worker.stop()
    assert len(on_log) == len(set(on_log)) == EVENTS, "the canonical log lost or repeated an event"
