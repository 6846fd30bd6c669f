"""The publisher client against a real worker: verdicts as the API gives them, each fact counted once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from salesledger_publisher import AsyncPublisher, Backoff, BatchResult, Publisher, Result, new_event

from tests.support import WorkerProcess, eventually, unique

pytestmark = pytest.mark.integration

DIALER = "/dialer/test"
TINY = Backoff(base=0.01, max=0.05)


def call(rep: str, lead: str, natural_key: str, duration: int = 60) -> dict[str, Any]:
    """A CallLogged as a dialer builds it: its id derived from the dialer's own call id.

    A natural key names one fact per source and type, so each test draws its own keys (the lead
    is unique per test): reusing one for different content is an id conflict, by design.
    """
    data = {"rep_id": rep, "lead_id": lead, "outcome": "connected", "duration_seconds": duration}
    time = datetime(2026, 11, 2, 10, 15, tzinfo=UTC)
    key = f"{lead}/{natural_key}"
    return new_event("CallLogged", data, source=DIALER, time=time, subject=lead, natural_key=key)


def calls_counted(worker: WorkerProcess, rep: str, expected: int) -> dict[str, Any]:
    """The rep's activity once it counts at least `expected` calls.

    Every event here is on one lead, so on one partition, in acceptance order: once the last
    accepted call is counted, any double count of an earlier one would already show.
    """

    def activity() -> dict[str, Any]:
        response = worker.get(f"/v1/reps/{rep}/activity")
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    return eventually(activity, until=lambda state: state["calls"] >= expected, timeout=60)


def statuses(batch: BatchResult) -> list[str]:
    return [result.status for result in batch.results]


def test_publisher_sends_each_fact_once_however_often_it_is_published(worker: WorkerProcess) -> None:
    rep, lead = unique("rep"), unique("lead")
    publisher = Publisher(worker.url, worker.api_keys[DIALER], backoff=TINY)

    first = publisher.publish(call(rep, lead, "dialer-call-1"))
    assert (first.status, first.ok) == ("accepted", True), first
    again = publisher.publish(call(rep, lead, "dialer-call-1"))  # rebuilt, as after a restart
    assert again == Result("duplicate", first.id)
    assert again.ok

    batch = publisher.publish_batch(
        [
            call(rep, lead, "dialer-call-2"),
            call(rep, lead, "dialer-call-3", duration=-1),
            call(rep, lead, "dialer-call-1"),
        ]
    )
    assert statuses(batch) == ["accepted", "rejected", "duplicate"]
    invalid = batch.results[1]
    assert invalid.reason == "invalid" and [e.field for e in invalid.errors] == ["data.duration_seconds"]
    assert invalid.id == call(rep, lead, "dialer-call-3")["id"]

    assert calls_counted(worker, rep, 2) == {
        "rep_id": rep,
        "calls": 2,
        "connected_calls": 2,
        "talk_seconds": 120,
        "leads_captured": 0,
        "partitions_covered": 4,
        "partitions_total": 4,
        "as_of": None,
        "known_at": None,
        "state": "live",
    }


async def test_async_publisher_sends_each_fact_once_however_often_it_is_published(
    worker: WorkerProcess,
) -> None:
    rep, lead = unique("rep"), unique("lead")
    async with AsyncPublisher(worker.url, worker.api_keys[DIALER], backoff=TINY) as publisher:
        assert (await publisher.publish(call(rep, lead, "call-1"))).status == "accepted"
        again = await publisher.publish(call(rep, lead, "call-1"))
        assert (again.status, again.ok) == ("duplicate", True)
        batch = await publisher.publish_batch(
            [call(rep, lead, "call-2"), call(rep, lead, "call-3", duration=-1), call(rep, lead, "call-1")]
        )
    assert statuses(batch) == ["accepted", "rejected", "duplicate"]
    state = calls_counted(worker, rep, 2)
    assert (state["calls"], state["talk_seconds"]) == (2, 120)


def test_refusals_come_back_as_results_not_exceptions(worker: WorkerProcess) -> None:
    rep, lead = unique("rep"), unique("lead")
    dialer = Publisher(worker.url, worker.api_keys[DIALER], backoff=TINY)
    assert dialer.publish(call(rep, lead, "call-1", duration=60)).status == "accepted"

    changed = dialer.publish(call(rep, lead, "call-1", duration=61))
    assert (changed.status, changed.reason, changed.attempts) == ("rejected", "id_conflict", 1)

    as_crm = Publisher(worker.url, worker.api_keys["/crm/test"], backoff=TINY).publish(
        call(rep, lead, "call-2")
    )
    assert (as_crm.status, as_crm.reason) == ("rejected", "source_mismatch")

    unknown_key = Publisher(worker.url, "sl_nobody_secret", backoff=TINY).publish_batch(
        [call(rep, lead, "call-3")]
    )
    assert [(r.status, r.reason) for r in unknown_key.results] == [("rejected", "unauthorized")]

    assert calls_counted(worker, rep, 1)["calls"] == 1
