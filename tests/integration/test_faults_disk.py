"""Issue 15, items 1, 2 and 5, from the campaign: a worker whose disk fills up under HTTP load.

The worker keeps its event store and its RocksDB read models on a small file system of its own
(tmpfs; we are root), which the test fills. While it is full, nothing is acknowledged that is not
stored (POSTs fail with the JSON 500 or 503, never 202), ready is 503 naming the disk and live stays
200. Once the space is freed the worker heals on its own, no restart (the time it took is printed):
every acknowledged event on the log exactly once, the read model equal to the fold of the log.
"""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from services import broker
from services.auth.keys import ApiKeys
from services.settings import Settings
from services.topics import ensure_topics
from tests.conftest import worker_settings
from tests.faults import (
    folded_activity,
    ids_on_log,
    no_orphans,
    readiness,
    report,
    seconds_until,
    served_activity,
    status,
)
from tests.integration.test_crash_safety import Progress, publish_with_retries
from tests.samples import call_logged
from tests.support import WorkerProcess, eventually

pytestmark = pytest.mark.integration
BATCHES, BATCH_SIZE = 24, 20
DISK_MIB = 96


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A file system of its own (tmpfs), to be filled and freed: a real full disk."""
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_MIB}m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Write one file until the file system refuses: what is left is (next to) nothing."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as out:  # unbuffered: nothing left to fail at close
        try:
            while True:
                out.write(b"x" * 65536)
        except OSError:
            pass
    return filler


def test_issue_15_a_full_disk_is_reported_and_healed_once_freed_losing_and_doubling_nothing(
    kafka: Settings, tmp_path: Path, small_disk: Path
) -> None:
    run = uuid.uuid4().hex[:6]
    settings = worker_settings(kafka, small_disk, f"faults-disk-{run}").model_copy(
        update={
            "topic_prefix": f"faults-disk-{run}",
            "store": "rocksdb://",
            "database_url": f"sqlite:///{small_disk / 'intake.sqlite3'}",
        }
    )
    broker.up(settings)  # grants the worker principal this prefix's topics (docs/security.md)
    asyncio.run(ensure_topics(settings))
    key = ApiKeys(settings.database_path).create("/dialer/test")
    rep = f"rep-faults-disk-{run}"
    batches = [
        [call_logged(f"fd-{run}-{b}-{i}", lead_id=f"lead-fd-{i % 5}", rep_id=rep) for i in range(BATCH_SIZE)]
        for b in range(BATCHES)
    ]
    expected = {event["id"] for batch in batches for event in batch}
    worker = WorkerProcess(settings, tmp_path / "worker.log").start()
    try:
        done, progress = threading.Event(), Progress()
        publisher = threading.Thread(
            target=publish_with_retries, args=(worker.url, key, batches, progress, done), daemon=True
        )
        publisher.start()
        progress.wait_for(BATCHES // 3)
        eventually(  # the campaign's disk filled on a running worker, its read models in place
            lambda: worker.get(f"/v1/reps/{rep}/activity").json(),
            until=lambda body: (
                body.get("calls", 0) > 0 and body["partitions_covered"] == body["partitions_total"]
            ),
        )
        filler = fill(small_disk)
        unready = eventually(
            lambda: readiness(worker),
            until=lambda answer: answer[0] == 503 and any("write" in p for p in answer[2]),
        )
        assert unready[1] is not None, "a 503 says when to retry"
        assert status(worker, "/v1/health/live") == 200
        time.sleep(3)  # the publisher keeps trying against the full disk

        filler.unlink()  # the operator frees space; nobody restarts anything
        healed = seconds_until(lambda: status(worker, "/v1/health/ready") == 200)
        assert done.wait(timeout=180), "the publisher never got every batch stored"
        report("full disk under load, then freed", ready_after_space_freed=healed)

        ids = ids_on_log(settings, len(expected))
        assert len(ids) == len(set(ids)), "an acknowledged event reached the log twice"
        assert set(ids) == expected, f"missing from the log: {len(expected - set(ids))}"
        folded = folded_activity(settings, rep)
        assert eventually(lambda: served_activity(worker, rep), until=lambda got: got == folded) == folded
    finally:
        worker.stop()
    no_orphans(settings.app_id)
