"""Two workers share the partitions; either one answers every query with the full, correct answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from events import parse_event
from projections import kpi_fold, org, rep_activity
from projections.kpi_scope import Scope
from projections.kpis import kpi_report
from sales.process import load_process
from services.queries.answers import membership_of
from services.queries.kpi_answers import kpi_body
from services.settings import Settings
from services.simulator import simulate
from services.web.encoding import jsonable
from tests.conftest import private_system, worker_settings
from tests.replayed import replayed_answers
from tests.samples import call_logged, lead_captured
from tests.support import WorkerProcess, eventually, read_topic_sync

pytestmark = pytest.mark.integration


def balanced(health: list[dict[str, object]]) -> bool:
    """Both ready, each owning a share of the event log's partitions."""
    owned = [{p for p in h["assigned"] if ".events/" in p} for h in health]  # type: ignore[attr-defined]
    return all(h["ready"] for h in health) and all(owned) and owned[0].isdisjoint(owned[1])


@pytest.fixture(scope="module")
def pair(
    kafka: Settings, api_keys: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[WorkerProcess, WorkerProcess]]:
    # Keys are not required here: a simulated history spans many sources and must arrive in order.
    # Its own topics and event store, so the log holds exactly this module's history.
    tmp = tmp_path_factory.mktemp("pair")
    group = private_system(
        kafka,
        tmp,
        "pair",
        require_api_keys=False,
    )
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


def test_pipeline_and_funnel_from_either_worker_equal_the_pure_fold_of_a_simulated_history(
    pair: tuple[WorkerProcess, WorkerProcess], kafka: Settings
) -> None:
    first, second = pair
    documents = list(simulate(seed=11, reps=10, leads=120, start=date(2026, 1, 5), weeks=12))
    for start in range(0, len(documents), 200):  # in time order: a deal's story must arrive in order
        chunk = documents[start : start + 200]
        body = first.post("/v1/events:batch", content=json.dumps(chunk)).json()
        assert body["rejected"] == 0, [r for r in body["results"] if r["status"] == "rejected"][:3]

    process = load_process(None)
    settings = first.settings
    log = eventually(
        lambda: read_topic_sync(settings, settings.topic_events, count=10**6, timeout=3),
        until=lambda records: len({r.value for r in records}) >= len(documents),
    )
    # Replay: the pure folds over the whole log, in the relay's order, must equal the live answer.
    records = sorted(log, key=lambda r: int(dict(r.headers)["salesledger.seq"]))
    events = [parse_event(r.value) for r in records]
    as_of = "2026-03-31T18:00:00+00:00"
    expected_rows, expected_funnel = replayed_answers(events, process, as_of, "team")

    for worker in (first, second):
        answer = eventually(
            lambda w=worker: w.get("/v1/pipeline", params={"group_by": "team", "as_of": as_of}).json(),
            until=lambda a: a["rows"] == expected_rows and a["partitions_covered"] == 4,
            timeout=120,
        )
        assert answer["rows"] == expected_rows
        report = eventually(
            lambda w=worker: w.get("/v1/funnel").json(),
            until=lambda a: all(a.get(k) == v for k, v in expected_funnel.items()),
        )
        assert {k: report[k] for k in expected_funnel} == expected_funnel


def test_kpis_and_leaderboards_from_either_worker_equal_the_pure_report_over_the_log(
    pair: tuple[WorkerProcess, WorkerProcess],
) -> None:
    first, second = pair
    settings = first.settings
    records = read_topic_sync(settings, settings.topic_events, count=10**6, timeout=3)
    events = [
        parse_event(r.value) for r in sorted(records, key=lambda r: int(dict(r.headers)["salesledger.seq"]))
    ]
    assert events, "runs after the simulated history was published"
    state = org.fold(events)
    book = kpi_fold.fold(events, settings.org_timezone)
    expected = jsonable(  # the report of the whole log, written as every answer writes it
        kpi_body(kpi_report(book, Scope("org"), "2026-Q1", membership_of(state), load_process(None)))
    )
    assert expected["win_rate"]["value"] is not None
    for worker in (first, second):
        answer = eventually(
            lambda w=worker: w.get("/v1/kpis", params={"scope": "org", "period": "2026-Q1"}).json(),
            until=lambda a: a["kpis"] == expected,
        )
        assert answer["kpis"] == expected and answer["partitions_covered"] == 4
        board = worker.get("/v1/leaderboards", params={"kpi": "won_revenue.EUR", "period": "2026-Q1"}).json()
        values = [row["value"] for row in board["ranking"] if row["value"] is not None]
        assert values == sorted(values, key=Decimal, reverse=True) and values
    bad = first.get("/v1/kpis", params={"scope": "team"})
    assert bad.status_code == 400 and "id" in bad.json()["message"]


def open_deals_exported(text: str) -> int:
    prefix = "salesledger_pipeline_open_deals{"
    return sum(int(float(line.rsplit(" ", 1)[1])) for line in text.splitlines() if line.startswith(prefix))


def test_one_worker_exports_the_pipeline_gauges_and_every_worker_its_lag(
    pair: tuple[WorkerProcess, WorkerProcess],
) -> None:
    first, second = pair
    open_deals = sum(row["count"] for row in first.get("/v1/pipeline").json()["rows"])
    assert open_deals > 0
    exported = eventually(
        lambda: [open_deals_exported(w.get("/metrics").text) for w in (first, second)],
        until=lambda counts: sorted(counts) == [0, open_deals],
        timeout=60,
    )
    assert sorted(exported) == [0, open_deals]  # the relay leader alone: a sum never double counts
    for worker in (first, second):
        eventually(
            lambda w=worker: w.get("/metrics").text, until=lambda t: 'salesledger_consumer_lag{topic="' in t
        )


def reps_in_attainment_buckets(text: str) -> int:
    prefix = "salesledger_attainment_reps{"
    return sum(int(float(line.rsplit(" ", 1)[1])) for line in text.splitlines() if line.startswith(prefix))


def test_one_worker_exports_the_attainment_distribution_of_every_current_rep(
    pair: tuple[WorkerProcess, WorkerProcess],
) -> None:
    first, second = pair
    reps = set(first.get("/v1/reps/activity").json()["reps"])
    assert reps
    exported = eventually(
        lambda: [reps_in_attainment_buckets(w.get("/metrics").text) for w in (first, second)],
        until=lambda counts: min(counts) == 0 and max(counts) > 0,
        timeout=60,
    )
    # The relay leader alone exports it (a sum across workers never counts a rep twice).
    assert sorted(exported)[0] == 0 and sorted(exported)[1] > 0
    text = next(
        w.get("/metrics").text for w in (first, second) if reps_in_attainment_buckets(w.get("/metrics").text)
    )
    assert 'bucket="no_quota"' in text and "team=" in text
