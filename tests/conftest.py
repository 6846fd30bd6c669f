"""Session fixtures: a real Apache Kafka broker (KRaft, loopback) and workers against it.

If ``SALESLEDGER_KAFKA_BOOTSTRAP_SERVERS`` is set, that cluster is used; otherwise a private broker
is started on free ports with a fresh data dir and stopped at the end. Either way every run gets
its own topic prefix and app ids, so runs never see each other's data. Nothing here skips: a
missing broker is an error, never a silent skip.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from services import broker
from services.auth.keys import ApiKeys
from services.settings import Settings
from services.topics import ensure_topics
from tests.postgres import postgres_url  # noqa: F401  (session fixture: a real PostgreSQL server)
from tests.support import WorkerProcess, free_port


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    run_id = uuid.uuid4().hex[:8]
    base = Settings()
    database = tmp_path_factory.mktemp("intake") / "salesledger.sqlite3"
    overrides: dict[str, object] = {
        "topic_prefix": f"test-{run_id}",
        "app_id": f"test-{run_id}",
        "database_url": f"sqlite:///{database}",
    }
    if "SALESLEDGER_KAFKA_BOOTSTRAP_SERVERS" not in os.environ:
        overrides |= {
            "kafka_bootstrap_servers": f"127.0.0.1:{free_port()}",
            "kafka_controller_port": free_port(),
            "kafka_data_dir": tmp_path_factory.mktemp("kafka-data"),
        }
    settings = base.model_copy(update=overrides)
    state = broker.up(settings)
    try:
        asyncio.run(ensure_topics(settings))
        yield settings
    finally:
        if state.started:
            broker.down(settings)


SAMPLE_SOURCES = ("/dialer/test", "/crm/test")


@pytest.fixture(scope="session")
def api_keys(kafka: Settings) -> dict[str, str]:
    """An API key per sample source, created the way an operator would (`salesledger keys create`)."""
    keys = ApiKeys(kafka.database_path)
    return {source: keys.create(source) for source in SAMPLE_SOURCES}


PEER_SECRET = SecretStr(f"test-peer-secret-{uuid.uuid4().hex}")
"""The workers' shared secret in tests (`SALESLEDGER_PEER_SECRET`): every test worker, and the
audit commands run against them, get it."""


def worker_settings(kafka: Settings, tmp: Path, name: str) -> Settings:
    return kafka.model_copy(
        update={
            "app_id": f"{kafka.app_id}-{name}",
            "web_port": free_port(),
            "data_dir": tmp / "faust-data",
            "log_level": "info",
            "peer_secret": PEER_SECRET,
        }
    )


def private_system(kafka: Settings, tmp: Path, name: str, **overrides: object) -> Settings:
    """Settings of a system of its own on the shared broker (its own app id, port, data dir, topic
    prefix and SQLite database, with ``overrides``), its topics created: for tests that start,
    kill or compare workers over a log nobody else writes."""
    settings = worker_settings(kafka, tmp, name).model_copy(
        update={
            "topic_prefix": f"{kafka.topic_prefix}-{name}",
            "database_url": f"sqlite:///{tmp / f'{name}.sqlite3'}",
            **overrides,
        }
    )
    asyncio.run(ensure_topics(settings))
    return settings


@pytest.fixture(scope="module")
def worker(
    kafka: Settings,
    api_keys: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[WorkerProcess]:
    """One worker for a test module; its read models start empty (fresh app id)."""
    tmp = tmp_path_factory.mktemp("worker")
    name = request.module.__name__.rsplit(".", 1)[-1]
    process = WorkerProcess(worker_settings(kafka, tmp, name), tmp / "worker.log", api_keys)
    process.start()
    try:
        yield process
    finally:
        process.stop()
