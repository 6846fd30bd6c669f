"""Issue 15, item 3: a worker SIGKILLed and started again leads its relay and is ready at once.

Its consumer groups used to wait out the dead member's session (the "lease" a restarted worker
waited for) unless ``SALESLEDGER_WORKER_INSTANCE_ID`` was set; now every worker has a stable
instance id by default (`services.outbox.identity`). The session timeout is set long here so that
waiting it out cannot pass for a quick restart: the gaps measured are printed, and must be shorter
than what remains of the dead member's session after its last heartbeat.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from services.settings import Settings
from tests.conftest import worker_settings
from tests.faults import metric, report, seconds_until, status
from tests.samples import call_logged
from tests.support import WorkerProcess, eventually, processes_with_env

pytestmark = pytest.mark.integration
SESSION = 60.0


def test_issue_15_a_restarted_worker_leads_its_relay_and_is_ready_before_its_old_session_expires(
    kafka: Settings, api_keys: dict[str, str], tmp_path: Path
) -> None:
    settings = worker_settings(kafka, tmp_path, "faults-restart").model_copy(
        update={"consumer_session_timeout": SESSION, "worker_instance_id": None}
    )
    worker = WorkerProcess(settings, tmp_path / "worker.log", api_keys).start()
    try:
        eventually(lambda: metric(worker, "salesledger_relay_leading"), until=lambda v: v == 1.0)
        assert worker.process is not None
        os.kill(worker.process.pid, signal.SIGKILL)  # the worker alone, as a supervisor's kill
        worker.process.wait()
        marker = f"SALESLEDGER_APP_ID={settings.app_id}"
        eventually(lambda: processes_with_env(marker), until=lambda pids: not pids, timeout=30)

        worker.start(wait=False)
        leading = seconds_until(lambda: metric(worker, "salesledger_relay_leading") == 1.0)
        ready = leading + seconds_until(lambda: status(worker, "/v1/health/ready") == 200)
        report("worker SIGKILL then restart", relay_leading_after=leading, ready_after=ready)
        heartbeat = min(3.0, SESSION / 3)
        assert ready < SESSION - heartbeat, "the restarted worker waited out its own old membership"

        accepted = worker.publish(call_logged("faults-restart-call", rep_id="rep-faults-restart"))
        assert accepted.status_code == 202
        calls = eventually(
            lambda: worker.get("/v1/reps/rep-faults-restart/activity").json(),
            until=lambda body: body.get("calls") == 1,
        )
        assert calls["partitions_covered"] == calls["partitions_total"]
    finally:
        worker.stop()
