"""The publisher client: pure rules first, then both clients against a scripted fake upstream over real HTTP.

The fake upstream is an aiohttp server on a loopback port, run in its own thread so the blocking
`Publisher` can call it too. Each scenario runs once with `Publisher` and once with `AsyncPublisher`.
Waits between attempts are recorded instead of slept, so no test depends on timing.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from aiohttp import web
from salesledger_publisher import (
    AsyncPublisher,
    Backoff,
    BatchResult,
    FieldError,
    Publisher,
    PublishError,
    Reply,
    Result,
    batch_requests,
    batch_results,
    encode,
    new_event,
    parse_retry_after,
    retry_delay,
    retry_for_reply,
    single_result,
    stable_id,
)

WHEN = datetime(2026, 11, 2, 10, 15, tzinfo=timezone(timedelta(hours=1)))
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
KEY = "sl_test_secret"
T = TypeVar("T")
TINY = Backoff(base=0.001, max=0.004, jitter=0.5, max_retry_after=30.0)


def call(natural_key: str, duration: int = 60) -> dict[str, Any]:
    data = {"rep_id": "rep-ada", "lead_id": "lead-001", "outcome": "connected", "duration_seconds": duration}
    return new_event("CallLogged", data, source="/dialer/eu-1", time=WHEN, natural_key=natural_key)


# --- Building events ----------------------------------------------------------------------------


def test_a_fact_rebuilt_from_its_natural_key_gets_the_same_id() -> None:
    first, after_restart = call("dialer-call-8812"), call("dialer-call-8812")
    assert first["id"] == after_restart["id"] == stable_id("/dialer/eu-1", "CallLogged", "dialer-call-8812")
    assert uuid.UUID(first["id"]).version == 5


def test_natural_key_ids_differ_by_source_type_and_key() -> None:
    ids = {
        stable_id("/dialer/eu-1", "CallLogged", "8812"),
        stable_id("/dialer/us-1", "CallLogged", "8812"),
        stable_id("/dialer/eu-1", "LeadCaptured", "8812"),
        stable_id("/dialer/eu-1", "CallLogged", "8813"),
    }
    assert len(ids) == 4


def test_without_a_natural_key_each_event_gets_a_random_id_fixed_when_built() -> None:
    one = new_event("CallLogged", {}, source="/dialer/eu-1", time=WHEN)
    other = new_event("CallLogged", {}, source="/dialer/eu-1", time=WHEN)
    assert one["id"] != other["id"]
    assert uuid.UUID(one["id"]).version == 4
    assert json.loads(encode(one))["id"] == one["id"]


def test_an_explicit_id_is_kept_but_not_together_with_a_natural_key() -> None:
    assert new_event("CallLogged", {}, source="/s", time=WHEN, id="call-1")["id"] == "call-1"
    with pytest.raises(ValueError, match="not both"):
        new_event("CallLogged", {}, source="/s", time=WHEN, id="call-1", natural_key="1")


def test_naive_time_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        new_event("CallLogged", {}, source="/dialer/eu-1", time=datetime(2026, 11, 2, 10, 15))


def test_event_is_a_structured_cloudevent_without_empty_optional_attributes() -> None:
    event = new_event(
        "CallLogged", {"rep_id": "rep-ada"}, source="/s", time=WHEN, subject="lead-001", correlationid="c-1"
    )
    assert event == {
        "specversion": "1.0",
        "id": event["id"],
        "source": "/s",
        "type": "CallLogged",
        "time": "2026-11-02T10:15:00+01:00",
        "datacontenttype": "application/json",
        "schemaversion": 1,
        "subject": "lead-001",
        "correlationid": "c-1",
        "data": {"rep_id": "rep-ada"},
    }


def test_money_is_encoded_exactly_as_a_string() -> None:
    assert json.loads(encode({"amount": Decimal("1234.10")})) == {"amount": "1234.10"}


def test_a_batch_is_split_into_ordered_chunks_of_at_most_the_maximum() -> None:
    events = [call(f"k{n}") for n in range(5)]
    chunks = list(batch_requests(events, KEY, size=2))
    assert [len(c.ids) for c in chunks] == [2, 2, 1]
    assert [i for c in chunks for i in c.ids] == [e["id"] for e in events]
    assert [e["id"] for e in json.loads(chunks[1].body)] == [events[2]["id"], events[3]["id"]]


# --- Backoff schedule ---------------------------------------------------------------------------


@pytest.mark.parametrize("rand", [0.0, 0.5, 0.999999])
def test_backoff_doubles_up_to_the_cap_and_jitter_only_shortens(rand: float) -> None:
    backoff = Backoff(base=0.1, max=1.0, jitter=0.5)
    for failures, ceiling in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0), (60, 1.0), (5000, 1.0)]:
        delay = retry_delay(backoff, failures, None, rand)
        assert ceiling * 0.5 <= delay <= ceiling


def test_without_jitter_the_schedule_is_exact() -> None:
    backoff = Backoff(base=0.25, max=2.0, jitter=0.0)
    assert [retry_delay(backoff, n, None, 0.9) for n in range(1, 6)] == [0.25, 0.5, 1.0, 2.0, 2.0]


def test_retry_after_replaces_the_schedule_and_is_capped() -> None:
    backoff = Backoff(base=0.1, max=1.0, jitter=0.0, max_retry_after=30.0)
    assert retry_delay(backoff, 1, 7.0, 0.5) == 7.0
    assert retry_delay(backoff, 1, 3600.0, 0.5) == 30.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        (" 0 ", 0.0),
        ("Mon, 02 Nov 2026 09:00:30 GMT", 30.0),
        ("Mon, 02 Nov 2026 08:00:00 GMT", 0.0),
    ],
)
def test_retry_after_accepts_seconds_and_http_dates(header: str, seconds: float) -> None:
    assert parse_retry_after(header, NOW) == seconds


@pytest.mark.parametrize("header", [None, "", "soon", "-5", "1.5"])
def test_unreadable_retry_after_is_ignored(header: str | None) -> None:
    assert parse_retry_after(header, NOW) is None


@pytest.mark.parametrize("bad", [{"base": -1.0}, {"base": 2.0, "max": 1.0}, {"jitter": 1.5}])
def test_nonsense_backoff_is_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**bad)


# --- Interpreting answers -----------------------------------------------------------------------


def reply(status: int, body: object = None, retry_after: str | None = None) -> Reply:
    raw = b"<html>bad gateway</html>" if body is None else json.dumps(body).encode()
    return Reply(status, raw, retry_after)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_overload_and_server_errors_are_retried(status: int) -> None:
    retry = retry_for_reply(reply(status, retry_after="3"), NOW)
    assert retry is not None and retry.status == status and retry.retry_after == 3.0


@pytest.mark.parametrize("status", [200, 202, 400, 401, 403, 404, 409, 413, 422])
def test_final_answers_are_not_retried(status: int) -> None:
    assert retry_for_reply(reply(status, {}), NOW) is None


def test_accepted_and_duplicate_are_both_ok() -> None:
    accepted = single_result(reply(202, {"status": "accepted", "id": "e-1"}), "e-1")
    duplicate = single_result(reply(200, {"status": "duplicate", "id": "e-1"}), "e-1", attempts=2)
    assert accepted == Result("accepted", "e-1")
    assert duplicate == Result("duplicate", "e-1", attempts=2)
    assert accepted.ok and duplicate.ok


def test_a_rejection_carries_its_reason_and_every_bad_field() -> None:
    body = {
        "status": "rejected",
        "reason": "invalid",
        "message": "invalid CallLogged: data.duration_seconds: too small",
        "errors": [{"field": "data.duration_seconds", "message": "too small"}],
    }
    result = single_result(reply(422, body), "e-1")
    assert not result.ok
    assert (result.status, result.id, result.reason) == ("rejected", "e-1", "invalid")
    assert result.errors == (FieldError("data.duration_seconds", "too small"),)


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (401, {"status": "rejected", "reason": "unauthorized"}, "unauthorized"),
        (403, {"status": "rejected", "reason": "source_mismatch"}, "source_mismatch"),
        (409, {"status": "rejected", "reason": "id_conflict", "id": "e-1"}, "id_conflict"),
        (404, None, "http_404"),
        (202, None, "http_202"),  # not our server's answer: never reported as recorded
        (404, {"status": "accepted"}, "http_404"),  # a 4xx never means recorded, whatever the body says
    ],
)
def test_other_final_answers_are_rejections_named_by_reason_or_status(
    status: int, body: object, reason: str
) -> None:
    result = single_result(reply(status, body), "e-1")
    assert (result.status, result.reason, result.id) == ("rejected", reason, "e-1")


def test_batch_items_are_read_in_order_with_the_ids_sent() -> None:
    body = {
        "results": [
            {"index": 0, "status": "accepted", "id": "a"},
            {"index": 1, "status": "rejected", "reason": "invalid", "errors": []},
            {"index": 2, "status": "duplicate", "id": "c"},
        ]
    }
    results = batch_results(reply(200, body), ["a", "b", "c"])
    assert [(r.status, r.id) for r in results] == [("accepted", "a"), ("rejected", "b"), ("duplicate", "c")]
    assert results[1].reason == "invalid"


def test_a_whole_batch_refusal_applies_to_every_event_in_it() -> None:
    body = {"status": "rejected", "reason": "too_many_events", "message": "3 events; at most 2"}
    results = batch_results(reply(413, body), ["a", "b", "c"])
    assert [(r.status, r.id, r.reason) for r in results] == [
        ("rejected", "a", "too_many_events"),
        ("rejected", "b", "too_many_events"),
        ("rejected", "c", "too_many_events"),
    ]


def test_batch_results_that_do_not_match_the_events_sent_are_not_trusted() -> None:
    short = {"results": [{"index": 0, "status": "accepted"}]}
    shuffled = {"results": [{"index": 1, "status": "accepted"}, {"index": 0, "status": "accepted"}]}
    for body in (short, shuffled):
        results = batch_results(reply(200, body), ["a", "b"])
        assert [(r.status, r.id, r.reason) for r in results] == [
            ("rejected", "a", "unexpected_response"),
            ("rejected", "b", "unexpected_response"),
        ]


def test_batch_result_counts_and_ok() -> None:
    batch = BatchResult((Result("accepted", "a"), Result("duplicate", "b"), Result("rejected", "c")))
    assert (batch.accepted, batch.duplicate, batch.rejected, batch.ok) == (1, 1, 1, False)
    assert BatchResult(()).ok


# --- A scripted fake upstream over real HTTP ----------------------------------------------------

Step = Callable[[web.Request, bytes], Awaitable[web.StreamResponse]]


@dataclass
class Seen:
    path: str
    authorization: str
    body: bytes


@dataclass
class FakeUpstream:
    """A loopback HTTP server answering with `script` in turn, then as an idempotent ledger."""

    script: list[Step] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    stored: dict[str, bytes] = field(default_factory=dict)
    url: str = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.seen.append(Seen(request.path, request.headers.get("Authorization", ""), body))
        step = self.script.pop(0) if self.script else ledger
        return await step(request, body)

    def ledger_item(self, event: dict[str, Any]) -> dict[str, Any]:
        """Like the real intake: first time accepted, same content again a duplicate; 'bad' rejected."""
        if event["data"].get("duration_seconds", 0) < 0:
            errors = [{"field": "data.duration_seconds", "message": "must be >= 0"}]
            return {"status": "rejected", "reason": "invalid", "message": "invalid", "errors": errors}
        encoded = json.dumps(event, sort_keys=True).encode()
        previous = self.stored.get(event["id"])
        if previous is None:
            self.stored[event["id"]] = encoded
            return {"status": "accepted", "id": event["id"]}
        if previous != encoded:
            return {"status": "rejected", "reason": "id_conflict", "id": event["id"]}
        return {"status": "duplicate", "id": event["id"]}


UPSTREAM = web.AppKey("upstream", FakeUpstream)


async def ledger(request: web.Request, body: bytes) -> web.StreamResponse:
    upstream = request.app[UPSTREAM]
    document = json.loads(body)
    if request.path.endswith(":batch"):
        results = [{"index": n, **upstream.ledger_item(event)} for n, event in enumerate(document)]
        return web.json_response({"results": results})
    item = upstream.ledger_item(document)
    status = {"accepted": 202, "duplicate": 200}.get(item["status"], 422)
    return web.json_response(item, status=status)


def answer(status: int, body: object = None, headers: dict[str, str] | None = None) -> Step:
    async def step(request: web.Request, raw: bytes) -> web.StreamResponse:
        return web.json_response(body or {}, status=status, headers=headers)

    return step


async def store_then_drop(request: web.Request, raw: bytes) -> web.StreamResponse:
    """The event is stored, then the connection dies before the answer is sent (a lost response)."""
    upstream = request.app[UPSTREAM]
    upstream.ledger_item(json.loads(raw))
    assert request.transport is not None
    request.transport.close()
    raise ConnectionResetError("dropped by the test upstream")


def stall(seconds: float) -> Step:
    async def step(request: web.Request, raw: bytes) -> web.StreamResponse:
        await asyncio.sleep(seconds)
        return await ledger(request, raw)

    return step


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    fake = FakeUpstream()
    app = web.Application()
    app[UPSTREAM] = fake
    app.router.add_post("/v1/events", fake.handle)
    app.router.add_post("/v1/events:batch", fake.handle)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    fake.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.SockSite(runner, sock).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.run_until_complete(runner.cleanup())
        loop.close()


class Client:
    """`Publisher` or `AsyncPublisher` behind one blocking interface, recording the waits it asks for."""

    def __init__(self, flavour: str, url: str, **options: Any) -> None:
        self.flavour, self.url = flavour, url
        self.options = {"backoff": TINY, "max_attempts": 4, **options}
        self.waits: list[float] = []

    def publish(self, event: dict[str, Any]) -> Result:
        if self.flavour == "sync":
            return Publisher(self.url, KEY, sleep=self.waits.append, **self.options).publish(event)
        return asyncio.run(self._with_async(lambda p: p.publish(event)))

    def publish_batch(self, events: list[dict[str, Any]]) -> BatchResult:
        if self.flavour == "sync":
            return Publisher(self.url, KEY, sleep=self.waits.append, **self.options).publish_batch(events)
        return asyncio.run(self._with_async(lambda p: p.publish_batch(events)))

    async def _with_async(self, use: Callable[[AsyncPublisher], Awaitable[T]]) -> T:
        async def record(seconds: float) -> None:
            self.waits.append(seconds)

        async with AsyncPublisher(self.url, KEY, sleep=record, **self.options) as publisher:
            return await use(publisher)


@pytest.fixture(params=["sync", "async"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_a_503_is_retried_and_the_event_accepted_on_the_next_attempt(
    upstream: FakeUpstream, flavour: str
) -> None:
    upstream.script = [answer(503, {"status": "unavailable"})]
    event = call("k-503")
    client = Client(flavour, upstream.url)
    result = client.publish(event)
    assert result == Result("accepted", event["id"], attempts=2)
    assert len(client.waits) == 1
    assert [seen.authorization for seen in upstream.seen] == [f"Bearer {KEY}"] * 2


def test_a_lost_response_is_retried_with_the_same_bytes_and_its_duplicate_counts_as_success(
    upstream: FakeUpstream, flavour: str
) -> None:
    upstream.script = [store_then_drop]
    event = call("k-lost")
    result = Client(flavour, upstream.url).publish(event)
    assert (result.status, result.ok, result.attempts) == ("duplicate", True, 2)
    first, retry = upstream.seen
    assert first.body == retry.body
    assert json.loads(retry.body)["id"] == event["id"] == result.id
    assert list(upstream.stored) == [event["id"]]


def test_a_429_waits_as_long_as_retry_after_asks(upstream: FakeUpstream, flavour: str) -> None:
    upstream.script = [answer(429, {"status": "slow_down"}, headers={"Retry-After": "7"})]
    client = Client(flavour, upstream.url, backoff=Backoff(base=0.001, max=0.004, jitter=0.0))
    assert client.publish(call("k-429")).status == "accepted"
    assert client.waits == [7.0]


def test_a_timeout_is_retried(upstream: FakeUpstream, flavour: str) -> None:
    upstream.script = [stall(0.5)]
    result = Client(flavour, upstream.url, timeout=0.1).publish(call("k-timeout"))
    assert result.ok and result.attempts == 2


def test_a_422_is_returned_not_retried(upstream: FakeUpstream, flavour: str) -> None:
    client = Client(flavour, upstream.url)
    result = client.publish(call("k-bad", duration=-1))
    assert (result.status, result.reason, result.attempts) == ("rejected", "invalid", 1)
    assert result.errors == (FieldError("data.duration_seconds", "must be >= 0"),)
    assert len(upstream.seen) == 1 and client.waits == []


def test_republishing_a_fact_with_different_content_is_an_id_conflict(
    upstream: FakeUpstream, flavour: str
) -> None:
    client = Client(flavour, upstream.url)
    assert client.publish(call("k-same", duration=60)).status == "accepted"
    conflict = client.publish(call("k-same", duration=61))
    assert (conflict.status, conflict.reason) == ("rejected", "id_conflict")


def test_exhausted_retries_raise_publish_error_with_the_last_cause(
    upstream: FakeUpstream, flavour: str
) -> None:
    upstream.script = [answer(500, {"n": 1}), answer(502, {"n": 2}), answer(503, {"n": 3})]
    client = Client(flavour, upstream.url, max_attempts=3)
    with pytest.raises(PublishError) as raised:
        client.publish(call("k-down"))
    assert (raised.value.attempts, raised.value.status) == (3, 503)
    assert "HTTP 503" in raised.value.cause
    assert len(upstream.seen) == 3 and len(client.waits) == 2
    assert len({seen.body for seen in upstream.seen}) == 1


def test_an_unreachable_server_raises_publish_error_caused_by_the_connection_error(flavour: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"  # bound, never listening: refused
        client = Client(flavour, url, max_attempts=2)
        with pytest.raises(PublishError) as raised:
            client.publish(call("k-nowhere"))
    assert raised.value.attempts == 2 and raised.value.status is None
    assert isinstance(raised.value.__cause__, Exception)


def test_a_batch_in_chunks_of_two_merges_five_results_in_order(upstream: FakeUpstream, flavour: str) -> None:
    events = [call("k-b0"), call("k-b1", duration=-1), call("k-b2"), call("k-b3"), call("k-b4")]
    client = Client(flavour, upstream.url, max_batch_size=2)
    client.publish(events[3])
    upstream.script = [ledger, answer(503)]  # the second chunk needs a retry
    batch = client.publish_batch(events)
    assert [(r.status, r.id) for r in batch.results] == [
        ("accepted", events[0]["id"]),
        ("rejected", events[1]["id"]),
        ("accepted", events[2]["id"]),
        ("duplicate", events[3]["id"]),
        ("accepted", events[4]["id"]),
    ]
    assert [r.attempts for r in batch.results] == [1, 1, 2, 2, 1]
    assert (batch.accepted, batch.duplicate, batch.rejected) == (3, 1, 1)
    batch_sizes = [len(json.loads(seen.body)) for seen in upstream.seen if seen.path.endswith(":batch")]
    assert batch_sizes == [2, 2, 2, 1]


def test_a_batch_that_runs_out_of_retries_reports_the_chunks_already_settled(
    upstream: FakeUpstream, flavour: str
) -> None:
    events = [call("k-c0"), call("k-c1"), call("k-c2")]
    upstream.script = [ledger, answer(503), answer(503)]
    client = Client(flavour, upstream.url, max_batch_size=2, max_attempts=2)
    with pytest.raises(PublishError) as raised:
        client.publish_batch(events)
    assert [(r.status, r.id) for r in raised.value.completed] == [
        ("accepted", events[0]["id"]),
        ("accepted", events[1]["id"]),
    ]
    again = client.publish_batch(events)  # publishing everything again is safe
    assert [r.status for r in again.results] == ["duplicate", "duplicate", "accepted"]
