"""Any worker answers any query: gather every worker's partials of a read model and merge them.

Read models are stored as partials per (source partition, key), each held by the worker whose
projector owns the partition. A query asks every worker of the application (their URLs come from
the projector's group assignment, `services.projector.assignor`, as far as `SALESLEDGER_PEER_URLS`
allows) for the partials of the partitions it owns, with requests and answers signed with the
workers' shared secret, and merges what passes the checks of `services.queries.peers`. The
answer says how many of the event log's partitions it covers, so a client can tell a complete
answer from one taken in the middle of a rebalance (or one missing a worker that did not answer).
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
from services.queries.peers import (
    REQUEST_HEADER,
    RESPONSE_HEADER,
    PeerAuth,
    TooLarge,
    chosen_peers,
    merged,
    read_capped,
)
from services.refusals import Refusal
from services.settings import peer_allowlist
from services.web.routes import Call, Reply, refusal

log = logging.getLogger(__name__)
PARTIALS = "/v1/internal/partials/{name}"
PeerBody = tuple[str, frozenset[int], bytes]
"""(who answered, the partitions it may contribute, its partials body unparsed)."""


async def partials_body(projector: Projector, model: str) -> bytes:
    """This worker's partials of ``model`` as JSON, the stored bytes embedded as they are.

    Built from bytes only, in a thread: no Python containers per partial, so serving a large read
    model creates no work for the garbage collector (whose full passes stall the projector).
    """
    read = projector.partials(model)

    def body() -> bytes:
        dumps = orjson.dumps
        rows, owned = read()
        partials = b",".join(b"[%d,%b,%b]" % (p, dumps(key), value) for p, key, value in rows)
        return b'{"partials":[%b],"partitions":%b}' % (partials, dumps(owned))

    return await asyncio.to_thread(body)


async def partial_bodies(projector: Projector, model: str) -> list[PeerBody]:
    """Every worker's partials endpoint body for ``model`` (this one's built in a thread), unparsed,
    each with who sent it and the partitions it may contribute (`services.queries.peers.merged`):
    this worker's first, with all of them (its body lists the partitions it owns)."""
    own = await partials_body(projector, model)
    everything = frozenset(range(projector.settings.topic_partitions))
    return [("this worker", everything, own), *await peer_bodies(projector, PARTIALS.format(name=model))]


_unsigned_warned = False


async def peer_bodies(projector: Projector, path: str) -> list[PeerBody]:
    """The other workers' authenticated answers at ``path`` (of those that answered), unparsed,
    each with its URL and the partitions the directory says it owns; see `services.queries.peers`
    for which peers are asked and which answers are kept."""
    global _unsigned_warned
    settings = projector.settings
    peers = chosen_peers(
        projector.assignor.directory,
        projector.assignor.url,
        peer_allowlist(settings.peer_urls),
        settings.topic_partitions,
    )
    auth = PeerAuth.of(settings)
    if not peers:
        return []
    if auth is None:
        if not _unsigned_warned:
            _unsigned_warned = True
            log.warning(
                "%d other worker(s) in the projector group, but SALESLEDGER_PEER_SECRET is unset: "
                "answering from this worker's partitions only",
                len(peers),
            )
        return []
    async with peer_session(settings.peer_timeout) as http:
        bodies = await asyncio.gather(
            *(fetch(http, url, path, auth, settings.peer_body_max) for url, _ in peers)
        )
    return [
        (url, claims, body) for (url, claims), body in zip(peers, bodies, strict=True) if body is not None
    ]


def peer_session(timeout: float) -> aiohttp.ClientSession:
    """A client session for asking peers: ``timeout`` seconds per whole answer, no decompression
    (a worker never compresses; a compressed body could inflate past the cap between two checks)."""
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=timeout, sock_connect=min(timeout, 5.0)), auto_decompress=False
    )


class PeerError(Exception):
    """A peer did not answer, or not as a worker does."""


async def fetch_checked(
    http: aiohttp.ClientSession, url: str, path: str, auth: PeerAuth, limit: int
) -> bytes:
    """The body ``url`` answers at ``path``: a signed request, no redirect followed, at most
    ``limit`` bytes read, the answer's signature checked; raises `PeerError` for anything else."""
    header, nonce = auth.sign_request("GET", path)
    try:
        async with http.get(
            f"{url}{path}", headers={REQUEST_HEADER: header}, allow_redirects=False
        ) as answer:
            if answer.status != 200:
                raise PeerError(f"answered {answer.status}")
            mac = answer.headers.get(RESPONSE_HEADER, "")
            try:
                body = await read_capped(answer.content.iter_chunked(1 << 16), limit, answer.content_length)
            except TooLarge as exc:
                answer.close()  # the rest is never read: the connection goes
                raise PeerError(f"{exc} (SALESLEDGER_PEER_BODY_MAX)") from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise PeerError(f"did not answer: {type(exc).__name__} {exc}") from None
    if not await asyncio.to_thread(auth.check_answer, nonce, body, mac):
        raise PeerError(
            "answered without a valid signature (is SALESLEDGER_PEER_SECRET the same on every worker?)"
        )
    return body


async def fetch(http: aiohttp.ClientSession, url: str, path: str, auth: PeerAuth, limit: int) -> bytes | None:
    """`fetch_checked`, or None with a warning: that worker counts as not answered."""
    try:
        return await fetch_checked(http, url, path, auth, limit)
    except PeerError as exc:
        log.warning("peer %s: %s; not merged", url, exc)
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
        own = projector.partials(name)  # a snapshot, read in the thread
        bodies = await peer_bodies(projector, PARTIALS.format(name=name))
        total = projector.settings.topic_partitions

        def decoded() -> tuple[list[tuple[str, Any]], set[int]]:
            rows, covered = own()
            states = self._decode_own(model, rows)
            partitions = set(covered)
            for answer in merged(model, bodies, total, partitions):  # checked, each partition once
                states.extend((key, state) for _, key, _, state in answer.partials)
            return states, partitions

        states, partitions = await asyncio.to_thread(decoded)
        return states, coverage(partitions, projector.settings.topic_partitions)


async def own_partials(projector: Projector, call: Call) -> Reply:
    """`GET /v1/internal/partials/{name}`: this worker's own partials, for a peer only: the request
    must be signed with the workers' shared secret, and the answer is (`services.queries.peers`)."""
    name = call.path["name"]
    auth = PeerAuth.of(projector.settings)
    if auth is None:
        return refusal(Refusal.UNAUTHORIZED, "this worker has no SALESLEDGER_PEER_SECRET: it serves no peer")
    nonce = auth.check_request("GET", PARTIALS.format(name=name), call.header(REQUEST_HEADER))
    if nonce is None:
        return refusal(
            Refusal.UNAUTHORIZED,
            f"a peer request needs a valid {REQUEST_HEADER} header, signed with the workers' shared secret",
        )
    if name not in {model.name for model in projector.models}:
        return refusal(Refusal.NOT_FOUND, f"no read model {name!r}")
    body = await partials_body(projector, name)
    mac = await asyncio.to_thread(auth.sign_answer, nonce, body)
    return Reply(200, raw=body, headers={RESPONSE_HEADER: mac})
