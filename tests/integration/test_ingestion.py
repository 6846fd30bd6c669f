"""Ingestion contracts over HTTP and Kafka: idempotent ids, batches, API keys, both Kafka modes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from events import parse_event
from services.auth.keys import ApiKeys
from services.settings import Settings
from tests.samples import call_logged, encode, lead_captured
from tests.support import WorkerProcess, eventually, kcat, read_topic_sync, unique

pytestmark = pytest.mark.integration


def calls_of(worker: WorkerProcess, rep: str) -> int:
    return int(worker.get(f"/v1/reps/{rep}/activity").json()["calls"])


def canonical_events(settings: Settings, ids: set[str]) -> dict[str, Any]:
    records = read_topic_sync(settings, settings.topic_events, count=10**6, timeout=3)
    found: dict[str, Any] = {}
    for record in records:
        event = parse_event(record.value, max_bytes=1 << 30)
        if event.id in ids:
            assert event.id not in found, f"{event.id} is on the log twice"
            found[event.id] = event
    return found


def test_a_repeated_id_is_reported_as_duplicate_and_counted_once(worker: WorkerProcess) -> None:
    rep = unique("rep")
    event = call_logged(unique("evt"), rep_id=rep)
    first, second = worker.publish(event), worker.publish(event)
    assert (first.status_code, first.json()["status"]) == (202, "accepted")
    assert (second.status_code, second.json()["status"]) == (200, "duplicate")
    eventually(lambda: calls_of(worker, rep), until=lambda calls: calls == 1)


def test_the_same_id_over_http_and_kafka_is_accepted_once(worker: WorkerProcess, kafka: Settings) -> None:
    rep, marker = unique("rep"), unique("evt")
    event = call_logged(marker, rep_id=rep)
    assert worker.publish(event).status_code == 202
    kcat(kafka, encode(event), event["subject"])
    later = call_logged(unique("evt"), rep_id=rep)
    kcat(kafka, encode(later), later["subject"])  # arrives after the repeat on the same partition
    eventually(lambda: calls_of(worker, rep), until=lambda calls: calls == 2)
    assert set(
        eventually(lambda: canonical_events(kafka, {marker, later["id"]}), until=lambda f: len(f) == 2)
    )
    assert (
        'salesledger_events_duplicate_total{transport="kafka",type="CallLogged"}'
        in worker.get("/metrics").text
    )


def test_same_id_with_different_content_is_a_conflict_on_both_transports(
    worker: WorkerProcess, kafka: Settings
) -> None:
    event = call_logged(unique("evt"), duration_seconds=10)
    assert worker.publish(event).status_code == 202
    changed = {**event, "data": {**event["data"], "duration_seconds": 11}}
    response = worker.publish(changed)
    assert response.status_code == 409 and response.json()["reason"] == "id_conflict"

    kcat(kafka, encode(changed), event["subject"])

    def conflicts() -> list[Any]:
        records = read_topic_sync(kafka, kafka.topic_deadletter, count=10**6, timeout=3)
        return [r for r in records if r.value == encode(changed)]

    (dead,) = eventually(conflicts)
    assert dict(dead.headers)["salesledger.reason"] == b"id_conflict"


def test_batch_reports_a_result_per_item_in_order(worker: WorkerProcess) -> None:
    rep = unique("rep")
    good = call_logged(unique("evt"), rep_id=rep)
    items = [good, good, call_logged(unique("evt"), rep_id=rep, outcome="maybe"), "not an event"]
    response = worker.post("/v1/events:batch", content=json.dumps(items), headers=worker.auth("/dialer/test"))
    assert response.status_code == 200
    body = response.json()
    assert [r["status"] for r in body["results"]] == ["accepted", "duplicate", "rejected", "rejected"]
    assert [r["index"] for r in body["results"]] == [0, 1, 2, 3]
    assert body["results"][2]["errors"][0]["field"] == "data.outcome"
    assert body["results"][3]["reason"] == "not_an_object"
    assert (body["accepted"], body["duplicate"], body["rejected"]) == (1, 1, 2)
    eventually(lambda: calls_of(worker, rep), until=lambda calls: calls == 1)


def test_batch_over_the_limit_is_refused_whole(worker: WorkerProcess) -> None:
    limit = worker.settings.max_batch_events
    items = [call_logged(f"evt-{n}") for n in range(limit + 1)]
    response = worker.post("/v1/events:batch", content=json.dumps(items), headers=worker.auth("/dialer/test"))
    assert response.status_code == 413 and response.json()["reason"] == "too_many_events"


def test_issue12_item5_a_body_over_the_server_limit_gets_the_documented_json_413(
    worker: WorkerProcess,
) -> None:
    """Over the largest request the server reads (a batch's limit), on either route: JSON, not text."""
    settings = worker.settings
    too_big = b"[" + b" " * (settings.max_batch_events * settings.max_event_bytes + 1024) + b"]"
    for path in ("/v1/events", "/v1/events:batch"):
        response = worker.post(path, content=too_big, headers=worker.auth("/dialer/test"))
        assert response.status_code == 413, response.text
        assert response.headers["content-type"].startswith("application/json")
        assert (response.json()["status"], response.json()["reason"]) == ("rejected", "too_large")


def test_issue12_item7_a_dead_lettered_binary_message_without_ce_type_names_the_header(
    worker: WorkerProcess, kafka: Settings
) -> None:
    event = call_logged(unique("evt"))
    headers = {f"ce_{k}": str(v) for k, v in event.items() if k not in ("data", "type")}
    value = json.dumps({**event["data"], "notes": unique("no-type")}).encode()
    kcat(kafka, value, event["subject"], headers)

    def dead() -> list[Any]:
        records = read_topic_sync(kafka, kafka.topic_deadletter, count=10**6, timeout=3)
        return [r for r in records if r.value == value]

    (record,) = eventually(dead)
    assert b"ce_type" in dict(record.headers)["salesledger.message"]


def test_api_keys_authenticate_publishers_and_bind_them_to_their_source(worker: WorkerProcess) -> None:
    event = call_logged(unique("evt"))
    anonymous = worker.post("/v1/events", content=encode(event))
    assert anonymous.status_code == 401 and anonymous.json()["reason"] == "unauthorized"

    wrong_source = worker.post("/v1/events", content=encode(event), headers=worker.auth("/crm/test"))
    assert wrong_source.status_code == 403
    assert wrong_source.json()["errors"] == [{"field": "source", "message": wrong_source.json()["message"]}]

    key = worker.api_keys["/dialer/test"]
    lower_case_scheme = {"Authorization": f"bearer {key}"}
    assert worker.post("/v1/events", content=encode(event), headers=lower_case_scheme).status_code == 202

    keys = ApiKeys(worker.settings.database_path)
    key = keys.create("/dialer/test")
    keys.revoke(key.split("_")[1])
    revoked = worker.post("/v1/events", content=encode(event), headers={"Authorization": f"Bearer {key}"})
    assert revoked.status_code == 401


def test_binary_mode_events_from_kcat_are_accepted_like_structured_ones(
    worker: WorkerProcess, kafka: Settings
) -> None:
    rep = unique("rep")
    event = call_logged(unique("evt"), rep_id=rep, duration_seconds=42)
    attributes = {f"ce_{k}": str(v) for k, v in event.items() if k != "data"}
    kcat(
        kafka,
        json.dumps(event["data"]).encode(),
        event["subject"],
        {**attributes, "content-type": "application/json"},
    )
    structured = call_logged(unique("evt"), rep_id=rep, duration_seconds=8)
    kcat(kafka, encode(structured), structured["subject"], {"content-type": "application/cloudevents+json"})
    eventually(lambda: worker.get(f"/v1/reps/{rep}/activity").json(), until=lambda s: s["talk_seconds"] == 50)
    found = eventually(lambda: canonical_events(kafka, {event["id"]}), until=lambda f: len(f) == 1)
    original = parse_event(encode(event))
    assert found[event["id"]].model_copy(update={"recordedtime": None}) == original


def test_http_and_both_kafka_modes_carry_every_field_onto_the_log(
    worker: WorkerProcess, kafka: Settings
) -> None:
    def call() -> dict[str, Any]:
        document = call_logged(unique("evt"), actor="user-7", correlationid="corr-1")
        document["data"]["notes"] = "ünïcödé ✓"
        return document

    def lead() -> dict[str, Any]:  # a lead is captured once: each variant gets its own
        return lead_captured(unique("evt"), lead_id=unique("lead"), source="networking")

    sent: dict[str, dict[str, Any]] = {}
    for make in (call, lead):
        over_http = {**make(), "id": unique("http")}
        assert worker.publish(over_http).status_code == 202
        structured = {**make(), "id": unique("structured")}
        kcat(kafka, encode(structured), structured["subject"])
        binary = {**make(), "id": unique("binary")}
        headers = {f"ce_{k}": str(v) for k, v in binary.items() if k != "data"}
        kcat(kafka, json.dumps(binary["data"]).encode(), binary["subject"], headers)
        sent |= {d["id"]: d for d in (over_http, structured, binary)}
    found = eventually(lambda: canonical_events(kafka, set(sent)), until=lambda f: len(f) == len(sent))
    for event_id, document in sent.items():
        assert found[event_id].model_copy(update={"recordedtime": None}) == parse_event(encode(document))
        assert found[event_id].recordedtime is not None


def test_an_illegal_transition_is_rejected_naming_its_rule_over_http_and_kafka(
    worker: WorkerProcess, kafka: Settings
) -> None:
    deal = unique("deal")
    needs = {
        "specversion": "1.0", "id": unique("evt"), "source": "/dialer/test", "type": "NeedsAssessed",
        "time": "2026-11-02T10:00:00Z", "subject": deal,
        "data": {"deal_id": deal, "rep_id": "rep-ada", "pain_points": ["manual planning"]},
    }  # fmt: skip
    response = worker.publish(needs)
    assert response.status_code == 422
    assert (response.json()["reason"], response.json()["rule"]) == ("rule_violation", "deal_not_open")

    over_kafka = {**needs, "id": unique("evt")}
    kcat(kafka, encode(over_kafka), deal)

    def dead() -> list[Any]:
        records = read_topic_sync(kafka, kafka.topic_deadletter, count=10**6, timeout=3)
        return [r for r in records if r.value == encode(over_kafka)]

    (record,) = eventually(dead)
    headers = dict(record.headers)
    assert (headers["salesledger.reason"], headers["salesledger.rule"]) == (
        b"rule_violation",
        b"deal_not_open",
    )
