"""`GET /v1/health`: ready once the worker holds partitions, is not rebalancing, and its parts work.

A worker whose projector cannot write (a full disk, a broker it cannot reach) is not ready: a load
balancer or an operator must not read "200" while the read models stand still. The answer names
each problem."""

from __future__ import annotations

from collections.abc import Callable

from services.web.routes import Call, Reply

Readiness = Callable[[], tuple[bool, list[str], list[str]]]
"""Whether the worker is ready, the topic partitions it holds (``topic/partition``), and what is
wrong with it (empty when nothing is)."""


async def health(readiness: Readiness, call: Call) -> Reply:
    ready, assigned, problems = readiness()
    return Reply(200 if ready else 503, {"ready": ready, "assigned": assigned, "problems": problems})
