"""Any worker answers any query: gather every worker's partials of a read model and merge them.

Read models are stored as partials per (source partition, key), each held by the worker that owns
the partition. A query asks every member of the consumer group (their URLs come from Faust's
partition assignor) for the partials of the partitions it actively owns, and merges them. The
answer says how many of the event log's partitions it covers, so a client can tell a complete
answer from one taken in the middle of a rebalance.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

import aiohttp
import faust

from projections.positions import split_partial_key

log = logging.getLogger(__name__)
Partials = list[tuple[int, str, dict[str, Any]]]
"""(source partition, key, stored partial) triples."""


def owned_partitions(app: faust.App, topic: str) -> set[int]:
    return {tp.partition for tp in app.consumer.assignment() if tp.topic == topic}


def local_partials(app: faust.App, table: Any, topic: str) -> Partials:
    """The partials of `table` fed by the partitions of `topic` this worker owns right now."""
    owned = owned_partitions(app, topic)
    out: Partials = []
    for table_key, stored in table.items():
        partition, key = split_partial_key(table_key)
        if partition in owned:
            out.append((partition, key, stored))
    return out


def peer_urls(app: faust.App, table: Any) -> list[str]:
    """Web URLs of the other workers in the group (from the assignor's changelog metadata)."""
    own = str(app.conf.canonical_url).rstrip("/")
    urls = {str(host).rstrip("/") for host in app.router.table_metadata(table.name)}
    return sorted(url for url in urls if url != own)


async def gather_partials(app: faust.App, table: Any, topic: str, path: str) -> tuple[Partials, set[int]]:
    """Every worker's partials and the set of source partitions they cover."""
    partials, covered = local_partials(app, table, topic), owned_partitions(app, topic)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        answers = await asyncio.gather(*(fetch(http, f"{url}{path}") for url in peer_urls(app, table)))
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
            body: dict[str, Any] = await response.json()
            return body
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("peer %s did not answer: %s", url, exc)
        return None


def coverage(covered: Iterable[int], partitions: int) -> dict[str, int]:
    return {"partitions_covered": len(set(covered)), "partitions_total": partitions}
