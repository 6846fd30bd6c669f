"""The command side scaled out through Kafka itself: two worker processes on one PostgreSQL write
model share the inbound topic's partitions (the consumer group ``<app id>-ingestor``), so each
records the aggregates of its partitions; one of them runs the command side alone (``ingestor``
role, no relay, no projector). Killed mid-stream, its partitions move to the other. Every inbound
event is recorded once, in its partition's order, and reaches the canonical log once."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from events import parse_event
from sales.process import load_process
from services.settings import Settings
from services.writemodel.application import WriteModel
from services.writemodel.environment import write_model_env
from tests.conftest import private_system
from tests.integration.test_ingest_kills import Recorded, produce
from tests.integration.test_write_model_postgres import fresh_schema
from tests.samples import call_logged
from tests.support import WorkerProcess, eventually, free_port, read_topic_sync

pytestmark = pytest.mark.integration
EVENTS, LEADS = 4000, 37


@pytest.fixture
def database(postgres_url: str) -> Iterator[str]:
    yield from fresh_schema(postgres_url)


def inbound_owned(worker: WorkerProcess) -> set[str]:
    """The shared inbound topic's partitions this worker's ingestor holds (its health says what it
    is assigned)."""
    try:
        health = httpx.get(f"{worker.url}/v1/health", timeout=5).json()
    except httpx.HTTPError:  # not listening yet
        return set()
    shared = f"{worker.settings.topic_inbound}/"
    return {p for p in health.get("assigned", []) if p.startswith(shared)}


def test_two_command_side_processes_share_the_aggregates_and_one_takes_over_when_the_other_dies(
    kafka: Settings, tmp_path: Path, database: str
) -> None:
    settings = private_system(
        kafka,
        tmp_path,
        f"scale-{uuid.uuid4().hex[:6]}",
        database_url=database,
        consumer_session_timeout=10.0,
        ingest_batch_size=100,
    )
    everything = WorkerProcess(settings, tmp_path / "a.log").start()
    command_side = settings.model_copy(
        update={"roles": "ingestor", "web_port": free_port(), "data_dir": tmp_path / "b-data"}
    )
    ingestor = WorkerProcess(command_side, tmp_path / "b.log").start(wait=False)
    try:
        # Both hold a share of the inbound partitions before anything is published.
        eventually(
            lambda: (inbound_owned(everything), inbound_owned(ingestor)),
            until=lambda owned: all(owned) and owned[0].isdisjoint(owned[1]),
            timeout=90,
        )
        events = [
            call_logged(f"scale-{i}", lead_id=f"lead-{i % LEADS}", rep_id="rep-scale") for i in range(EVENTS)
        ]
        recorded = Recorded(WriteModel(load_process(None), write_model_env(settings)))
        asyncio.run(produce(settings, events[: EVENTS // 2]))
        eventually(recorded.count, until=lambda n: n >= EVENTS // 4, timeout=120)
        ingestor.stop(signal.SIGKILL)  # mid-stream: its partitions move to the other worker
        asyncio.run(produce(settings, events[EVENTS // 2 :]))
        eventually(recorded.count, until=lambda n: n >= EVENTS, timeout=180)
        eventually(
            lambda: inbound_owned(everything), until=lambda owned: len(owned) == settings.topic_partitions
        )
        time.sleep(1.0)  # a repeat recorded after the last new event would show up here
        recorded.count()
    finally:
        ingestor.stop()

    try:
        assert len(recorded.ids) == len(set(recorded.ids)), "an inbound event was recorded twice"
        assert set(recorded.ids) == {e["id"] for e in events}
        for lead in range(LEADS):  # one lead, one inbound partition: recorded in the order published
            ids = [e["id"] for e in events if e["subject"] == f"lead-{lead}"]
            mine = set(ids)
            assert [i for i in recorded.ids if i in mine] == ids, f"lead-{lead} recorded out of order"
        records = read_topic_sync(settings, settings.topic_events, count=EVENTS, timeout=90)
        on_log = [parse_event(r.value).id for r in records]
        assert len(on_log) == len(set(on_log)) == EVENTS, "the canonical log lost or repeated an event"
        b_log = (tmp_path / "b.log").read_text(errors="replace")
        assert "projecting" not in b_log, "the command-side process ran a projector"
    finally:
        everything.stop()
