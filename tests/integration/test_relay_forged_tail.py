"""Issue 12: a forged record on the events topic must not make a restarted relay skip accepted rows."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from events import parse_event
from sales.process import load_process
from services import broker
from services.db import parse_database_url
from services.kafka_access import aiokafka_options, kafka_access
from services.metrics import REGISTRY
from services.outbox.lease import lease_for
from services.outbox.relay import POSITION, SEQ_HEADER, STORE_HEADER, Relay, partition_for
from services.settings import Settings
from services.topics import ensure_topics
from services.writemodel.application import WriteModel
from services.writemodel.environment import write_model_env
from tests.samples import call_logged
from tests.support import read_topic_sync

pytestmark = pytest.mark.integration


async def relay_until(settings: Settings, model: WriteModel, timeout: float = 60.0) -> None:
    """Start a relay (a fresh start reads the partition tails) and run it until it has relayed every row."""
    lease = lease_for(parse_database_url(settings.database_url), "relay")
    relay = Relay(model, kafka_access(settings), settings.topic_events, lease)
    last_row = model.read_after(0, 10**6)[-1].seq
    stopping = asyncio.Event()
    task = asyncio.create_task(relay.run(stopping))
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while model.position(POSITION) < last_row:
            assert asyncio.get_running_loop().time() < deadline, "the relay did not catch up"
            assert not task.done(), task.exception()
            await asyncio.sleep(0.05)
    finally:
        stopping.set()
        await asyncio.wait_for(task, 30)


async def forge(settings: Settings, records: list[tuple[int, bytes, bytes, list[tuple[str, bytes]]]]) -> None:
    producer = AIOKafkaProducer(**aiokafka_options(settings))
    await producer.start()
    try:
        for partition, key, value, headers in records:
            await producer.send_and_wait(
                settings.topic_events, value, key=key, partition=partition, headers=headers
            )
    finally:
        await producer.stop()


def test_a_forged_tail_on_the_events_topic_never_drops_accepted_events_after_a_relay_restart(
    kafka: Settings, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:6]
    settings = kafka.model_copy(
        update={"topic_prefix": f"forged-{run}", "database_url": f"sqlite:///{tmp_path / 'intake.sqlite3'}"}
    )
    broker.up(settings)  # grants the worker principal this prefix's topics and groups (docs/security.md)
    asyncio.run(ensure_topics(settings))
    model = WriteModel(load_process(None), write_model_env(settings))

    def record(first: int, count: int) -> list[str]:
        ids = [f"forged-{run}-{n}" for n in range(first, first + count)]
        events = [parse_event(json.dumps(call_logged(i, lead_id=f"lead-{n}"))) for n, i in enumerate(ids)]
        assert {r.outcome.value for r in model.record(events)} == {"accepted"}
        return ids

    expected = record(0, 4)
    asyncio.run(relay_until(settings, model))

    # Accepted after the relay stopped: only on the store, not yet on the log.
    expected += record(4, 12)
    store = model.store_id.encode()
    unsent = model.read_after(model.position(POSITION), 100)
    partitions = settings.topic_partitions
    plausible = unsent[-1]  # a real seq of this store, not yet sent, with made-up bytes
    forged = [
        (p, b"lead-x", b'{"forged":true}', [(SEQ_HEADER, str(10**12).encode()), (STORE_HEADER, store)])
        for p in range(partitions)
    ]
    forged.append(
        (
            partition_for(plausible.partition_key, partitions),
            plausible.partition_key.encode(),
            b'{"forged":true}',
            [(SEQ_HEADER, str(plausible.seq).encode()), (STORE_HEADER, store)],
        )
    )
    asyncio.run(forge(settings, forged))

    refused_before = REGISTRY.get_sample_value("salesledger_relay_impossible_tails_total") or 0.0
    asyncio.run(relay_until(settings, model))  # a restart: the tails now end in forged records
    refused = REGISTRY.get_sample_value("salesledger_relay_impossible_tails_total") or 0.0
    assert refused - refused_before == len(forged)

    records = read_topic_sync(settings, settings.topic_events, count=len(expected) + len(forged), timeout=10)
    ours = [r for r in records if r.value != b'{"forged":true}']
    ids = [parse_event(r.value).id for r in ours]
    assert sorted(ids) == sorted(expected), f"missing from the log: {set(expected) - set(ids)}"
    assert len(ids) == len(set(ids)), "an event reached the log twice"
