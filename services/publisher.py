"""Publish sales facts to Salesledger over HTTP, safely under retries.

For upstream tools (dialers, email platforms, CRMs). The promise: a fact is recorded once however
often it is sent. Two things keep it. An event's id is fixed before the first attempt (derived
from the tool's own key for the fact when there is one, so even a restarted tool sends the same
id). And every retry resends the identical bytes, so a retry after a lost response comes back as
``duplicate``, which counts as success.

Only failures that may pass are retried: connection errors, timeouts, 429 and 5xx. A rejected
event (any other 4xx) is returned as a `Result`, never raised: sending it again cannot help.
`PublishError` means "retries ran out and we do not know whether Salesledger has it"; publishing
the same events again later is always safe.

`Publisher` (standard library only) and `AsyncPublisher` (aiohttp) differ only in I/O. Request
building, response interpretation and the retry schedule are the pure functions here, shared.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import random
import time as clock
import urllib.error
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Literal, TypeGuard

import aiohttp

EVENT_ID_NAMESPACE = uuid.UUID("ecbfbf94-f78c-4850-89a6-a1c226342082")
"""Namespace of ids derived from natural keys. Never change it: every derived id would change."""

EVENTS_PATH = "/v1/events"
BATCH_PATH = "/v1/events:batch"
DEFAULT_MAX_BATCH_SIZE = 1000
"""The server's default `SALESLEDGER_MAX_BATCH_EVENTS`; lower it to match a stricter server."""

Status = Literal["accepted", "duplicate", "rejected"]


# --- Building events ----------------------------------------------------------------------------


def stable_id(source: str, type: str, natural_key: str) -> str:
    """The id of the fact `natural_key` (the tool's own id for it) of `type` from `source`."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{source}|{type}|{natural_key}"))


def new_event(
    type: str,
    data: Mapping[str, Any],
    *,
    source: str,
    time: datetime,
    subject: str | None = None,
    id: str | None = None,
    natural_key: str | None = None,
    actor: str | None = None,
    correlationid: str | None = None,
    causationid: str | None = None,
    schemaversion: int = 1,
) -> dict[str, Any]:
    """A CloudEvents 1.0 structured-mode event whose id is fixed now, before any attempt.

    Prefer `natural_key`: the same fact published again (say by a dialer restarted mid-upload)
    gets the same id and is recognised as a duplicate. Without one, a random id is drawn here,
    once, so retries of this event reuse it. `time` is when the fact happened and must carry a
    timezone: a naive time means different instants on differently configured machines.
    """
    if time.tzinfo is None or time.utcoffset() is None:
        raise ValueError(f"time must be timezone-aware, got naive {time.isoformat()}")
    if id is not None and natural_key is not None:
        raise ValueError("give id or natural_key, not both")
    if id is None:
        id = stable_id(source, type, natural_key) if natural_key is not None else str(uuid.uuid4())
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": id,
        "source": source,
        "type": type,
        "time": time.isoformat(),
        "datacontenttype": "application/json",
        "schemaversion": schemaversion,
        "data": dict(data),
    }
    optional = {
        "subject": subject,
        "actor": actor,
        "correlationid": correlationid,
        "causationid": causationid,
    }
    event.update({name: value for name, value in optional.items() if value is not None})
    return event


def _json_default(value: object) -> object:
    # Money is Decimal: a string keeps every digit, where a float would round it.
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__} {value!r} as JSON")


def encode(document: object) -> bytes:
    """JSON bytes of an event or a batch, made once per publish so that every retry is identical."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False, default=_json_default).encode()


# --- Results ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


@dataclass(frozen=True, slots=True)
class Result:
    """What Salesledger decided about one event; `ok` means it is recorded (now or before)."""

    status: Status
    id: str | None
    reason: str | None = None
    message: str | None = None
    errors: tuple[FieldError, ...] = ()
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.status != "rejected"


@dataclass(frozen=True, slots=True)
class BatchResult:
    """One `Result` per event, in the order the events were given."""

    results: tuple[Result, ...]

    def _count(self, status: Status) -> int:
        return sum(result.status == status for result in self.results)

    @property
    def accepted(self) -> int:
        return self._count("accepted")

    @property
    def duplicate(self) -> int:
        return self._count("duplicate")

    @property
    def rejected(self) -> int:
        return self._count("rejected")

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)


class PublishError(Exception):
    """Retries ran out: Salesledger may or may not have the events. Publishing them again is safe.

    `completed` holds the results of the batch chunks that were settled before the failure.
    """

    def __init__(self, attempts: int, cause: str, status: int | None = None) -> None:
        super().__init__(f"gave up after {attempts} attempt(s); last cause: {cause}")
        self.attempts = attempts
        self.cause = cause
        self.status = status
        self.completed: tuple[Result, ...] = ()


# --- Requests and responses ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Prepared:
    """A request ready to send as often as needed: the body is fixed bytes."""

    path: str
    body: bytes
    headers: Mapping[str, str]
    ids: tuple[str | None, ...]


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP answer reduced to what interpretation needs, whichever client produced it."""

    status: int
    body: bytes
    retry_after: str | None = None


def _headers(api_key: str, content_type: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {api_key}",
        "Content-Type": content_type,
        "Accept": "application/json",
        "User-Agent": "salesledger-publisher/1",
    }


def _event_id(event: Mapping[str, Any]) -> str | None:
    value = event.get("id")
    return value if isinstance(value, str) else None


def single_request(event: Mapping[str, Any], api_key: str) -> Prepared:
    headers = _headers(api_key, "application/cloudevents+json; charset=utf-8")
    return Prepared(EVENTS_PATH, encode(event), headers, (_event_id(event),))


def batch_requests(events: Sequence[Mapping[str, Any]], api_key: str, size: int) -> Iterator[Prepared]:
    """One request per chunk of at most `size` events, in order (so the log keeps their order)."""
    headers = _headers(api_key, "application/cloudevents-batch+json; charset=utf-8")
    for start in range(0, len(events), size):
        chunk = events[start : start + size]
        yield Prepared(BATCH_PATH, encode(list(chunk)), headers, tuple(_event_id(e) for e in chunk))


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _field_errors(value: object) -> tuple[FieldError, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(
        FieldError(str(item.get("field", "")), str(item.get("message", "")))
        for item in value
        if isinstance(item, dict)
    )


def _outcome(document: Mapping[str, Any], sent_id: str | None, attempts: int, fallback: str) -> Result:
    """The decision `document` reports (`{"status", "id"?, "reason"?, "message"?, "errors"?}`)."""
    status = document.get("status")
    if status in ("accepted", "duplicate"):
        return Result(status, _text(document.get("id")) or sent_id, attempts=attempts)
    return Result(
        "rejected",
        _text(document.get("id")) or sent_id,
        reason=_text(document.get("reason")) or fallback,
        message=_text(document.get("message")),
        errors=_field_errors(document.get("errors")),
        attempts=attempts,
    )


def single_result(reply: Reply, sent_id: str | None, attempts: int = 1) -> Result:
    """The `Result` of a final (non-retryable) answer to `POST /v1/events`."""
    document = _json_object(reply.body)
    if reply.status not in (200, 202):
        document = {**document, "status": "rejected"}  # only 200 and 202 mean "recorded"
    return _outcome(document, sent_id, attempts, fallback=f"http_{reply.status}")


def _matches(items: object, count: int) -> TypeGuard[list[dict[str, Any]]]:
    """Whether `items` is one result object per event sent, in order."""
    return (
        isinstance(items, list)
        and len(items) == count
        and all(isinstance(item, dict) and item.get("index", n) == n for n, item in enumerate(items))
    )


def batch_results(reply: Reply, sent_ids: Sequence[str | None], attempts: int = 1) -> list[Result]:
    """Per-event results of a final answer to `POST /v1/events:batch`.

    A whole-request refusal (401, 413 too many events, ...) applies to every event in it.
    """
    document = _json_object(reply.body)
    if reply.status == 200:
        items = document.get("results")
        if _matches(items, len(sent_ids)):
            return [
                _outcome(item, sent, attempts, "rejected") for item, sent in zip(items, sent_ids, strict=True)
            ]
        document = {"reason": "unexpected_response", "message": "batch results do not match the events sent"}
    whole = _outcome({**document, "status": "rejected"}, None, attempts, fallback=f"http_{reply.status}")
    return [replace(whole, id=sent) for sent in sent_ids]


# --- Retrying -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff: `base * 2**(n-1)` after the n-th failure, capped at `max`.

    `jitter` (0..1) shortens each wait by a random part of up to that fraction, so the tools that
    failed together (say, during a worker restart) do not all come back in the same instant.
    A server's `Retry-After` replaces the schedule, capped at `max_retry_after` so that a single
    answer cannot park a tool for hours.
    """

    base: float = 0.2
    max: float = 10.0
    jitter: float = 0.5
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if not (0 <= self.base <= self.max) or not 0 <= self.jitter <= 1 or self.max_retry_after < 0:
            raise ValueError(f"invalid backoff {self}: need 0 <= base <= max, 0 <= jitter <= 1")


DEFAULT_BACKOFF = Backoff()


def retry_delay(backoff: Backoff, failures: int, retry_after: float | None, rand: float) -> float:
    """Seconds to wait after the `failures`-th failed attempt; `rand` is uniform in [0, 1)."""
    if retry_after is not None:
        # Jitter on top: clients told the same number must still not return together.
        return min(retry_after, backoff.max_retry_after) + backoff.jitter * backoff.base * rand
    ceiling = min(backoff.max, backoff.base * 2.0 ** min(failures - 1, 64))
    return ceiling * (1 - backoff.jitter * rand)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from `now` that a `Retry-After` header asks for (delta-seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True, slots=True)
class Retry:
    """Why an attempt failed in a way that another attempt may not, and any wait the server asked."""

    cause: str
    status: int | None = None
    retry_after: float | None = None
    exception: BaseException | None = None

    def give_up(self, attempts: int) -> PublishError:
        return PublishError(attempts, self.cause, self.status)


def retry_for_reply(reply: Reply, now: datetime) -> Retry | None:
    """A `Retry` for 429 and 5xx (overload, restarts); None for a final answer."""
    if reply.status != 429 and reply.status < 500:
        return None
    snippet = reply.body[:200].decode(errors="replace")
    return Retry(f"HTTP {reply.status}: {snippet}", reply.status, parse_retry_after(reply.retry_after, now))


def retry_for_exception(exc: BaseException) -> Retry:
    return Retry(f"{type(exc).__name__}: {exc}", exception=exc)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int
    backoff: Backoff
    rand: Callable[[], float] = random.random

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def delay_after(self, attempts: int, retry: Retry) -> float | None:
        """Seconds to wait before the next attempt, or None when attempts are exhausted."""
        if attempts >= self.max_attempts:
            return None
        return retry_delay(self.backoff, attempts, retry.retry_after, self.rand())


# --- Clients ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Target:
    """What both clients are configured with."""

    base_url: str
    api_key: str
    timeout: float
    policy: RetryPolicy
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, got {self.base_url!r}")
        if self.timeout <= 0 or self.max_batch_size < 1:
            raise ValueError("timeout must be positive and max_batch_size at least 1")

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path


class _KeepPost(urllib.request.HTTPRedirectHandler):
    # urllib follows a redirected POST as a GET without the body: treat 3xx as a final answer.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Publisher:
    """Blocking publisher (standard library only), for scripts and threaded tools."""

    TRANSIENT = (OSError, http.client.HTTPException)  # refused, reset, timed out, cut-off reply

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        max_attempts: int = 5,
        backoff: Backoff = DEFAULT_BACKOFF,
        max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
        sleep: Callable[[float], None] = clock.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        policy = RetryPolicy(max_attempts, backoff, rand)
        self._target = _Target(base_url, api_key, timeout, policy, max_batch_size)
        self._sleep = sleep
        self._opener = urllib.request.build_opener(_KeepPost)

    def publish(self, event: Mapping[str, Any]) -> Result:
        request = single_request(event, self._target.api_key)
        reply, attempts = self._exchange(request)
        return single_result(reply, request.ids[0], attempts)

    def publish_batch(self, events: Sequence[Mapping[str, Any]]) -> BatchResult:
        done: list[Result] = []
        for request in batch_requests(events, self._target.api_key, self._target.max_batch_size):
            try:
                reply, attempts = self._exchange(request)
            except PublishError as error:
                error.completed = tuple(done)
                raise
            done.extend(batch_results(reply, request.ids, attempts))
        return BatchResult(tuple(done))

    def _exchange(self, request: Prepared) -> tuple[Reply, int]:
        """Send `request` (the same bytes each time) until a final answer or attempts run out."""
        attempts = 0
        while True:
            attempts += 1
            try:
                reply = self._send(request)
                retry = retry_for_reply(reply, datetime.now(UTC))
            except self.TRANSIENT as exc:
                retry = retry_for_exception(exc)
            else:
                if retry is None:
                    return reply, attempts
            delay = self._target.policy.delay_after(attempts, retry)
            if delay is None:
                raise retry.give_up(attempts) from retry.exception
            self._sleep(delay)

    def _send(self, request: Prepared) -> Reply:
        http_request = urllib.request.Request(
            self._target.url(request.path), data=request.body, headers=dict(request.headers), method="POST"
        )
        try:
            with self._opener.open(http_request, timeout=self._target.timeout) as response:
                return Reply(response.status, response.read(), response.headers.get("Retry-After"))
        except urllib.error.HTTPError as error:  # urllib raises for every status outside 2xx
            with error:
                return Reply(error.code, error.read(), error.headers.get("Retry-After"))


class AsyncPublisher:
    """Asyncio publisher (aiohttp); use as `async with AsyncPublisher(...) as publisher:`.

    Pass `session` to share a connection pool; it is then the caller's to close.
    """

    TRANSIENT = (aiohttp.ClientError, TimeoutError)  # refused, reset, timed out, cut-off reply

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        max_attempts: int = 5,
        backoff: Backoff = DEFAULT_BACKOFF,
        max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        policy = RetryPolicy(max_attempts, backoff, rand)
        self._target = _Target(base_url, api_key, timeout, policy, max_batch_size)
        self._sleep = sleep
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> AsyncPublisher:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def publish(self, event: Mapping[str, Any]) -> Result:
        request = single_request(event, self._target.api_key)
        reply, attempts = await self._exchange(request)
        return single_result(reply, request.ids[0], attempts)

    async def publish_batch(self, events: Sequence[Mapping[str, Any]]) -> BatchResult:
        # Chunks go one after another, not concurrently: the log keeps the order they were given.
        done: list[Result] = []
        for request in batch_requests(events, self._target.api_key, self._target.max_batch_size):
            try:
                reply, attempts = await self._exchange(request)
            except PublishError as error:
                error.completed = tuple(done)
                raise
            done.extend(batch_results(reply, request.ids, attempts))
        return BatchResult(tuple(done))

    async def _exchange(self, request: Prepared) -> tuple[Reply, int]:
        """Send `request` (the same bytes each time) until a final answer or attempts run out."""
        attempts = 0
        while True:
            attempts += 1
            try:
                reply = await self._send(request)
                retry = retry_for_reply(reply, datetime.now(UTC))
            except self.TRANSIENT as exc:
                retry = retry_for_exception(exc)
            else:
                if retry is None:
                    return reply, attempts
            delay = self._target.policy.delay_after(attempts, retry)
            if delay is None:
                raise retry.give_up(attempts) from retry.exception
            await self._sleep(delay)

    async def _send(self, request: Prepared) -> Reply:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.post(
            self._target.url(request.path),
            data=request.body,
            headers=dict(request.headers),
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=self._target.timeout),
        ) as response:
            return Reply(response.status, await response.read(), response.headers.get("Retry-After"))
