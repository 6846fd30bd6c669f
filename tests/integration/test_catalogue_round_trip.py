"""Every event type of the catalogue, over HTTP and both Kafka modes, reaches the log unchanged.

The sample events tell one story (lead-001 becomes deal-001 and a customer); it is told three
times, once per transport, with every id suffixed so the three tellings are independent. Samples
whose history is missing from the story are refused by the same rule on every transport.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from events import parse_event
from services.auth.keys import ApiKeys
from services.settings import Settings
from tests.support import WorkerProcess, eventually, kcat, read_topic_sync

pytestmark = pytest.mark.integration
SAMPLES = Path(__file__).resolve().parents[1] / "data" / "events"
MISSING_HISTORY = {"CustomerChurned", "RepLeft", "LeadDisqualified", "DealLost"}


def story() -> list[dict[str, Any]]:
    documents = [json.loads(path.read_text()) for path in SAMPLES.glob("*.json")]
    return sorted(documents, key=lambda d: (parse_event(json.dumps(d)).time, d["id"]))


def suffixed(value: Any, suffix: str, key: str = "") -> Any:
    """Every id in a document (``id``, ``subject``, ``*_id`` and lists under ``*_ids``) made unique
    to one telling; a comp plan's rule ids are local to the plan and stay as they are."""
    if isinstance(value, dict):
        return {k: suffixed(v, suffix, k) for k, v in value.items()}
    if isinstance(value, list):
        return [suffixed(v, suffix, key.removesuffix("s")) for v in value]
    if isinstance(value, str) and (key in {"id", "subject"} or key.endswith("_id")) and key != "rule_id":
        return f"{value}-{suffix}"
    return value


def test_every_event_type_round_trips_over_http_and_both_kafka_modes(
    worker: WorkerProcess, kafka: Settings
) -> None:
    documents = story()
    keys = ApiKeys.from_url(kafka.database_url)
    auth = {source: f"Bearer {keys.create(source)}" for source in {d["source"] for d in documents}}
    tellings = {mode: [suffixed(d, mode) for d in documents] for mode in ("http", "structured", "binary")}

    for document in tellings["http"]:
        response = worker.post(
            "/v1/events", content=json.dumps(document), headers={"Authorization": auth[document["source"]]}
        )
        expected = 422 if document["type"] in MISSING_HISTORY else 202
        assert response.status_code == expected, response.text
    # One Kafka key per telling keeps it in one partition, so the story arrives in order.
    for document in tellings["structured"]:
        kcat(kafka, json.dumps(document).encode(), "story-structured")
    for document in tellings["binary"]:
        attributes = {f"ce_{k}": str(v) for k, v in document.items() if k != "data"}
        kcat(kafka, json.dumps(document["data"]).encode(), "story-binary", attributes)

    accepted = {
        d["id"]: d for telling in tellings.values() for d in telling if d["type"] not in MISSING_HISTORY
    }

    def on_log() -> dict[str, Any]:
        records = read_topic_sync(kafka, kafka.topic_events, count=10**6, timeout=3)
        events = (parse_event(r.value, max_bytes=1 << 30) for r in records)
        return {e.id: e for e in events if e.id in accepted}

    found = eventually(on_log, until=lambda f: len(f) == len(accepted), timeout=90)
    for event_id, document in accepted.items():
        assert found[event_id].model_copy(update={"recordedtime": None}) == parse_event(json.dumps(document))

    def refused_over_kafka() -> set[str]:
        records = read_topic_sync(kafka, kafka.topic_deadletter, count=10**6, timeout=3)
        return {
            json.loads(r.value).get("type") or dict(r.headers).get("ce_type", b"").decode()
            for r in records
            if dict(r.headers).get("salesledger.reason") == b"rule_violation"
            and r.key in (b"story-structured", b"story-binary")
        }

    assert eventually(refused_over_kafka, until=lambda t: t >= MISSING_HISTORY) >= MISSING_HISTORY
