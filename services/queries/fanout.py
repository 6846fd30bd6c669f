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
import orjson

from services.projector.readmodels import ReadModel
from services.projector.service import Projector
from services.refusals import Refusal
from services.web.routes import Call, Reply, refusal

log = logging.getLogger(__name__)
PARTIALS = "/v1/internal/partials/{name}"
Partials = list[tuple[int, str, Any]]
"""(source partition, key, stored partial as loaded JSON: ``[offset, state]``) triples."""


async def partials_body(projector: Projector, model: str) -> bytes:
    """This worker's partials of ``model`` as JSON, the stored bytes embedded as they are.

    Built from bytes only, in a thread: no Python containers per partial, so serving a large read
    model creates no work for the garbage collector (whose full passes stall the projector).
    """
    read, owned = projector.partials(model), sorted(projector.owned())

    def body() -> bytes:
        dumps = orjson.dumps
        partials = b",".join(b"[%d,%b,%b]" % (p, dumps(key), value) for p, key, value in read())
        return b'{"partials":[%b],"partitions":%b}' % (partials, dumps(owned))

    return await asyncio.to_thread(body)


async def partial_bodies(projector: Projector, model: str) -> list[bytes]:
    """Every worker's partials endpoint body for ``model`` (this one's built in a thread), unparsed."""
    own = await partials_body(projector, model)
    return [own, *await peer_bodies(projector, PARTIALS.format(name=model))]


async def peer_bodies(projector: Projector, path: str) -> list[bytes]:
    """The other workers' answers at ``path`` (those that answered), unparsed."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        bodies = await asyncio.gather(*(fetch(http, f"{url}{path}") for url in projector.assignor.peers()))
    return [body for body in bodies if body is not None]


def read_body(body: bytes) -> tuple[Partials, set[int]]:
    """A partials body's (partition, key, ``[offset, state]``) triples and the partitions it covers
    (none for a body that is not JSON: that worker is counted as not having answered)."""
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        log.warning("a peer answered with bad JSON: %s", exc)
        return [], set()
    partials: Partials = [(int(p), str(k), v) for p, k, v in answer["partials"]]
    return partials, set(answer["partitions"])


async def fetch(http: aiohttp.ClientSession, url: str) -> bytes | None:
    try:
        async with http.get(url) as response:
            response.raise_for_status()
            return await response.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("peer %s did not answer: %s", url, exc)
        return None


def coverage(covered: Iterable[int], partitions: int) -> dict[str, int]:
    return {"partitions_covered": len(set(covered)), "partitions_total": partitions}


class FannedOut:
    """The read side of a worker: its own partials merged with every peer's (`ReadSide`)."""

    def __init__(self, projector: Projector, cache_limit: int = 500_000) -> None:
        self.projector = projector
        self.cache_limit = cache_limit
        self._decoded: dict[str, dict[tuple[int, str], tuple[bytes, Any]]] = {}
        """Per read model, this worker's partials already decoded, with the offset they were at:
        a partial whose offset has not moved is not decoded again. Decoding every KPI partial
        on every statement query took most of its 0.4 to 1 s (docs/performance.md). States are
        immutable values, so sharing one between queries is safe."""

    def _decode_own(self, model: ReadModel, own: Iterable[tuple[int, str, bytes]]) -> list[tuple[str, Any]]:
        """(key, state) of this worker's partials, decoding only those changed since last asked."""
        before = self._decoded.get(model.name, {})
        now: dict[tuple[int, str], tuple[bytes, Any]] = {}
        for partition, key, stored in own:
            offset = stored[: stored.find(b",", 0, 32)]  # stored is `[offset, state]` as JSON
            cached = before.get((partition, key))
            if cached is None or cached[0] != offset:
                cached = (offset, model.decode(key, stored).state)
            now[partition, key] = cached
        if len(now) <= self.cache_limit:
            self._decoded[model.name] = now
        else:
            self._decoded.pop(model.name, None)
        return [(key, state) for (_, key), (_, state) in now.items()]

    def names(self) -> frozenset[str]:
        return frozenset(model.name for model in self.projector.models)

    async def states(self, name: str) -> tuple[list[tuple[str, Any]], dict[str, int]]:
        """(key, state) of every partial of read model ``name``, from every worker, and coverage."""
        projector = self.projector
        model = next(model for model in projector.models if model.name == name)
        own, covered = projector.partials(name), projector.owned()  # a snapshot, read in the thread
        bodies = await peer_bodies(projector, PARTIALS.format(name=name))

        def decoded() -> tuple[list[tuple[str, Any]], set[int]]:
            states = self._decode_own(model, own())
            partitions = set(covered)
            for body in bodies:
                theirs, their_partitions = read_body(body)
                states.extend((key, model.loaded(key, stored).state) for _, key, stored in theirs)
                partitions |= their_partitions
            return states, partitions

        states, partitions = await asyncio.to_thread(decoded)
        return states, coverage(partitions, projector.settings.topic_partitions)


async def own_partials(projector: Projector, call: Call) -> Reply:
    """`GET /v1/internal/partials/{name}`: this worker's own partials (for the worker answering)."""
    name = call.path["name"]
    if name not in {model.name for model in projector.models}:
        return refusal(Refusal.NOT_FOUND, f"no read model {name!r}")
    return Reply(200, raw=await partials_body(projector, name))
