"""A replay written into a fresh read-model namespace, ready for the live service to switch to.

`salesledger replay --into NAME` writes every partial the replay folded, and each source
partition's position, to the namespace's own changelog (`services.projector.namespaces`), exactly
as the live projector writes its own: the same keys (`partition.storage_key`), the same encoded
partials, the same position record. A worker switching to it (``--switch``, or later
`salesledger readmodels switch NAME`) restores from it and catches up from those positions.

Only a whole replay of the log can become a namespace: every read model (a namespace without
one would answer nothing for it) and Kafka offsets (a replay of the event store has its own).
The namespace must be new: a compacted topic keeps every key ever written, so partials of an
earlier write would survive in a rewrite.
"""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from services.kafka_access import aiokafka_options
from services.projector.namespaces import DEFAULT, NamespaceError, changelog_spec, changelog_topic, checked
from services.projector.partition import POSITION, storage_key
from services.replay.rebuild import Folds
from services.settings import Settings
from services.topics import ensure_topics, topic_partition_counts

BATCH_BYTES = 1 << 20


async def write_namespace(settings: Settings, namespace: str, folded: Folds) -> int:
    """Write ``folded`` as the new namespace ``namespace``; the records written."""
    if checked(namespace) == DEFAULT:
        raise NamespaceError("the default namespace is the live projector's own: replay into a new one")
    topic = changelog_topic(settings, namespace)
    if topic in await topic_partition_counts(settings):
        raise NamespaceError(f"namespace {namespace!r} exists ({topic}): choose a new name")
    await ensure_topics(settings, [changelog_spec(settings, namespace)])
    producer = AIOKafkaProducer(
        **aiokafka_options(settings),
        enable_idempotence=True,
        acks="all",
        linger_ms=20,
        max_batch_size=BATCH_BYTES,
        max_request_size=4 * BATCH_BYTES,
    )
    await producer.start()
    sent = []
    try:
        for model in folded.models:
            for (partition, key), value in folded.partials(model.name).items():
                record = storage_key(model.name, key)
                sent.append(await producer.send(topic, value, key=record, partition=partition))
        for partition, position in folded.positions().items():  # last: a partition's whole state first
            sent.append(await producer.send(topic, str(position).encode(), key=POSITION, partition=partition))
        for future in sent:
            await future
    finally:
        await producer.stop()
    return len(sent)
