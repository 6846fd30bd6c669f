"""Issue 15, item 4: a worker killed with SIGKILL leaves no process behind.

The business gauges run in a child process (multiprocessing, spawn), which brings multiprocessing's
resource tracker with it. Killed alone (not its process group: a supervisor kills the pid it
started), the worker used to leave both alive, holding hundreds of MiB. The child now asks the
kernel to kill it with its parent (`services.gauges.export.die_with_parent`), and the tracker ends
once no one holds its pipe.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.settings import Settings
from tests.conftest import worker_settings
from tests.support import WorkerProcess, eventually, processes_with_env

pytestmark = pytest.mark.integration


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().split(")")[-1].split()[1]) == pid:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture
def gauged(kafka: Settings, api_keys: dict[str, str], tmp_path: Path) -> Iterator[WorkerProcess]:
    settings = worker_settings(kafka, tmp_path, "orphans").model_copy(update={"gauge_refresh_seconds": 0.5})
    process = WorkerProcess(settings, tmp_path / "worker.log", api_keys).start()
    try:
        yield process
    finally:
        process.stop(signal.SIGKILL)


def test_issue_15_a_worker_killed_alone_leaves_no_gauge_child_nor_resource_tracker(
    gauged: WorkerProcess,
) -> None:
    assert gauged.process is not None
    pid, marker = gauged.process.pid, f"SALESLEDGER_APP_ID={gauged.settings.app_id}"
    # the relay leader's gauge pass has started its child (and the tracker)
    eventually(lambda: len(processes_with_env(marker)), until=lambda n: n >= 3, timeout=60)
    assert children_of(pid), "the worker has children to leave behind"
    os.kill(pid, signal.SIGKILL)  # the worker alone, as a supervisor would
    left = eventually(lambda: processes_with_env(marker), until=lambda pids: not pids, timeout=20)
    assert left == []
