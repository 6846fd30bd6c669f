"""`AsyncPublisher`: the asyncio client (aiohttp, the `async` extra)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import aiohttp

from salesledger_publisher.events import DEFAULT_MAX_BATCH_SIZE
from salesledger_publisher.results import BatchResult, PublishError, Result
from salesledger_publisher.retry import (
    DEFAULT_BACKOFF,
    Backoff,
    RetryPolicy,
    retry_for_exception,
    retry_for_reply,
)
from salesledger_publisher.sync import _Target
from salesledger_publisher.wire import (
    Prepared,
    Reply,
    batch_requests,
    batch_results,
    single_request,
    single_result,
)


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
