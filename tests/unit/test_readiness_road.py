"""Issue 15, items 2 and 7: readiness names a silent broker, an unwritable disk and a missing relay;
live answers whatever they are; every 503 says when to retry."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import faust
from aiohttp.test_utils import make_mocked_request

from events import parse_event
from sales.process import load_process
from services.outbox.relay import POSITION
from services.outbox.watch import BrokerSeen, backlog_of, unwritable
from services.refusals import Refusal
from services.settings import Settings
from services.web.faust import BUSY, _view
from services.web.health import health, live
from services.web.routes import Call, Reply, refusal
from services.writemodel.application import WriteModel
from services.writemodel.environment import write_model_env
from tests.samples import call_logged


def test_a_broker_silent_past_the_grace_is_a_problem_and_one_that_answers_again_is_not() -> None:
    seen = BrokerSeen()
    seen.silent(100.0)
    seen.silent(103.0)  # the first silence counts, not the latest
    assert seen.problem(104.0, grace=5.0) is None
    assert seen.problem(106.0, grace=5.0) == "no Kafka broker has answered for 6 s"
    seen.answered(107.0)
    assert seen.problem(200.0, grace=5.0) is None


def test_a_writable_directory_is_no_problem_and_leaves_nothing_behind(tmp_path: Path) -> None:
    assert unwritable([tmp_path]) is None
    assert list(tmp_path.iterdir()) == []


def test_a_missing_directory_is_named(tmp_path: Path) -> None:
    assert str(tmp_path / "gone") in (unwritable([tmp_path / "gone"]) or "")


def test_not_ready_is_503_with_its_problems_and_retry_after() -> None:
    reply = asyncio.run(health(lambda: (False, [], ["no Kafka broker has answered for 9 s"]), Call()))
    assert reply.status == 503
    assert reply.body["problems"] == ["no Kafka broker has answered for 9 s"]
    assert int(reply.headers["Retry-After"]) >= 1


def test_ready_is_200_without_retry_after() -> None:
    reply = asyncio.run(health(lambda: (True, ["t/0"], []), Call()))
    assert (reply.status, dict(reply.headers)) == (200, {})


def test_live_answers_200_whatever_readiness_says() -> None:
    reply = asyncio.run(live(Call()))
    assert (reply.status, reply.body) == (200, {"live": True})


async def not_ready(call: Call) -> Reply:
    return refusal(Refusal.NOT_READY, "the answer would cover no partition yet")


def test_a_503_a_handler_gives_without_retry_after_is_served_with_it() -> None:
    async def run() -> tuple[int, str | None, dict[str, object]]:
        app = faust.App("road-test", broker="kafka://127.0.0.1:1", web_enabled=True)
        view = _view({"GET": not_ready})(app, app.web)  # type: ignore[dict-item]
        response = await view.get(make_mocked_request("GET", "/v1/pipeline"))
        assert response.body is not None
        return response.status, response.headers.get("Retry-After"), json.loads(response.body)

    status, retry_after, body = asyncio.run(run())
    assert (status, body["reason"]) == (503, "not_ready")
    assert retry_after is not None and int(retry_after) >= 1


def test_a_connection_over_the_cap_is_told_when_to_retry() -> None:
    head = BUSY.split(b"\r\n\r\n", 1)[0]
    assert head.startswith(b"HTTP/1.1 503") and b"\r\nRetry-After: " in head


def test_the_backlog_counts_the_events_recorded_after_the_relay_position_not_sequence_numbers(
    tmp_path: Path,
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'intake.sqlite3'}")
    model = WriteModel(load_process(None), write_model_env(settings))
    assert backlog_of(model) == 0
    events = [parse_event(json.dumps(call_logged(f"backlog-{n}", lead_id=f"lead-{n}"))) for n in range(3)]
    model.record(events)
    assert backlog_of(model) == 3  # each event's key is a record too: the last sequence is beyond 3
    rows = model.read_after(0, 10)
    model.save_position(POSITION, rows[1].seq)  # the relay has two of them on the log
    assert (backlog_of(model), backlog_of(model, cap=0)) == (1, 0)
