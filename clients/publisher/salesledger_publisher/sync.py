"""`Publisher`: the standard-library client (urllib), for tools without an event loop."""

from __future__ import annotations

import http.client
import random
import time as clock
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from salesledger_publisher.events import DEFAULT_MAX_BATCH_SIZE
from salesledger_publisher.results import BatchResult, PublishError, Result
from salesledger_publisher.retry import (
    DEFAULT_BACKOFF,
    Backoff,
    RetryPolicy,
    retry_for_exception,
    retry_for_reply,
)
from salesledger_publisher.wire import (
    Prepared,
    Reply,
    batch_requests,
    batch_results,
    single_request,
    single_result,
)


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
