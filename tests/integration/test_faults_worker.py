"""The campaign's worker faults under HTTP load: SIGKILL at random points, and SIGSTOP past the
session timeout. After each the worker is well again on its own (the times are printed), every
acknowledged event is on the canonical log exactly once, the read model equals the fold of the log,
and no process of the worker is left.

The load is `test_crash_safety`'s publisher: a tool that retries each batch, identical bytes, until
every item is stored, so "acknowledged" means the batch it finally got a 200 for.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from services import broker
from services.auth.keys import ApiKeys
from services.settings import Settings
from services.topics import ensure_topics
from tests.conftest import worker_settings
from tests.faults import (
    folded_activity,
    ids_on_log,
    metric,
    no_orphans,
    report,
    seconds_until,
    served_activity,
    status,
)
from tests.integration.test_crash_safety import Progress, publish_with_retries
from tests.samples import call_logged
from tests.support import WorkerProcess, eventually

pytestmark = pytest.mark.integration
BATCH_SIZE = 25


def loaded_worker(
    kafka: Settings, tmp: Path, name: str, batches: int, **update: Any
) -> tuple[WorkerProcess, Any]:
    """A worker of its own (prefix, store, app id) and the batches a publisher will send it."""
    settings = worker_settings(kafka, tmp, name).model_copy(
        update={"topic_prefix": name, "database_url": f"sqlite:///{tmp / 'intake.sqlite3'}", **update}
    )
    broker.up(settings)  # grants the worker principal this prefix's topics (docs/security.md)
    asyncio.run(ensure_topics(settings))
    rep = f"rep-{name}"
    planned = [
        [
            call_logged(f"{name}-{b}-{i}", lead_id=f"lead-{name}-{i % 9}", rep_id=rep)
            for i in range(BATCH_SIZE)
        ]
        for b in range(batches)
    ]
    return WorkerProcess(settings, tmp / "worker.log"), planned


def publishing(
    worker: WorkerProcess, planned: list[list[dict[str, Any]]]
) -> tuple[Progress, threading.Event]:
    key = ApiKeys(worker.settings.database_path).create("/dialer/test")
    done, progress = threading.Event(), Progress()
    threading.Thread(
        target=publish_with_retries, args=(worker.url, key, planned, progress, done), daemon=True
    ).start()
    return progress, done


def exact_afterwards(
    worker: WorkerProcess, planned: list[list[dict[str, Any]]], done: threading.Event
) -> None:
    """Every acknowledged id on the log once, and the worker's answer the fold of the log."""
    assert done.wait(timeout=240), "the publisher never got every batch stored"
    expected = {event["id"] for batch in planned for event in batch}
    ids = ids_on_log(worker.settings, len(expected))
    assert len(ids) == len(set(ids)), "an acknowledged event reached the log twice"
    assert set(ids) == expected, f"missing from the log: {len(expected - set(ids))}"
    rep = planned[0][0]["data"]["rep_id"]
    folded = folded_activity(worker.settings, rep)
    assert eventually(lambda: served_activity(worker, rep), until=lambda got: got == folded) == folded


def test_issue_15_five_worker_sigkills_at_random_points_under_load_lose_and_double_nothing(
    kafka: Settings, tmp_path: Path
) -> None:
    name, kills, batches = f"faults-kill-{uuid.uuid4().hex[:6]}", 5, 30
    worker, planned = loaded_worker(kafka, tmp_path, name, batches, relay_batch_size=29)
    seed = random.randrange(2**32)
    print(f"\n[faults] kill points seeded with {seed}")
    rng = random.Random(seed)
    worker.start()
    try:
        progress, done = publishing(worker, planned)
        recoveries = []
        for kill_after in sorted(rng.sample(range(2, batches - 2), kills)):
            progress.wait_for(kill_after)
            time.sleep(rng.uniform(0.0, 0.2))  # somewhere inside a request, a relay or a fold
            assert worker.process is not None
            os.kill(worker.process.pid, signal.SIGKILL)  # the worker alone, as a supervisor kills it
            worker.process.wait()
            no_orphans(worker.settings.app_id)  # its gauge child and resource tracker went with it
            worker.start(wait=False)
            recoveries.append(seconds_until(lambda: status(worker, "/v1/health/ready") == 200))
        report(
            "worker SIGKILL x5 under load",
            **{f"ready_after_kill_{n + 1}": s for n, s in enumerate(recoveries)},
        )
        exact_afterwards(worker, planned, done)
    finally:
        worker.stop()
    no_orphans(worker.settings.app_id)


def test_issue_15_a_worker_stopped_past_its_session_timeout_comes_back_on_its_own(
    kafka: Settings, tmp_path: Path
) -> None:
    session = 6.0
    name = f"faults-stop-{uuid.uuid4().hex[:6]}"
    worker, planned = loaded_worker(kafka, tmp_path, name, 16, consumer_session_timeout=session)
    worker.start()
    try:
        progress, done = publishing(worker, planned)
        progress.wait_for(5)
        assert worker.process is not None
        os.kill(worker.process.pid, signal.SIGSTOP)
        time.sleep(2 * session)  # the group evicts it meanwhile
        os.kill(worker.process.pid, signal.SIGCONT)
        resumed = seconds_until(lambda: status(worker, "/v1/health/ready") == 200)
        relaying = seconds_until(lambda: metric(worker, "salesledger_relay_leading") == 1.0)
        report(
            "worker SIGSTOP past the session timeout",
            ready_after_resume=resumed,
            relay_leading_after=relaying,
        )
        exact_afterwards(worker, planned, done)
    finally:
        worker.stop()
    no_orphans(worker.settings.app_id)
