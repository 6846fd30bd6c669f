"""The HTTP gate's handlers, called as plain functions over a real SQLite write model and real keys."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from events import Envelope
from events.parse import TIME_WINDOW
from events.rejection import MAX_REPORTED_ERRORS
from sales.process import load_process
from services.admission import admit
from services.auth.keys import ApiKeys
from services.auth.roles import Role
from services.gate import http as gate
from services.ingestor.binding import as_structured
from services.settings import Settings
from services.web.routes import Call
from services.writemodel.application import WriteModel
from services.writemodel.environment import write_model_env
from services.writemodel.outcomes import fingerprint
from services.writemodel.recorder import Recorder
from tests.samples import SAMPLES, call_logged, encode, lead_captured


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


@pytest.mark.parametrize(
    ("role", "subject"),
    [(Role.REP, "rep-a"), (Role.MANAGER, "mgr-1"), (Role.AUDITOR, None), (Role.ADMIN, None)],
)
def test_issue_12_a_key_whose_role_publishes_nothing_is_refused_403_forbidden(
    bound: Any, role: Role, subject: str | None
) -> None:
    gate_, _, woken = bound
    key = gate_.keys.create(role=role, subject=subject)
    for handler, body in ((gate.post_event, encode(call_logged())), (gate.post_batch, b"[]")):
        status, answer = post(handler, gate_, body, key)
        assert (status, answer["reason"]) == (403, "forbidden")
        assert key not in json.dumps(answer)
    assert not woken


def test_an_admin_key_with_sources_publishes_as_each_of_them(bound: Any) -> None:
    gate_, _, _ = bound
    key = gate_.keys.create(["/dialer/test", "/crm/test"], role=Role.ADMIN)
    assert post(gate.post_event, gate_, encode(call_logged()), key)[0] == 202
    assert post(gate.post_event, gate_, encode(lead_captured()), key)[0] == 202


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


def test_issue12_item1_an_event_time_outside_the_window_is_refused_at_the_gate(bound: Any) -> None:
    gate_, key, woken = bound
    now = datetime.now(UTC)
    too_late = (now + TIME_WINDOW.ahead + timedelta(hours=1)).isoformat()
    for index, time in enumerate(
        ["9999-12-31T23:59:59-01:00", "0001-01-01T00:30:00+01:00", "1969-12-31T23:59:59Z", too_late]
    ):
        event = call_logged(f"evt-window-{index}", time=time)
        status, body = post(gate.post_event, gate_, encode(event), key)
        assert (status, body["reason"]) == (422, "invalid"), body
        assert [e["field"] for e in body["errors"]] == ["time"]
        batch = post(gate.post_batch, gate_, json.dumps([event]).encode(), key)[1]
        (result,) = batch["results"]
        assert (result["reason"], result["errors"][0]["field"]) == ("invalid", "time")
    assert not woken
    in_window = call_logged("evt-window-ok", time=(now + timedelta(hours=1)).isoformat())
    assert post(gate.post_event, gate_, encode(in_window), key)[0] == 202


def test_a_duplicate_key_is_refused_on_the_http_single_and_batch_paths(bound: Any) -> None:
    gate_, key, woken = bound
    twice = encode(call_logged("evt-a")).replace(b'"id": "evt-a"', b'"id": "evt-a", "id": "evt-b"')
    status, body = post(gate.post_event, gate_, twice, key)
    assert (status, body["reason"], body["errors"][0]["field"]) == (422, "invalid", "id")
    batch = b"[" + encode(call_logged("evt-c")) + b", " + twice + b"]"
    status, body = post(gate.post_batch, gate_, batch, key)
    assert status == 200
    assert [(r["index"], r["status"]) for r in body["results"]] == [(0, "accepted"), (1, "rejected")]
    assert body["results"][1]["errors"][0]["field"] == "id"
    wrapped = b'{"events": [' + twice + b"]}"
    assert post(gate.post_batch, gate_, wrapped, key)[1]["results"][0]["reason"] == "invalid"
    named_twice = b'{"events": [], "events": [' + encode(call_logged("evt-d")) + b"]}"
    assert post(gate.post_batch, gate_, named_twice, key)[0] == 400
    assert len(woken) == 1  # only evt-c got in


def test_a_batch_over_the_request_limit_is_refused_in_json_before_it_is_parsed(
    bound: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate_, key, _ = bound
    limit = gate.batch_limit(gate_)
    monkeypatch.setattr(gate, "split_batch", lambda *_: pytest.fail("an oversized batch was parsed"))
    status, body = post(gate.post_batch, gate_, b"[" + b"{}," * (limit // 3) + b"{}]", key)
    assert (status, body["status"], body["reason"]) == (413, "rejected", "too_large")
    assert str(limit) in body["message"]


def test_a_batch_with_too_many_events_is_refused_before_the_rest_is_decoded(bound: Any) -> None:
    gate_, key, _ = bound
    # The fourth item is not even JSON: counting stops before it is reached.
    body = json.dumps([call_logged(f"n{i}") for i in range(4)]).encode()[:-1] + b", {not json]"
    status, answer = post(gate.post_batch, gate_, body, key)
    assert (status, answer["reason"]) == (413, "too_many_events")


def test_an_event_over_the_event_limit_inside_a_batch_is_refused_alone(bound: Any) -> None:
    gate_, key, _ = bound
    big = call_logged("big")
    big["data"]["notes"] = "é" * 2_000  # 4,000 bytes of UTF-8 in 2,000 characters: over 4,096 in all
    body_ = json.dumps([big, call_logged("small")], ensure_ascii=False).encode()
    text = json.dumps(big, ensure_ascii=False)
    assert len(text) < 4_096 < len(text.encode())
    status, body = post(gate.post_batch, gate_, body_, key)
    assert status == 200
    assert [r["status"] for r in body["results"]] == ["rejected", "accepted"]
    assert body["results"][0]["reason"] == "too_large"


def test_a_large_batch_is_decoded_and_validated_off_the_event_loop(
    bound: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate_, key, _ = bound
    threads: list[threading.Thread] = []
    real = gate.admit_batch

    def spy(*args: Any) -> Any:
        threads.append(threading.current_thread())
        return real(*args)

    monkeypatch.setattr(gate, "admit_batch", spy)
    assert post(gate.post_batch, gate_, json.dumps([call_logged("t1")]).encode(), key)[0] == 200
    assert threads and threads[0] is not threading.main_thread()


def test_validation_errors_in_a_batch_are_capped_per_event(bound: Any) -> None:
    gate_, key, _ = bound
    items = [call_logged(f"e{i}", **{f"unknown_{n}": n for n in range(100)}) for i in range(3)]
    status, body = post(gate.post_batch, gate_, json.dumps(items).encode(), key)
    assert status == 200
    for result in body["results"]:
        assert len(result["errors"]) == MAX_REPORTED_ERRORS + 1
        assert result["errors"][-1] == {"field": "(more)", "message": "80 more errors not reported"}


def test_the_same_event_has_the_same_fingerprint_over_http_batch_and_kafka(bound: Any) -> None:
    gate_, _, _ = bound
    deal = json.loads((SAMPLES / "DealWon.v1.json").read_text(encoding="utf-8"))
    exact = json.dumps(deal).replace('"112500.00"', "12345678901234.5678").encode()
    single = admit(exact, transport="http", max_bytes=gate_.max_event_bytes)
    (batched,) = gate.admit_batch(gate_, b"[" + exact + b"]", None)
    value = json.dumps(deal["data"]).replace('"112500.00"', "12345678901234.5678").encode()
    headers = [("content-type", b"application/json")]
    headers += [(f"ce_{k}", str(v).encode()) for k, v in deal.items() if k != "data"]
    binary = admit(as_structured(value, headers), transport="kafka", max_bytes=gate_.max_event_bytes)
    structured = admit(as_structured(exact, None), transport="kafka", max_bytes=gate_.max_event_bytes)
    assert isinstance(batched, Envelope)
    for event in (single, batched, binary, structured):
        assert event.data.amount.amount == Decimal("12345678901234.5678")  # type: ignore[attr-defined]
    assert len({fingerprint(e) for e in (single, batched, binary, structured)}) == 1
