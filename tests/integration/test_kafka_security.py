"""SASL/SCRAM and ACLs on the real local broker: who may write, read and join what.

The module adds two publishers to the session's broker the way an operator would (settings, then
`salesledger kafka up` grants them): ``dialer``, bound to ``/dialer/*``, and ``crm``, bound to
``/crm/*``. Each tries what it must not do; so does a client with no credentials, and one with a
wrong password. A worker with those settings shows the binding: an event whose source its
principal is not bound to goes to the dead-letter topic with the reason, the bound one reaches
the canonical log.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    KafkaError,
    TopicAuthorizationFailedError,
)

from services import broker
from services.kafka_access import KafkaAccess, kafka_access
from services.settings import Settings
from services.topics import delete_topics, ensure_topics, topic_specs
from tests.conftest import worker_settings
from tests.samples import call_logged, encode
from tests.support import WorkerProcess, eventually, free_port, read_topic_sync, unique

pytestmark = pytest.mark.integration

PUBLISHERS = "publisher=*;dialer=/dialer/*;crm=/crm/*"
#: Bounds every refused request, so a refusal is an error, never a hang (not a timing assertion).
REQUEST_TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def secured(kafka: Settings) -> Settings:
    """The session's broker with two more publishers, granted by `up` as `salesledger kafka up` does."""
    settings = kafka.model_copy(update={"kafka_publishers": PUBLISHERS})
    broker.up(settings)
    asyncio.run(ensure_topics(settings))
    return settings


@pytest.fixture(scope="module")
def bound_worker(
    secured: Settings, api_keys: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    tmp = tmp_path_factory.mktemp("security-worker")
    process = WorkerProcess(worker_settings(secured, tmp, "security"), tmp / "worker.log", api_keys)
    process.start()
    try:
        yield process
    finally:
        process.stop()


def anonymous(settings: Settings) -> KafkaAccess:
    """A client that knows the address and nothing else (PLAINTEXT to the SASL listener)."""
    return KafkaAccess(settings.kafka_bootstrap_servers)


async def produce(access: KafkaAccess, topic: str) -> None:
    producer = AIOKafkaProducer(**access.options(), request_timeout_ms=REQUEST_TIMEOUT_MS)
    try:
        await producer.start()
        await producer.send_and_wait(topic, b"should not be here " + uuid.uuid4().hex.encode())
    finally:
        await producer.stop()


async def join(access: KafkaAccess, group: str, topic: str) -> None:
    consumer = AIOKafkaConsumer(
        topic, **access.options(), group_id=group, request_timeout_ms=REQUEST_TIMEOUT_MS
    )
    try:
        await consumer.start()
        await consumer.getmany(timeout_ms=REQUEST_TIMEOUT_MS)
    finally:
        await consumer.stop()


def kcat_produce(
    access: KafkaAccess, topic: str, mechanism: str | None = None
) -> subprocess.CompletedProcess[str]:
    """kcat, a client that is not ours; delivery gives up after 10 s instead of retrying for 5 min."""
    binary = shutil.which("kcat")
    assert binary, "kcat must be installed (make test installs it)"
    args = [binary, "-P", *access.kcat_args(mechanism), "-X", "message.timeout.ms=10000", "-t", topic]
    return subprocess.run(args, input="should not be here", capture_output=True, text=True, timeout=60)


def test_a_client_without_credentials_can_neither_publish_nor_write_events_nor_join_the_worker_groups(
    secured: Settings,
) -> None:
    nobody = anonymous(secured)
    for topic in (secured.topic_inbound, secured.topic_inbound_of("dialer"), secured.topic_events):
        with pytest.raises(KafkaConnectionError):
            asyncio.run(produce(nobody, topic))
    for group in (secured.app_id, f"{secured.app_id}-projector"):
        with pytest.raises(KafkaConnectionError):
            asyncio.run(join(nobody, group, secured.topic_inbound))

    for topic in (secured.topic_inbound_of("publisher"), secured.topic_events):
        refused = kcat_produce(nobody, topic)
        assert refused.returncode != 0, refused.stderr


def test_a_client_with_a_wrong_password_is_refused_at_authentication(secured: Settings) -> None:
    impostor = kafka_access(secured, "dialer").as_user("dialer", "not-the-password")
    with pytest.raises(KafkaError):
        asyncio.run(produce(impostor, secured.topic_inbound_of("dialer")))
    refused = kcat_produce(
        kafka_access(secured, "publisher").as_user("publisher", "wrong"), secured.topic_events, "PLAIN"
    )
    assert refused.returncode != 0 and "Authentication" in refused.stderr, refused.stderr


def test_a_publisher_writes_its_own_inbound_topic_only(secured: Settings) -> None:
    dialer = kafka_access(secured, "dialer")
    asyncio.run(produce(dialer, secured.topic_inbound_of("dialer")))  # its own: allowed
    for forbidden in (
        secured.topic_events,
        secured.topic_inbound_of("crm"),
        secured.topic_inbound,
        secured.topic_deadletter,
    ):
        with pytest.raises(TopicAuthorizationFailedError):
            asyncio.run(produce(dialer, forbidden))

    refused = kcat_produce(kafka_access(secured, "publisher"), secured.topic_events, "PLAIN")
    assert refused.returncode != 0 and "authorization failed" in refused.stderr.lower(), refused.stderr


def test_a_publisher_cannot_join_the_worker_groups_nor_read_inbound(secured: Settings) -> None:
    dialer = kafka_access(secured, "dialer")
    for group in (secured.app_id, f"{secured.app_id}-projector"):
        with pytest.raises((GroupAuthorizationFailedError, TopicAuthorizationFailedError)):
            asyncio.run(join(dialer, group, secured.topic_inbound_of("dialer")))


def test_the_worker_principal_creates_writes_reads_and_joins_groups_under_its_prefixes(
    secured: Settings,
) -> None:
    own = secured.model_copy(update={"topic_prefix": f"{secured.topic_prefix}-acl-{uuid.uuid4().hex[:6]}"})
    worker = kafka_access(own)
    assert worker.username == own.kafka_username == "worker"
    try:
        asyncio.run(ensure_topics(own))
        asyncio.run(produce(worker, own.topic_events))
        asyncio.run(join(worker, f"{own.app_id}-acl-probe", own.topic_events))
        assert len(read_topic_sync(own, own.topic_events, count=1, timeout=30)) == 1
    finally:
        asyncio.run(delete_topics(own, [spec.name for spec in topic_specs(own)]))


def test_an_event_claiming_a_source_its_principal_is_not_bound_to_is_dead_lettered_and_the_bound_one_gets_in(
    secured: Settings, bound_worker: WorkerProcess
) -> None:
    lead = unique("lead")
    forged = call_logged(unique("evt"), lead_id=lead) | {"source": "/crm/test"}
    bound = call_logged(unique("evt"), lead_id=lead) | {"source": "/dialer/test"}

    async def publish_as_dialer() -> None:
        producer = AIOKafkaProducer(**kafka_access(secured, "dialer").options(), enable_idempotence=True)
        await producer.start()
        try:  # one key, so one partition: the forged one is taken first
            for event in (forged, bound):
                await producer.send_and_wait(
                    secured.topic_inbound_of("dialer"), encode(event), key=lead.encode()
                )
        finally:
            await producer.stop()

    asyncio.run(publish_as_dialer())

    def on_the_log(event_id: str) -> list[bytes]:
        records = read_topic_sync(secured, secured.topic_events, count=100_000, timeout=3)
        return [r.value for r in records if event_id.encode() in r.value]

    eventually(lambda: on_the_log(bound["id"]))

    def dead_letters() -> list[dict[str, bytes]]:
        records = read_topic_sync(secured, secured.topic_deadletter, count=100_000, timeout=3)
        return [dict(r.headers) for r in records if forged["id"].encode() in r.value]

    (headers,) = eventually(dead_letters)
    assert headers["salesledger.reason"] == b"source_mismatch"
    assert b"'dialer'" in headers["salesledger.message"] and b"/crm/test" in headers["salesledger.message"]
    assert headers["salesledger.source"].startswith(secured.topic_inbound_of("dialer").encode())
    assert on_the_log(forged["id"]) == []


def test_the_local_credentials_file_is_owner_only(secured: Settings) -> None:
    path = Path(secured.kafka_data_dir).expanduser().resolve() / "credentials.json"
    assert path.stat().st_mode & 0o777 == 0o600
    assert (path.parent / "server.properties").stat().st_mode & 0o777 == 0o600


def test_a_plaintext_local_broker_still_serves_anyone_and_a_secured_up_refuses_its_data_dir(
    tmp_path: Path,
) -> None:
    """PLAINTEXT stays possible (no credentials, no ACLs); a data dir formatted so has no SASL users,
    so starting it secured is refused with what to do, not re-formatted (its topics would be lost)."""
    port, controller = free_port(), free_port()
    while controller == port:
        controller = free_port()
    run_id = uuid.uuid4().hex[:8]
    plain = Settings(
        kafka_bootstrap_servers=f"127.0.0.1:{port}",
        kafka_controller_port=controller,
        kafka_data_dir=tmp_path / "kafka-data",
        kafka_security_protocol="PLAINTEXT",
        topic_prefix=f"plain-{run_id}",
        app_id=f"plain-{run_id}",
    )
    assert broker.up(plain).started
    try:
        asyncio.run(ensure_topics(plain))
        asyncio.run(produce(anonymous(plain), plain.topic_events))  # open to anyone: the price of PLAINTEXT
    finally:
        broker.down(plain)
    with pytest.raises(broker.BrokerError, match="formatted without SASL users"):
        broker.up(plain.model_copy(update={"kafka_security_protocol": "SASL_PLAINTEXT"}))
