"""Upgrading from the Faust agent: the batch ingestor starts each inbound partition where the agent's
consumer group (the app id) stopped, not at the earliest record (docs/architecture.md)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from sales.process import load_process
from services import broker
from services.kafka_access import aiokafka_options
from services.settings import Settings
from services.topics import ensure_topics
from services.writemodel.application import WriteModel
from services.writemodel.environment import write_model_env
from tests.samples import call_logged
from tests.support import WorkerProcess, eventually, free_port

pytestmark = pytest.mark.integration


async def publish_and_commit_as_the_agent(settings: Settings, run: str) -> None:
    """Three events on inbound partition 0 and one on partition 1; the agent's group committed
    partition 0 up to offset 2 (it had taken the first two) and nothing on partition 1."""
    producer = AIOKafkaProducer(**aiokafka_options(settings), enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for i, partition in enumerate((0, 0, 0, 1)):
            event = call_logged(f"handover-{run}-{i}", lead_id=f"lead-{i}", rep_id="rep-handover")
            await producer.send_and_wait(
                settings.topic_inbound, json.dumps(event).encode(), partition=partition
            )
    finally:
        await producer.stop()
    agent = AIOKafkaConsumer(**aiokafka_options(settings), group_id=settings.app_id, enable_auto_commit=False)
    await agent.start()
    try:
        agent.assign([TopicPartition(settings.topic_inbound, 0)])
        await agent.commit({TopicPartition(settings.topic_inbound, 0): 2})
    finally:
        await agent.stop()


def test_the_ingestor_takes_over_inbound_partitions_where_the_faust_agent_stopped(
    kafka: Settings, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:6]
    settings = kafka.model_copy(
        update={
            "topic_prefix": f"handover-{run}",
            "app_id": f"handover-{run}",
            "web_port": free_port(),
            "database_url": f"sqlite:///{tmp_path / 'intake.sqlite3'}",
            "data_dir": tmp_path / "faust",
        }
    )
    broker.up(settings)  # grants the worker principal this prefix's topics and groups
    asyncio.run(ensure_topics(settings))  # retried while the new ACLs reach the broker
    asyncio.run(publish_and_commit_as_the_agent(settings, run))
    store = WriteModel(load_process(None), write_model_env(settings))

    worker = WorkerProcess(settings, tmp_path / "worker.log").start()
    try:
        expected = {f"handover-{run}-2", f"handover-{run}-3"}
        eventually(
            lambda: {row.event_id for row in store.read_after(0, 100)}, until=lambda ids: ids >= expected
        )
        time.sleep(1.0)  # the skipped ones would have been recorded by now
        assert {row.event_id for row in store.read_after(0, 100)} == expected
    finally:
        worker.stop()
