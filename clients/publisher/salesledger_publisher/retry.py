"""When to try again: only failures that may pass, with capped exponential backoff and jitter."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

from salesledger_publisher.results import PublishError
from salesledger_publisher.wire import Reply


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
