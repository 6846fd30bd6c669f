"""What the projector writes to Kafka: partials to a changelog partition, unfoldable records to the
dead-letter topic (no Kafka consumer, no folding in here: `services.projector.service` decides what
and when)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord

from services.deadletter import reason_headers
from services.logs import log_deadletter
from services.metrics import DEADLETTERED

STAGE = "projection"
Rejected = tuple[ConsumerRecord[bytes, bytes], str, str]
"""A record that could not be folded, the reason and a message (for the dead-letter topic)."""


async def send_partials(
    producer: AIOKafkaProducer, changelog: str, partition: int, records: Mapping[bytes, bytes]
) -> list[tuple[Any, int]]:
    """Send ``records`` to the changelog partition in as few batches as fit; (future, count) each."""
    futures: list[tuple[Any, int]] = []
    batch, count = producer.create_batch(), 0
    for key, value in records.items():
        if batch.append(key=key, value=value, timestamp=None) is None:
            futures.append((await producer.send_batch(batch, changelog, partition=partition), count))
            batch, count = producer.create_batch(), 0
            if batch.append(key=key, value=value, timestamp=None) is None:
                raise ValueError(f"a partial of {len(value)} bytes does not fit a changelog batch")
        count += 1
    if count:
        futures.append((await producer.send_batch(batch, changelog, partition=partition), count))
    return futures


async def send_deadletters(producer: AIOKafkaProducer, topic: str, rejected: Sequence[Rejected]) -> None:
    """Each unfoldable record to the dead-letter topic with its reason and origin; counted and
    logged (one structured line each, `services.logs`) once sent."""
    sent = []
    for record, reason, message in rejected:
        headers = reason_headers(
            stage=STAGE,
            reason=reason,
            message=message,
            errors=(),
            origin=f"{record.topic}/{record.partition}/{record.offset}",
            headers=record.headers,
        )
        sent.append(await producer.send(topic, key=record.key, value=record.value, headers=headers))
    for future in sent:
        await future
    for record, reason, _ in rejected:
        DEADLETTERED.labels(STAGE, reason).inc()
        log_deadletter(STAGE, reason, record.value)
