"""A replay written into a fresh read-model namespace, and the live worker switched to it without a
gap: against the real broker and a real worker. The namespace is written, then the live worker
folds more events, so the namespace is behind when the switch comes. While the worker moves, a
client reads the same query back to back; every answer is complete (200, every partition) and
exactly the live state, never the namespace's older one, empty or half of each. After the switch
the worker folds new events into the new namespace, and a restarted worker starts from it."""

from __future__ import annotations

import asyncio
import itertools
import threading
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from events import Envelope
from projections import rep_activity
from services.kafka_access import aiokafka_options
from services.projector.namespaces import changelog_topic
from services.settings import Settings
from services.simulator import simulate_envelopes
from tests.conftest import private_system
from tests.integration.test_replay import cli, fill
from tests.support import WorkerProcess, eventually

pytestmark = pytest.mark.integration
RECORDED = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def reps(events: list[Envelope]) -> dict[str, Any]:
    return {rep: state.to_dict() for rep, state in rep_activity.fold(events).items()}


async def end_offsets(settings: Settings, topic: str) -> int:
    consumer = AIOKafkaConsumer(**aiokafka_options(settings), group_id=None)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(settings.topic_partitions)]
        return sum((await consumer.end_offsets(tps)).values())
    finally:
        await consumer.stop()


class Reader(threading.Thread):
    """Reads one query back to back until stopped, keeping every answer."""

    def __init__(self, worker: WorkerProcess, path: str) -> None:
        super().__init__(daemon=True)
        self.worker, self.path = worker, path
        self.answers: list[tuple[int, Any]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.worker.url, headers=self.worker.reader(), timeout=10) as client:
            while not self.stopping.is_set():
                response = client.get(self.path)
                self.answers.append((response.status_code, response.json()))


def test_a_replay_into_a_new_namespace_goes_live_without_a_gap_and_stays_live(
    kafka: Settings, api_keys: dict[str, str], tmp_path: Path
) -> None:
    settings = private_system(kafka, tmp_path, "namespaces")
    story = [
        e.recorded(RECORDED)
        for e in itertools.islice(simulate_envelopes(11, reps=8, leads=90, start=date(2026, 1, 5)), 900)
    ]
    first, meanwhile, after = story[:600], story[600:750], story[750:]
    asyncio.run(fill(settings, first))

    worker = WorkerProcess(settings, tmp_path / "worker.log", api_keys).start()
    try:
        eventually(
            lambda: worker.get("/v1/reps/activity").json()["reps"], until=lambda got: got == reps(first)
        )
        built = cli(settings, "replay", "--into", "rebuilt-1", "--workers", "1", "--quiet")
        assert built.returncode == 0, built.stdout + built.stderr
        assert "into namespace 'rebuilt-1'" in built.stdout
        written = asyncio.run(end_offsets(settings, changelog_topic(settings, "rebuilt-1")))

        # The live namespace moves on; the rebuilt one is behind by these events until it switches.
        asyncio.run(fill(settings, meanwhile))
        now = reps(first + meanwhile)
        eventually(lambda: worker.get("/v1/reps/activity").json()["reps"], until=lambda got: got == now)
        reader = Reader(worker, "/v1/reps/activity")
        reader.start()
        try:
            switched = cli(settings, "readmodels", "switch", "rebuilt-1")
            assert switched.returncode == 0, switched.stdout + switched.stderr
            eventually(
                lambda: "read models switched to namespace 'rebuilt-1'" in worker.log_tail(400),
                timeout=60,
            )
            eventually(lambda: len(reader.answers) > 0)
        finally:
            reader.stopping.set()
            reader.join(timeout=30)
        assert reader.answers, "the reader got no answer at all"
        for status, body in reader.answers:  # the old namespace, then the new one caught up: the same
            assert status == 200, body
            assert body["partitions_covered"] == body["partitions_total"] == settings.topic_partitions
            assert body["reps"] == now
        shown = cli(settings, "readmodels", "show")
        assert '"namespace": "rebuilt-1"' in shown.stdout

        # Live in the new namespace: new events are folded into it and written to its changelog.
        asyncio.run(fill(settings, after))
        eventually(
            lambda: worker.get("/v1/reps/activity").json()["reps"], until=lambda got: got == reps(story)
        )
        assert asyncio.run(end_offsets(settings, changelog_topic(settings, "rebuilt-1"))) > written
    finally:
        worker.stop()

    restarted = WorkerProcess(settings, tmp_path / "restarted.log", api_keys).start()
    try:
        eventually(
            lambda: restarted.get("/v1/reps/activity").json()["reps"], until=lambda got: got == reps(story)
        )
        assert "read models: namespace 'rebuilt-1'" in restarted.log_tail(400)
    finally:
        restarted.stop()

    again = cli(settings, "replay", "--into", "rebuilt-1", "--workers", "1", "--quiet")
    assert again.returncode == 2 and "exists" in again.stderr
    missing = cli(settings, "readmodels", "switch", "never-written")
    assert missing.returncode == 2 and "no namespace 'never-written'" in missing.stderr
