"""Two workers share the partitions; either one answers every query with the full, correct answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from events import parse_event
from projections import rep_activity
from services.settings import Settings
from tests.conftest import worker_settings
from tests.samples import call_logged, lead_captured
from tests.support import WorkerProcess, eventually

pytestmark = pytest.mark.integration


def balanced(health: list[dict[str, object]]) -> bool:
    """Both ready, each owning a share of the event log's partitions."""
    owned = [{p for p in h["assigned"] if ".events/" in p} for h in health]  # type: ignore[attr-defined]
    return all(h["ready"] for h in health) and all(owned) and owned[0].isdisjoint(owned[1])


@pytest.fixture(scope="module")
def pair(
    kafka: Settings, api_keys: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[WorkerProcess, WorkerProcess]]:
    group = worker_settings(kafka, tmp_path_factory.mktemp("pair"), "pair")
    workers = []
    for name in ("a", "b"):
        tmp: Path = tmp_path_factory.mktemp(f"worker-{name}")
        settings = group.model_copy(
            update={"web_port": worker_settings(kafka, tmp, name).web_port, "data_dir": tmp / "faust"}
        )
        workers.append(WorkerProcess(settings, tmp / "worker.log", api_keys).start())
    first, second = workers
    try:
        eventually(lambda: [w.get("/v1/health").json() for w in workers], until=balanced, timeout=120)
        yield first, second
    finally:
        for w in workers:
            w.stop()


def test_each_worker_answers_for_all_partitions(pair: tuple[WorkerProcess, WorkerProcess]) -> None:
    first, second = pair
    documents = []
    for n in range(40):
        rep, lead = f"rep-pair-{n % 5}", f"lead-pair-{n}"
        documents.append(lead_captured(f"pair-lead-{n}", rep_id=rep, lead_id=lead))
        documents.append(call_logged(f"pair-call-{n}", rep_id=rep, lead_id=lead, duration_seconds=n))
    for document in documents:
        assert first.publish(document).status_code == 202
    expected = {
        rep: state.to_dict()
        for rep, state in rep_activity.fold(parse_event(json.dumps(d)) for d in documents).items()
    }

    def answer(worker: WorkerProcess) -> dict[str, object]:
        reps = worker.get("/v1/reps/activity").json()["reps"]
        return {rep: reps[rep] for rep in reps if rep.startswith("rep-pair-")}

    assert eventually(lambda: answer(first), until=lambda a: a == expected, timeout=90) == expected
    assert eventually(lambda: answer(second), until=lambda a: a == expected, timeout=90) == expected
