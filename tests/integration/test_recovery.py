"""Read models survive losing a worker's local state: RocksDB tables recover from their changelogs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from services.settings import Settings
from tests.conftest import worker_settings
from tests.samples import call_logged, lead_captured
from tests.support import WorkerProcess, eventually

pytestmark = pytest.mark.integration


def test_deleting_local_state_recovers_every_read_model_from_the_changelogs(
    kafka: Settings, api_keys: dict[str, str], tmp_path: Path
) -> None:
    settings = worker_settings(kafka, tmp_path, "recovery").model_copy(update={"store": "rocksdb://"})
    worker = WorkerProcess(settings, tmp_path / "worker.log", api_keys).start()
    try:
        for n in range(12):
            rep, lead = f"rep-recover-{n % 3}", f"lead-recover-{n}"
            assert (
                worker.publish(lead_captured(f"recover-lead-{n}", rep_id=rep, lead_id=lead)).status_code
                == 202
            )
            assert (
                worker.publish(call_logged(f"recover-call-{n}", rep_id=rep, lead_id=lead)).status_code == 202
            )

        def mine() -> dict[str, object]:
            reps = worker.get("/v1/reps/activity").json()["reps"]
            return {rep: state for rep, state in reps.items() if rep.startswith("rep-recover-")}

        before = eventually(mine, until=lambda reps: sum(r["calls"] for r in reps.values()) == 12)
        worker.stop()
        assert any(settings.data_dir.rglob("*")), "RocksDB wrote local state"
        shutil.rmtree(settings.data_dir)

        worker.start()
        assert eventually(mine, until=lambda reps: reps == before) == before
    finally:
        worker.stop()
