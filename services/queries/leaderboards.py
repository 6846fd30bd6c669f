"""Leaderboard answers: computed off the event loop, a few at a time, and kept for a few seconds.

A leaderboard reads one KPI of every rep or team (`projections.kpi_parts.kpi_value`), over the
whole merged KPI book: with many reps that is the heaviest query a caller can ask. So that no
caller can hold up the worker's event loop (the projector, `/v1/health`, other queries):

- the merge and the ranking run in a thread (`asyncio.to_thread`);
- at most `CONCURRENT` leaderboards are computed at once per worker; others wait their turn;
- an answer is kept for `TTL_SECONDS` per ``(kpi, by, period, as_of)``, and a request that
  waited for a computation of the same key gets its answer. The cache is a short TTL, not a
  version of the partials: a leaderboard may lag the read models by up to `TTL_SECONDS`
  (docs/api.md). At most `MAX_ANSWERS` answers are kept (the oldest go first).
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

TTL_SECONDS = 5.0
CONCURRENT = 2
MAX_ANSWERS = 256


class Leaderboards:
    """The cache and the concurrency limit of one worker's leaderboard answers."""

    def __init__(
        self,
        ttl: float = TTL_SECONDS,
        concurrent: int = CONCURRENT,
        max_answers: int = MAX_ANSWERS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl, self.concurrent, self.max_answers, self.clock = ttl, concurrent, max_answers, clock
        self._answers: dict[Hashable, tuple[float, dict[str, Any]]] = {}
        self._limits: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    async def answer(self, key: Hashable, compute: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        """The answer kept for ``key``, or ``compute()``'s, computed when a turn is free."""
        kept = self._kept(key)
        if kept is not None:
            return kept
        async with self._limit():
            kept = self._kept(key)  # computed by a request this one waited behind
            if kept is not None:
                return kept
            body = await compute()
            self._keep(key, body)
            return body

    def _limit(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        limit = self._limits.get(loop)
        if limit is None:
            limit = self._limits[loop] = asyncio.Semaphore(self.concurrent)
        return limit

    def _kept(self, key: Hashable) -> dict[str, Any] | None:
        kept = self._answers.get(key)
        if kept is None or kept[0] <= self.clock():
            return None
        return kept[1]

    def _keep(self, key: Hashable, body: dict[str, Any]) -> None:
        now = self.clock()
        for stale in [k for k, (expires, _) in self._answers.items() if expires <= now]:
            del self._answers[stale]
        while len(self._answers) >= self.max_answers:
            del self._answers[next(iter(self._answers))]
        self._answers[key] = (now + self.ttl, body)
