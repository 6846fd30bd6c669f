"""Kill -9 the worker (ingestion, intake and relay) again and again while events pour in:
every accepted event reaches the canonical log exactly once, in intake order per aggregate."""

from __future__ import annotations

import asyncio
import json
import random
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from events import parse_event
from sales.process import load_process
from services import broker
from services.auth.keys import ApiKeys
from services.settings import Settings
from services.topics import ensure_topics
from services.writemodel.aggregates import GENESIS
from services.writemodel.application import WriteModel
from services.writemodel.environment import write_model_env
from tests.samples import call_logged
from tests.support import WorkerProcess, free_port, read_topic_sync

pytestmark = pytest.mark.integration
BATCHES, BATCH_SIZE, KILLS = 40, 50, 3


class Progress:
    """Batches the publisher has had stored so far, for the killer to pace itself on."""

    def __init__(self) -> None:
        self.stored = 0
        self.changed = threading.Condition()

    def advance(self) -> None:
        with self.changed:
            self.stored += 1
            self.changed.notify_all()

    def wait_for(self, stored: int, timeout: float = 60.0) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: self.stored >= stored, timeout), "publisher stalled"


def publish_with_retries(
    url: str, key: str, batches: list[list[dict[str, Any]]], progress: Progress, done: threading.Event
) -> None:
    """An upstream tool that retries each batch, identical bytes, until every item is stored."""
    for batch in batches:
        while True:
            try:
                response = httpx.post(
                    f"{url}/v1/events:batch",
                    content=json.dumps(batch),
                    headers={"Authorization": f"Bearer {key}"},
                    timeout=10,
                )
                statuses = {r["status"] for r in response.json()["results"]}
                if response.status_code == 200 and statuses <= {"accepted", "duplicate"}:
                    progress.advance()
                    break
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            time.sleep(0.2)
    done.set()


def test_killed_workers_lose_nothing_and_duplicate_nothing_on_the_log(
    kafka: Settings, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:6]
    settings = kafka.model_copy(
        update={
            "topic_prefix": f"crash-{run}",
            "app_id": f"crash-{run}",
            "web_port": free_port(),
            "database_url": f"sqlite:///{tmp_path / 'intake.sqlite3'}",
            "data_dir": tmp_path / "faust",
            "worker_instance_id": f"crash-{run}-worker",  # static membership: no rebalance wait on restart
            "consumer_session_timeout": 10.0,
            "relay_batch_size": 37,  # small batches: more relay round trips to be killed in the middle of
        }
    )
    broker.up(settings)  # grants the worker principal this prefix's topics and groups (docs/security.md)
    asyncio.run(ensure_topics(settings))
    key = ApiKeys(settings.database_path).create("/dialer/test")
    batches = [
        [
            call_logged(f"crash-{run}-{b}-{i}", lead_id=f"lead-{(b * 7 + i) % 23}", rep_id="rep-crash")
            for i in range(BATCH_SIZE)
        ]
        for b in range(BATCHES)
    ]
    expected = {event["id"] for batch in batches for event in batch}

    worker = WorkerProcess(settings, tmp_path / "worker.log").start()
    done, progress = threading.Event(), Progress()
    publisher = threading.Thread(
        target=publish_with_retries, args=(worker.url, key, batches, progress, done), daemon=True
    )
    publisher.start()
    rng = random.Random(7)
    for kill_after in sorted(rng.sample(range(2, BATCHES - 2), KILLS)):
        progress.wait_for(kill_after)  # the publisher blocks while the worker is down: kills land mid-flow
        time.sleep(rng.uniform(0.0, 0.05))  # somewhere inside the next request or relay round trip
        worker.stop(signal.SIGKILL)
        worker.start()
    assert done.wait(timeout=180), "the publisher never got every batch stored"
    publisher.join()

    store = WriteModel(load_process(None), write_model_env(settings))
    intake = store.read_after(0, 10**6)
    assert {row.event_id for row in intake} == expected

    def on_log() -> list[Any]:
        return read_topic_sync(settings, settings.topic_events, count=len(expected), timeout=5)

    deadline = time.monotonic() + 120
    records = on_log()
    while len(records) < len(expected) and time.monotonic() < deadline:
        records = on_log()
    ids = [parse_event(r.value).id for r in records]
    assert len(ids) == len(set(ids)), "an event reached the log twice"
    assert set(ids) == expected, f"missing from the log: {len(expected - set(ids))}"
    worker.stop()

    seq_of = {row.event_id: row.seq for row in intake}
    by_key: dict[bytes, list[int]] = {}
    for record in records:
        by_key.setdefault(record.key, []).append(seq_of[parse_event(record.value).id])
    assert all(seqs == sorted(seqs) for seqs in by_key.values()), "per-aggregate order broken"

    heads: dict[bytes, bytes] = {}
    for record in records:  # each aggregate's records form an unbroken hash chain on the log
        headers = dict(record.headers)
        aggregate = headers["salesledger.aggregate"]
        assert headers["salesledger.prevhash"] == heads.get(aggregate, GENESIS.encode()), "hash chain broken"
        heads[aggregate] = headers["salesledger.hash"]
