"""Issue 16: a worker's log is JSON lines, and every accept, reject, duplicate and dead letter is one
line with the event's id, source, type, aggregate and outcome; no API key or password in it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from services.kafka_access import aiokafka_options
from services.settings import Settings
from tests.samples import call_logged, encode
from tests.support import WorkerProcess, eventually, kcat, unique

pytestmark = pytest.mark.integration


async def forge_on_the_log(settings: Settings, value: bytes) -> None:
    """A record on the canonical topic that no relay wrote (as a worker's credentials could)."""
    producer = AIOKafkaProducer(**aiokafka_options(settings))
    await producer.start()
    try:
        await producer.send_and_wait(settings.topic_events, value, key=b"forged-for-the-log-test")
    finally:
        await producer.stop()


def event_lines(worker: WorkerProcess) -> list[dict[str, Any]]:
    """The log's JSON records of event outcomes (every line must be JSON: that is the format)."""
    records = []
    for line in worker.log_path.read_text(errors="replace").splitlines():
        if not line.startswith("{"):
            continue  # Faust's banner and a child's raw stderr are not ours to format
        record = json.loads(line)
        assert {"time", "level", "logger", "message"} <= set(record), record
        if record["logger"] == "salesledger.events":
            records.append(record)
    return records


def test_every_outcome_of_an_event_is_one_json_line_with_its_story(
    worker: WorkerProcess, kafka: Settings
) -> None:
    rep = unique("rep-log")
    accepted = call_logged(unique("log-evt"), rep_id=rep)
    assert worker.publish(accepted).status_code == 202
    assert worker.publish(accepted).json()["status"] == "duplicate"
    conflicting = {**accepted, "data": {**accepted["data"], "duration_seconds": 1}}
    assert worker.publish(conflicting).status_code == 409
    invalid = {**call_logged(unique("log-bad")), "type": "NoSuchEvent"}
    assert worker.publish(invalid).status_code == 422
    garbled = unique("log-garbled")
    kcat(kafka, f'{{"id": "{garbled}", "source": "/dialer/test", "data": '.encode(), garbled)  # not JSON
    by_kafka = call_logged(unique("log-kafka"), rep_id=rep)
    kcat(kafka, encode(by_kafka), by_kafka["subject"])
    asyncio.run(forge_on_the_log(worker.settings, b"{not json"))  # the projector cannot fold it

    def story() -> dict[tuple[str, str | None], dict[str, Any]]:
        return {(r["outcome"], r.get("event_id")): r for r in event_lines(worker)}

    wanted = {
        ("accepted", accepted["id"]),
        ("duplicate", accepted["id"]),
        ("rejected", accepted["id"]),
        ("rejected", invalid["id"]),
        ("accepted", by_kafka["id"]),
    }
    found = eventually(story, until=lambda s: wanted <= set(s), timeout=60)
    for outcome, event_id in wanted:
        record = found[(outcome, event_id)]
        assert record["source"] == "/dialer/test" and record["level"] == "INFO", record
        assert record["aggregate"] and record["transport"] in ("http", "kafka"), record
    assert found[("accepted", accepted["id"])]["type"] == "CallLogged"
    assert found[("rejected", accepted["id"])]["reason"] == "id_conflict"
    assert found[("rejected", invalid["id"])]["reason"] == "unknown_type"
    assert found[("accepted", by_kafka["id"])]["transport"] == "kafka"
    letters = eventually(
        lambda: [
            r for r in event_lines(worker) if r["outcome"] == "deadletter" and r["reason"] == "not_json"
        ],
        timeout=60,
    )
    assert letters[0]["stage"] == "ingest" and letters[0]["transport"] == "kafka"
    folded = eventually(
        lambda: [
            r for r in event_lines(worker) if r["outcome"] == "deadletter" and r["stage"] == "projection"
        ],
        timeout=60,
    )
    assert folded[0]["reason"] == "not_json", folded
    text = worker.log_path.read_text(errors="replace")
    for key in worker.api_keys.values():
        assert key not in text
    assert '"duration_seconds"' not in text  # the payload is never logged
