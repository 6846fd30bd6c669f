"""Read-model namespaces: one full set of read models each, and the pointer to the live one.

A namespace is a projection changelog topic (the read models' partials and each source
partition's position) plus the workers' local stores rebuilt from it. The default namespace
(``""``) is the changelog every worker has always had (`Settings.topic_projection_changelog`);
``salesledger replay --into NAME`` writes a fresh one (``<prefix>.<app_id>.projections-NAME-changelog``)
from a replay of the log, with the live projector's own folds.

Which namespace the service answers from is one record on a compacted, one-partition topic
(``<prefix>.<app_id>.projections-active``): every worker reads it when it starts and follows it
while it runs (`PointerReader`), so a switch is a single write (`salesledger readmodels switch`)
with no coordinator of our own, and a worker that starts later, or restarts, picks the namespace
the others use. How a running worker moves without a gap in answers is `services.projector.switch`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from services.kafka_access import aiokafka_options
from services.settings import Settings
from services.topics import TopicSpec, ensure_topics, topic_partition_counts

DEFAULT = ""
"""The namespace of a worker that has never switched: the original changelog."""

NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
"""A namespace's name: it is part of a topic and a directory name."""

POINTER_KEY = b"active"


class NamespaceError(ValueError):
    """A namespace name that cannot be used, or one that was never written."""


def checked(name: str) -> str:
    """``name`` if it can name a namespace (``default`` is the original one), else raise."""
    if name in (DEFAULT, "default"):
        return DEFAULT
    if NAME.fullmatch(name) is None:
        raise NamespaceError(
            f"namespace {name!r}: 1 to 40 of a-z, 0-9 and '-', starting with a letter or digit"
        )
    return name


def changelog_topic(settings: Settings, namespace: str) -> str:
    """The changelog topic that holds ``namespace``'s read models."""
    if namespace == DEFAULT:
        return settings.topic_projection_changelog
    return f"{settings.topic_prefix}.{settings.app_id}.projections-{namespace}-changelog"


def pointer_topic(settings: Settings) -> str:
    return f"{settings.topic_prefix}.{settings.app_id}.projections-active"


def changelog_spec(settings: Settings, namespace: str) -> TopicSpec:
    """A namespace's changelog, configured as the original one (compacted, kept forever)."""
    return TopicSpec(
        changelog_topic(settings, namespace),
        settings.topic_partitions,
        settings.topic_replication_factor,
        {"cleanup.policy": "compact", "retention.ms": "-1"},
    )


def pointer_spec(settings: Settings) -> TopicSpec:
    return TopicSpec(
        pointer_topic(settings),
        1,
        settings.topic_replication_factor,
        {"cleanup.policy": "compact", "retention.ms": "-1"},
    )


@dataclass(frozen=True)
class Pointer:
    """The live namespace, with when and by what it was switched to."""

    namespace: str = DEFAULT
    switched_at: str | None = None
    by: str | None = None

    def encode(self) -> bytes:
        return orjson.dumps({"namespace": self.namespace, "switched_at": self.switched_at, "by": self.by})

    @classmethod
    def decode(cls, value: bytes | None) -> Pointer:
        if not value:
            return cls()
        data = orjson.loads(value)
        return cls(checked(str(data.get("namespace", DEFAULT))), data.get("switched_at"), data.get("by"))


class PointerReader:
    """Reads the pointer topic's latest record, as often as asked, with one group-less consumer."""

    def __init__(self, settings: Settings) -> None:
        self._tp = TopicPartition(pointer_topic(settings), 0)
        self._consumer = AIOKafkaConsumer(
            **aiokafka_options(settings), group_id=None, enable_auto_commit=False
        )
        self._latest = Pointer()
        self._started = False

    async def start(self) -> None:
        await self._consumer.start()
        self._consumer.assign([self._tp])
        await self._consumer.seek_to_beginning(self._tp)
        self._started = True

    async def stop(self) -> None:
        if self._started:
            await self._consumer.stop()
            self._started = False

    async def latest(self) -> Pointer:
        """The pointer as the topic holds it now (the default namespace if it was never switched)."""
        consumer = self._consumer
        end = (await consumer.end_offsets([self._tp]))[self._tp]
        while await consumer.position(self._tp) < end:
            fetched = await consumer.getmany(self._tp, timeout_ms=1000)
            for record in fetched.get(self._tp, []):
                if record.key == POINTER_KEY:
                    self._latest = Pointer.decode(record.value)
        return self._latest


async def read_pointer(settings: Settings) -> Pointer:
    """The live namespace, read once (for the CLI)."""
    await ensure_topics(settings, [pointer_spec(settings)])
    reader = PointerReader(settings)
    await reader.start()
    try:
        return await reader.latest()
    finally:
        await reader.stop()


async def write_pointer(settings: Settings, namespace: str, by: str) -> Pointer:
    """Make ``namespace`` the live one: every worker following the pointer moves to it."""
    pointer = Pointer(checked(namespace), datetime.now(UTC).isoformat(), by)
    if pointer.namespace != DEFAULT and changelog_topic(
        settings, namespace
    ) not in await topic_partition_counts(settings):
        raise NamespaceError(
            f"no namespace {namespace!r}: write it first (salesledger replay --into {namespace})"
        )
    await ensure_topics(settings, [pointer_spec(settings)])
    producer = AIOKafkaProducer(**aiokafka_options(settings), enable_idempotence=True, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(pointer_topic(settings), pointer.encode(), key=POINTER_KEY, partition=0)
    finally:
        await producer.stop()
    return pointer
