"""One event type end to end against the real broker: HTTP and kcat in, read model out."""

from __future__ import annotations

import uuid

import pytest
from aiokafka.structs import ConsumerRecord

from services.settings import Settings
from tests.samples import call_logged, encode
from tests.support import WorkerProcess, eventually, kcat, read_topic_sync, unique

pytestmark = pytest.mark.integration


def activity(worker: WorkerProcess, rep: str) -> dict[str, object]:
    response = worker.get(f"/v1/reps/{rep}/activity")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def test_call_posted_over_http_reaches_the_read_model(worker: WorkerProcess) -> None:
    rep = unique("rep")
    for secs in (300, 120):
        response = worker.publish(call_logged(unique("evt"), rep_id=rep, duration_seconds=secs))
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "accepted"
    state = eventually(lambda: activity(worker, rep), until=lambda s: s["calls"] == 2)
    assert state == {
        "rep_id": rep,
        "calls": 2,
        "connected_calls": 2,
        "talk_seconds": 420,
        "leads_captured": 0,
        "partitions_covered": 4,
        "partitions_total": 4,
        "as_of": None,
        "known_at": None,
        "state": "live",
    }


def test_malformed_event_over_http_gets_4xx_naming_the_bad_field(worker: WorkerProcess) -> None:
    response = worker.publish(call_logged(unique("evt"), duration_seconds=-1))
    assert response.status_code == 422
    body = response.json()
    assert body["status"] == "rejected" and body["reason"] == "invalid"
    assert [e["field"] for e in body["errors"]] == ["data.duration_seconds"]

    not_json = worker.post("/v1/events", content=b"{oops", headers=worker.auth("/dialer/test"))
    assert not_json.status_code == 400 and not_json.json()["reason"] == "not_json"


def test_kcat_events_are_ingested_and_poison_goes_to_dead_letter_with_reason(
    worker: WorkerProcess, kafka: Settings
) -> None:
    rep, lead = unique("rep"), unique("lead")
    poison = b"\xffnot an event " + uuid.uuid4().hex.encode()
    invalid = encode(call_logged(unique("evt"), rep_id=rep, lead_id=lead, outcome="maybe"))
    kcat(kafka, encode(call_logged(unique("evt"), rep_id=rep, lead_id=lead)), lead)
    kcat(kafka, poison, lead)
    kcat(kafka, invalid, lead)
    kcat(kafka, encode(call_logged(unique("evt"), rep_id=rep, lead_id=lead)), lead)

    state = eventually(lambda: activity(worker, rep), until=lambda s: s["calls"] == 2)
    assert state["talk_seconds"] == 600

    def dead_letters() -> dict[bytes, dict[str, bytes]]:
        records = read_topic_sync(kafka, kafka.topic_deadletter, count=10_000, timeout=3)
        return {r.value: dict(r.headers) for r in records if r.value in (poison, invalid)}

    found = eventually(dead_letters, until=lambda found: len(found) == 2)
    assert found[poison]["salesledger.reason"] == b"not_json"
    assert found[invalid]["salesledger.reason"] == b"invalid"
    assert b"data.outcome" in found[invalid]["salesledger.errors"]
    assert found[poison]["salesledger.source"].startswith(kafka.topic_inbound.encode())


def test_metrics_count_accepted_and_rejected_by_type_and_reason(worker: WorkerProcess) -> None:
    worker.publish(call_logged(unique("evt")))
    worker.post("/v1/events", content=b"[]", headers=worker.auth("/dialer/test"))
    text = worker.get("/metrics").text
    assert 'salesledger_events_accepted_total{transport="http",type="CallLogged"}' in text
    assert 'salesledger_events_rejected_total{reason="not_an_object",transport="http",type="unknown"}' in text
    assert "salesledger_projection_events_total" in text
    created = [line for line in text.splitlines() if "_created" in line.split("{")[0]]
    assert created == [], f"issue 16: no *_created series, ours or Faust's: {created[:3]}"


def test_events_on_the_canonical_log_carry_their_recorded_time_and_aggregate_key(
    worker: WorkerProcess, kafka: Settings
) -> None:
    event_id, lead = unique("evt"), unique("lead")
    assert worker.publish(call_logged(event_id, lead_id=lead)).status_code == 202

    def logged() -> list[ConsumerRecord[bytes, bytes]]:
        records = read_topic_sync(kafka, kafka.topic_events, count=100_000, timeout=3)
        return [r for r in records if event_id.encode() in r.value]

    (record,) = eventually(logged)
    assert record.key == lead.encode()
    assert b'"recordedtime"' in record.value
