"""The Kafka topics Salesledger owns, and their creation.

Why explicit: the broker runs with ``auto.create.topics.enable=false`` (a typo must not silently
create a topic), and the canonical event log must keep everything forever, which only a
topic-level ``retention.ms=-1`` guarantees, whatever the broker's defaults are. So every topic is
declared here, with its configuration, and created before anything produces to it.

``topic_specs`` is pure (settings in, specs out); ``ensure_topics`` is the one place that talks to
the broker, and only creates what is missing: it never alters an existing topic's settings.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError, TopicAuthorizationFailedError, for_code

from services.kafka_access import aiokafka_options
from services.settings import Settings

#: Request timeout of the admin client: topic creation is quick on a healthy broker, and a
#: broker that does not answer in this time is reported rather than waited for.
ADMIN_TIMEOUT_MS = 30_000
#: How long ``ensure_topics`` waits for created topics to show up in the broker's metadata.
VISIBLE_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class TopicSpec:
    """One topic as Salesledger wants it: name, partitions, replication factor, topic configs.

    ``config`` holds topic-level overrides as strings, exactly as Kafka takes them.
    """

    name: str
    partitions: int
    replication_factor: int
    config: dict[str, str] = field(default_factory=dict, hash=False)


def topic_specs(settings: Settings) -> list[TopicSpec]:
    """The project's topics: the canonical event log, inbound, dead letters, the read models'
    changelog, and with SASL each publisher principal's own inbound topic.

    * events: the source of truth, kept forever (time and size), never compacted.
    * inbound: raw submissions before validation; kept ``inbound_retention_ms``.
    * deadletter: rejected submissions with the reason; kept ``deadletter_retention_ms``.
    * projection changelog: the latest value of every read-model partial, per source partition
      (same partition count as the event log); compacted, never deleted by time.
    """
    partitions = settings.topic_partitions
    replicas = settings.topic_replication_factor
    return [
        TopicSpec(
            name=settings.topic_events,
            partitions=partitions,
            replication_factor=replicas,
            config={"retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "delete"},
        ),
        TopicSpec(
            name=settings.topic_inbound,
            partitions=partitions,
            replication_factor=replicas,
            config={"retention.ms": str(settings.inbound_retention_ms), "cleanup.policy": "delete"},
        ),
        TopicSpec(
            name=settings.topic_deadletter,
            partitions=partitions,
            replication_factor=replicas,
            config={
                "retention.ms": str(settings.deadletter_retention_ms),
                "cleanup.policy": "delete",
            },
        ),
        TopicSpec(
            name=settings.topic_projection_changelog,
            partitions=partitions,
            replication_factor=replicas,
            config={"cleanup.policy": "compact", "retention.ms": "-1"},
        ),
        *publisher_topic_specs(settings),
    ]


def publisher_topic_specs(settings: Settings) -> list[TopicSpec]:
    """With SASL, one inbound topic per publisher principal (``<prefix>.inbound.<principal>``),
    configured as the shared one: only that principal may write it (``services.broker.acls``),
    so the ingestor knows who published a record by the topic it came from."""
    config = {"retention.ms": str(settings.inbound_retention_ms), "cleanup.policy": "delete"}
    return [
        TopicSpec(topic, settings.topic_partitions, settings.topic_replication_factor, dict(config))
        for topic in settings.publisher_topics.values()
    ]


def _admin(settings: Settings) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(
        **aiokafka_options(settings),
        client_id=f"{settings.app_id}-admin",
        request_timeout_ms=ADMIN_TIMEOUT_MS,
    )


def _new_topic(spec: TopicSpec) -> NewTopic:
    return NewTopic(
        name=spec.name,
        num_partitions=spec.partitions,
        replication_factor=spec.replication_factor,
        topic_configs=dict(spec.config),
    )


def _raise_topic_errors(topic_errors: list[tuple]) -> list[str]:  # type: ignore[type-arg]
    """Names created by a CreateTopics response; raises the first real error.

    aiokafka returns per-topic errors in the response instead of raising them, so "already
    exists" (another process won the race) is tolerated here and anything else is raised.
    """
    created: list[str] = []
    for entry in topic_errors:
        name, code = entry[0], entry[1]
        message = entry[2] if len(entry) > 2 else None
        if code == 0:
            created.append(name)
            continue
        error = for_code(code)
        if error is TopicAlreadyExistsError:
            continue
        raise error(f"creating topic {name!r}: {message or error.__name__}")
    return created


AUTHORIZATION_RETRIES = 40
"""Attempts while the broker still refuses a creation it was just granted (0.25 s apart: 10 s)."""


async def _create(admin: AIOKafkaAdminClient, missing: list[TopicSpec]) -> list[str]:
    """Create ``missing``; a `TopicAuthorizationFailedError` is retried for a few seconds: ACLs
    created a moment ago (`salesledger kafka up` grants a new topic prefix) reach the broker from
    the metadata log a little after the controller accepted them. Refused longer, it is raised."""
    for attempt in range(AUTHORIZATION_RETRIES):
        response = await admin.create_topics([_new_topic(spec) for spec in missing])
        try:
            return _raise_topic_errors(response.topic_errors)
        except TopicAuthorizationFailedError:
            if attempt == AUTHORIZATION_RETRIES - 1:
                raise
            await asyncio.sleep(0.25)
            existing = set(await admin.list_topics())
            missing = [spec for spec in missing if spec.name not in existing]
            if not missing:
                return []
    return []


async def _wait_visible(admin: AIOKafkaAdminClient, names: set[str]) -> None:
    """Wait until created topics appear in metadata, so a caller can use them at once (KRaft
    brokers learn of a new topic from the metadata log a moment after the controller)."""
    deadline = time.monotonic() + VISIBLE_TIMEOUT_S
    while not names <= set(await admin.list_topics()):
        if time.monotonic() > deadline:
            missing = sorted(names - set(await admin.list_topics()))
            raise TimeoutError(f"created topics not visible after {VISIBLE_TIMEOUT_S}s: {missing}")
        await asyncio.sleep(0.1)


async def ensure_topics(settings: Settings, specs: list[TopicSpec] | None = None) -> list[str]:
    """Create the topics of ``specs`` (default: `topic_specs`) that do not exist yet; return the
    names created.

    Idempotent: existing topics are left exactly as they are (their configs are not altered),
    and a topic created concurrently by someone else counts as existing.
    """
    specs = topic_specs(settings) if specs is None else specs
    admin = _admin(settings)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in specs if spec.name not in existing]
        if not missing:
            return []
        created = await _create(admin, missing)
        await _wait_visible(admin, {spec.name for spec in missing})
        return created
    finally:
        await admin.close()


async def describe_topic_configs(
    settings: Settings, topics: list[str] | None = None
) -> dict[str, dict[str, str]]:
    """The effective configuration of topics as the broker reports it: ``{topic: {key: value}}``.

    Reads back what the broker actually holds (defaults included), e.g. to check that
    ``retention.ms`` really is ``-1`` on the canonical log. ``topics`` defaults to ours.
    """
    names = topics if topics is not None else [spec.name for spec in topic_specs(settings)]
    admin = _admin(settings)
    await admin.start()
    try:
        resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
        responses = await admin.describe_configs(resources)
    finally:
        await admin.close()
    result: dict[str, dict[str, str]] = {}
    for response in responses:
        for error_code, error_message, _type, name, entries, *_ in response.resources:
            if error_code:
                error = for_code(error_code)
                raise error(f"describing topic {name!r}: {error_message or error.__name__}")
            result[name] = {entry[0]: entry[1] for entry in entries}
    return result


async def topic_partition_counts(settings: Settings) -> dict[str, int]:
    """Partition count of every topic on the broker: ``{topic: partitions}``.

    Asks for *all* topics on purpose: aiokafka's metadata request for named topics sets
    ``allow_auto_topic_creation``, which would create a missing topic on a broker that allows it.
    """
    admin = _admin(settings)
    await admin.start()
    try:
        topics = await admin.describe_topics()
    finally:
        await admin.close()
    return {topic["topic"]: len(topic["partitions"]) for topic in topics}


async def delete_topics(settings: Settings, names: list[str]) -> None:
    """Delete topics (tests clean up after themselves with it); missing ones are ignored."""
    admin = _admin(settings)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        doomed = [name for name in names if name in existing]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()
