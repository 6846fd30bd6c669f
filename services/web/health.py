"""`GET /v1/health`: ready once the worker holds partitions and is not rebalancing."""

from __future__ import annotations

from collections.abc import Callable

from services.web.routes import Call, Reply

Readiness = Callable[[], tuple[bool, list[str]]]
"""Whether the worker is ready, and the topic partitions it holds (``topic/partition``)."""


async def health(readiness: Readiness, call: Call) -> Reply:
    ready, assigned = readiness()
    return Reply(200 if ready else 503, {"ready": ready, "assigned": assigned})
