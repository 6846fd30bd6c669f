"""Reading recorded events back, as chain records, from the two places that keep them.

* The canonical Kafka topic: every partition from its first offset to the end offsets taken when
  reading starts (a consumer without a group, so nothing is committed and no worker is disturbed).
  The chain travels in the relay's headers (`services.writemodel.application.WriteModel.read_after`);
  the value is the envelope's JSON as recorded.
* The event store (SQLite or PostgreSQL), through eventsourcing's notification log, in sequence
  order, opened without creating any table: an audit never writes to what it audits.

Both read lazily, so the checks can hash each record and drop its envelope as it goes.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any
from uuid import UUID

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord
from eventsourcing.persistence import Notification

from sales.process import load_process
from services.audit.chain import ChainRecord
from services.audit.findings import Position
from services.db import SqliteConfig, eventsourcing_env, parse_database_url
from services.kafka_access import KafkaAccess
from services.outbox.relay import POSITION
from services.writemodel.application import RECORDED_TOPIC, WriteModel

AGGREGATE_HEADER = "salesledger.aggregate"
PREV_HASH_HEADER = "salesledger.prevhash"
HASH_HEADER = "salesledger.hash"
STALL_SECONDS = 30.0
"""Give up on a log that returns nothing for this long while records are still due."""


class SourceError(Exception):
    """A source could not be read at all (as opposed to read and found wanting)."""


# --- Kafka ------------------------------------------------------------------------------------


async def log_records(
    kafka: KafkaAccess, topic: str, stall_seconds: float = STALL_SECONDS
) -> AsyncIterator[ChainRecord]:
    """Every record of `topic` up to its end offsets now, partition by partition in offset order."""
    consumer = AIOKafkaConsumer(**kafka.options(), enable_auto_commit=False, group_id=None)
    try:
        await consumer.start()
    except KafkaError as error:
        await consumer.stop()
        raise SourceError(f"Kafka at {kafka} cannot be reached: {error}") from error
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:  # not in the metadata fetched at start: ask again (as the relay does)
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            raise SourceError(f"topic {topic!r} does not exist on {kafka}")
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        starts = await consumer.beginning_offsets(tps)
        ends = await consumer.end_offsets(tps)
        for tp in tps:
            consumer.seek(tp, starts[tp])
            if ends[tp] > starts[tp]:
                async for record in _partition(consumer, tp, ends[tp], stall_seconds):
                    yield record
    finally:
        await consumer.stop()


async def _partition(
    consumer: AIOKafkaConsumer, tp: TopicPartition, end: int, stall_seconds: float
) -> AsyncIterator[ChainRecord]:
    deadline = time.monotonic() + stall_seconds
    while await consumer.position(tp) < end:
        batch = await consumer.getmany(tp, timeout_ms=1000)
        records = [record for record in batch.get(tp, []) if record.offset < end]
        if records:
            deadline = time.monotonic() + stall_seconds
        elif time.monotonic() > deadline:
            raise SourceError(f"{tp.topic} partition {tp.partition} stalled before offset {end}")
        for record in records:
            yield from_kafka(record)


def from_kafka(record: ConsumerRecord[bytes, bytes]) -> ChainRecord:
    """A Kafka record as the chain check sees it (a missing header reads as empty)."""
    headers = {name: value.decode(errors="replace") for name, value in record.headers or ()}
    value = record.value or b""
    try:
        envelope, problem = value.decode(), ""
    except UnicodeDecodeError:
        envelope, problem = value.decode(errors="replace"), "its value is not UTF-8 text"
    return ChainRecord(
        position=Position(record.partition, record.offset),
        aggregate=headers.get(AGGREGATE_HEADER, ""),
        key=(record.key or b"").decode(errors="replace"),
        envelope=envelope,
        prev_hash=headers.get(PREV_HASH_HEADER, ""),
        hash=headers.get(HASH_HEADER, ""),
        problem=problem,
    )


# --- The event store --------------------------------------------------------------------------


def open_store(database_url: str) -> WriteModel:
    """The write model over an existing store, read-only in effect (no table is created).

    The process configuration is needed by the constructor only: reading decides nothing.
    """
    config = parse_database_url(database_url)
    if isinstance(config, SqliteConfig) and not config.path.is_file():
        raise SourceError(f"no event store at {config.path}")
    try:
        return WriteModel(load_process(None), eventsourcing_env(config, {"CREATE_TABLE": "false"}))
    except Exception as error:  # whichever driver's error: the store is not there or not ours
        raise SourceError(f"event store {config.url()} cannot be read: {error}") from error


def relay_position(model: WriteModel) -> int:
    """The store sequence up to which the relay has every event acknowledged by Kafka."""
    return model.position(POSITION)


def store_records(model: WriteModel, page: int = 1000) -> Iterator[ChainRecord]:
    """Every recorded (relayable) event of the store, in sequence order."""
    seq = 0
    while True:
        notifications = model.recorder.select_notifications(
            start=seq, limit=page, topics=[RECORDED_TOPIC], inclusive_of_start=False
        )
        if not notifications:
            return
        for notification in notifications:
            yield from_store(model, notification)
        seq = notifications[-1].id


def from_store(model: WriteModel, notification: Notification) -> ChainRecord:
    """A stored event as the chain check sees it; one that no longer decodes is reported, not fatal."""
    position = Position.seq(notification.id)
    try:
        recorded: Any = model.mapper.to_domain_event(notification)
        return ChainRecord(
            position,
            str(recorded.originator_id),  # as the relay's header writes it
            str(recorded.partition_key),
            str(recorded.envelope),
            str(recorded.prev_hash),
            str(recorded.hash),
        )
    except Exception as error:  # a tampered row may fail in any way while decoding
        aggregate = str(notification.originator_id)
        with contextlib.suppress(ValueError):
            aggregate = str(UUID(aggregate))
        return ChainRecord(position, aggregate, "", "", "", "", problem=f"it no longer decodes: {error!r}")
