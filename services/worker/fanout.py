"""Any worker answers any query: gather every worker's partials of a read model and merge them.

Read models are stored as partials per (source partition, key), each held by the worker whose
projector owns the partition. A query asks every worker of the application (their URLs come from
the projector's group assignment, `services.projector.assignor`) for the partials of the
partitions it owns, and merges them. The answer says how many of the event log's partitions it
covers, so a client can tell a complete answer from one taken in the middle of a rebalance.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

import aiohttp
import faust
import orjson

from services.projector.service import Projector

log = logging.getLogger(__name__)
Partials = list[tuple[int, str, Any]]
"""(source partition, key, stored partial as loaded JSON: ``[offset, state]``) triples."""


def partials_body(projector: Projector, model: str) -> bytes:
    """This worker's partials of ``model`` as JSON, the stored bytes embedded as they are."""
    partials = [[p, key, orjson.Fragment(value)] for p, key, value in projector.partials(model)]
    return orjson.dumps({"partials": partials, "partitions": sorted(projector.owned())})


async def gather_partials(
    app: faust.App, projector: Projector, model: str, path: str
) -> tuple[Partials, set[int]]:
    """Every worker's partials and the set of source partitions they cover."""
    partials: Partials = [(p, key, orjson.loads(value)) for p, key, value in projector.partials(model)]
    covered = projector.owned()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        answers = await asyncio.gather(*(fetch(http, f"{url}{path}") for url in projector.assignor.peers()))
    for answer in answers:
        if answer is None:
            continue
        partials.extend((int(p), str(k), v) for p, k, v in answer["partials"])
        covered |= set(answer["partitions"])
    return partials, covered


async def fetch(http: aiohttp.ClientSession, url: str) -> dict[str, Any] | None:
    try:
        async with http.get(url) as response:
            response.raise_for_status()
            body: dict[str, Any] = orjson.loads(await response.read())
            return body
    except (aiohttp.ClientError, TimeoutError, orjson.JSONDecodeError) as exc:
        log.warning("peer %s did not answer: %s", url, exc)
        return None


def coverage(covered: Iterable[int], partitions: int) -> dict[str, int]:
    return {"partitions_covered": len(set(covered)), "partitions_total": partitions}
