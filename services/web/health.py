"""`GET /v1/health/live` and `GET /v1/health/ready` (and `/v1/health`, the same as ready).

Two questions a supervisor and a load balancer ask apart (issue 15, item 2):

* **live**: is the process serving at all? 200 whenever it can answer. A supervisor restarts a
  worker that fails it; nothing else makes it fail, so a broker outage never gets every worker
  restarted at once;
* **ready**: should traffic come here? 200 only when the worker holds partitions, is not
  rebalancing, a broker answers, a relay leads (here or on another worker), its projector writes,
  and its disk takes writes; 503 otherwise, naming each problem, with ``Retry-After``. A worker whose
  projector cannot write (a full disk, a broker it cannot reach) must not read "200" while its read
  models stand still.
"""

from __future__ import annotations

from collections.abc import Callable

from services.web.routes import Call, Reply

Readiness = Callable[[], tuple[bool, list[str], list[str]]]
"""Whether the worker is ready, the topic partitions it holds (``topic/partition``), and what is
wrong with it (empty when nothing is)."""

RETRY_AFTER_SECONDS = 5
"""What a 503 from health asks a client to wait: readiness is re-evaluated on every call, and the
usual causes (a start, a rebalance, a broker coming back) take seconds."""


async def health(readiness: Readiness, call: Call) -> Reply:
    ready, assigned, problems = readiness()
    body = {"ready": ready, "assigned": assigned, "problems": problems}
    if ready:
        return Reply(200, body)
    return Reply(503, body, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


async def live(call: Call) -> Reply:
    """Answering at all is the whole test: the event loop runs and the web server serves."""
    return Reply(200, {"live": True})
