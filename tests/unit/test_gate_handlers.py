"""The HTTP gate's handlers, called as plain functions over a real SQLite write model and real keys."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from sales.process import load_process
from services.auth.keys import ApiKeys
from services.gate import http as gate
from services.settings import Settings
from services.web.routes import Call
from services.writemodel.application import WriteModel
from services.writemodel.environment import write_model_env
from services.writemodel.recorder import Recorder
from tests.samples import call_logged, encode, lead_captured


@pytest.fixture
def bound(tmp_path: Path) -> tuple[gate.Gate, str, list[int]]:
    """A gate over a fresh SQLite write model, a key for ``/dialer/test``, and the relay's wake-ups."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    woken: list[int] = []
    model = WriteModel(load_process(None), write_model_env(Settings(database_url=url)))
    keys = ApiKeys.from_url(url)
    bound = gate.Gate(Recorder(model, lambda: woken.append(1)), keys, True, 4096, 3)
    return bound, keys.create("/dialer/test"), woken


def post(handler: Any, bound: gate.Gate, body: bytes, key: str | None) -> tuple[int, Any]:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    reply = asyncio.run(handler(bound, Call(headers=headers, body=body)))
    return reply.status, json.loads(reply.encoded())


def test_an_event_is_accepted_then_a_repeat_is_a_duplicate_and_the_relay_is_woken(bound: Any) -> None:
    gate_, key, woken = bound
    assert post(gate.post_event, gate_, encode(call_logged()), key) == (
        202,
        {"status": "accepted", "id": "evt-call-1"},
    )
    assert post(gate.post_event, gate_, encode(call_logged()), key)[0] == 200
    assert len(woken) == 2


def test_changed_content_under_an_accepted_id_is_a_409_id_conflict(bound: Any) -> None:
    gate_, key, _ = bound
    post(gate.post_event, gate_, encode(call_logged()), key)
    status, body = post(gate.post_event, gate_, encode(call_logged(duration_seconds=9)), key)
    assert (status, body["reason"]) == (409, "id_conflict")


@pytest.mark.parametrize("key", [None, "not-a-key"])
def test_without_a_valid_key_the_answer_is_401_with_a_json_reason(bound: Any, key: str | None) -> None:
    gate_, _, woken = bound
    status, body = post(gate.post_event, gate_, encode(call_logged()), key)
    assert (status, body["status"], body["reason"]) == (401, "rejected", "unauthorized")
    assert not woken


def test_a_key_publishes_as_its_own_source_only(bound: Any) -> None:
    gate_, key, _ = bound
    status, body = post(gate.post_event, gate_, encode(lead_captured()), key)  # source /crm/test
    assert (status, body["reason"]) == (403, "source_mismatch")
    assert body["errors"][0]["field"] == "source"


def test_a_batch_answers_item_by_item_with_its_index(bound: Any) -> None:
    gate_, key, _ = bound
    items = [call_logged("b1"), {"type": "Nope"}, call_logged("b1")]
    status, body = post(gate.post_batch, gate_, json.dumps(items).encode(), key)
    assert status == 200
    assert [(r["index"], r["status"]) for r in body["results"]] == [
        (0, "accepted"),
        (1, "rejected"),
        (2, "duplicate"),
    ]
    assert (body["accepted"], body["duplicate"], body["rejected"]) == (1, 1, 1)


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b"{not json", 400, "not_json"),
        (b'{"specversion": "1.0"}', 400, "not_an_array"),
        (json.dumps([call_logged(f"c{i}") for i in range(4)]).encode(), 413, "too_many_events"),
        (b"[" + b" " * 20_000 + b"]", 413, "too_large"),
    ],
)
def test_a_bad_batch_is_refused_whole_with_its_reason(
    bound: Any, body: bytes, status: int, reason: str
) -> None:
    gate_, key, woken = bound
    answer = post(gate.post_batch, gate_, body, key)
    assert answer[0] == status and answer[1]["reason"] == reason and answer[1]["status"] == "rejected"
    assert not woken
