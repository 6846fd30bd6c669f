"""Trust between workers: whom a worker asks for partials, how both sides know each other, how much
of an answer is read, and which of its partials are merged.

The URLs of the other workers come from the projector group's directory (`services.projector.
assignor`), which any Kafka client able to join the group can write into. So nothing in it is
taken on trust:

- **Allowlist**: a peer URL is asked only if ``SALESLEDGER_PEER_URLS`` allows its host (and port);
  any other is logged once and ignored. A peer that owns no partition in the directory is not asked.
- **Authentication, both ways**: with the workers' shared ``SALESLEDGER_PEER_SECRET``, a request
  carries ``X-Salesledger-Peer: t=<unix time>;n=<nonce>;m=<HMAC of method, path, time, nonce>``
  and the answer carries ``X-Salesledger-Peer-Mac: <HMAC of the nonce and the whole body>``. The
  secret itself never crosses the network, so a URL that is allowed but not a worker learns
  nothing from being asked, and cannot answer. Digests are compared with `hmac.compare_digest`.
  Without a secret, a worker neither asks nor answers peers.
- **Bounded reading**: no redirects, a time limit, and the body read in chunks up to
  ``SALESLEDGER_PEER_BODY_MAX`` bytes (an answer past it is dropped, unread).
- **Shape**: every partial must decode with its read model's own decoder (`ReadModel.loaded`),
  every partition must be an int below the topic's partition count, and a partial's partition must
  be one its answer covers. A malformed answer is dropped whole, with a warning: that worker
  counts as not answered. Of a well-formed answer only the partitions the peer owns in the
  directory and no one merged before covers are taken (the own worker's first, then peers in URL
  order), so no partition is ever counted, or its partials merged, twice.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import time
from collections.abc import AsyncIterable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from services.db import private_dir
from services.projector.readmodels import ReadModel
from services.settings import PeerEntry, Settings

log = logging.getLogger(__name__)
REQUEST_HEADER = "X-Salesledger-Peer"
RESPONSE_HEADER = "X-Salesledger-Peer-Mac"
CLOCK_SKEW = 300.0
"""Seconds a signed request stays valid either side of the answering worker's clock."""
_SIGNED = re.compile(r"t=(?P<t>\d{1,12});n=(?P<n>[0-9a-f]{32});m=(?P<m>[0-9a-f]{64})")
_refused_urls: set[str] = set()
"""Announced peer URLs already logged as not allowed (each is logged once per process)."""


# --- which URLs ----------------------------------------------------------------------------


def url_origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of a worker's base URL, or None if it is anything else (user info,
    a path, a query, another scheme)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    return scheme, parts.hostname.lower(), port if port is not None else (443 if scheme == "https" else 80)


def allowed(url: str, allowlist: Iterable[PeerEntry]) -> bool:
    """Whether ``url`` is a worker base URL that an entry of ``SALESLEDGER_PEER_URLS`` allows."""
    origin = url_origin(url)
    if origin is None:
        return False
    scheme, host, port = origin
    return any(
        (want_scheme is None or want_scheme == scheme) and want_host == host and want_port in (None, port)
        for want_scheme, want_host, want_port in allowlist
    )


def chosen_peers(
    directory: Mapping[str, Iterable[Any]], own_url: str, allowlist: Iterable[PeerEntry], partitions: int
) -> list[tuple[str, frozenset[int]]]:
    """The peers to ask, in URL order, each with the partitions the directory says it owns (ints
    below ``partitions``): never this worker, never a URL the allowlist refuses (logged once), never
    a member owning nothing, and at most ``partitions`` of them."""
    entries, chosen = tuple(allowlist), []
    for url in sorted(directory):
        if url == own_url:
            continue
        if not allowed(url, entries):
            if url not in _refused_urls:
                _refused_urls.add(url)
                log.warning(
                    "ignoring peer %r announced in the projector group: not allowed by SALESLEDGER_PEER_URLS",
                    url[:200],
                )
            continue
        claims = frozenset(
            p
            for p in directory[url]
            if type(p) is int and 0 <= p < partitions  # a bool is not a partition
        )
        if claims:
            chosen.append((url, claims))
    return chosen[:partitions]


# --- who is asking, who answers ------------------------------------------------------------


LOCAL_SECRET = "peer.secret"


def local_secret(data_dir: Path) -> bytes | None:
    """This machine's peer secret in ``data_dir`` (made once, 0600, 32 random bytes as hex)."""
    path = data_dir / LOCAL_SECRET
    try:
        if not path.exists():
            private_dir(data_dir)
            made = secrets.token_hex(32).encode()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(made)
        secret = path.read_bytes().strip()
    except FileExistsError:  # made by another process at the same moment: read theirs
        secret = path.read_bytes().strip()
    except OSError as error:
        log.warning("no peer secret set and %s cannot be made: %s", path, error.strerror)
        return None
    return secret or None


class PeerAuth:
    """Signs and checks requests and answers between workers with their shared secret."""

    def __init__(self, secret: bytes) -> None:
        self._key = hashlib.sha256(b"salesledger-peer\n" + secret).digest()

    def __repr__(self) -> str:
        return "PeerAuth(***)"

    @classmethod
    def of(cls, settings: Settings) -> PeerAuth | None:
        """The settings' shared secret or, when none is set, this machine's: kept in
        ``<data_dir>/peer.secret`` (created 0600 on first use), so the processes that share a data
        directory (a worker and the audit commands on one machine, `make run`) trust each other
        with no set-up, and workers on several machines set one `SALESLEDGER_PEER_SECRET`. None
        only when that file cannot be made."""
        secret = settings.peer_secret
        if secret is not None:
            return cls(secret.get_secret_value().encode())
        local = local_secret(settings.data_dir)
        return None if local is None else cls(local)

    def _mac(self, *parts: bytes) -> str:
        return hmac.new(self._key, b"\n".join(parts), hashlib.sha256).hexdigest()

    def sign_request(self, method: str, path: str, now: float | None = None) -> tuple[str, str]:
        """(the request header's value, its nonce) for ``method path``."""
        stamp, nonce = str(int(time.time() if now is None else now)), secrets.token_hex(16)
        mac = self._mac(b"request", method.encode(), path.encode(), stamp.encode(), nonce.encode())
        return f"t={stamp};n={nonce};m={mac}", nonce

    def check_request(self, method: str, path: str, header: str, now: float | None = None) -> str | None:
        """The nonce of a correctly signed, recent request; None for any other."""
        signed = _SIGNED.fullmatch(header.strip())
        if signed is None:
            return None
        stamp, nonce = signed["t"], signed["n"]
        if abs((time.time() if now is None else now) - int(stamp)) > CLOCK_SKEW:
            return None
        mac = self._mac(b"request", method.encode(), path.encode(), stamp.encode(), nonce.encode())
        return nonce if hmac.compare_digest(mac, signed["m"]) else None

    def sign_answer(self, nonce: str, body: bytes) -> str:
        return self._mac(b"answer", nonce.encode(), body)

    def check_answer(self, nonce: str, body: bytes, mac: str) -> bool:
        return hmac.compare_digest(self.sign_answer(nonce, body), mac.strip())


# --- how much is read ----------------------------------------------------------------------


class TooLarge(Exception):
    """An answer longer than the body cap."""


async def read_capped(chunks: AsyncIterable[bytes], limit: int, declared: int | None = None) -> bytes:
    """The whole body from ``chunks``, raising `TooLarge` as soon as it (or its declared length)
    passes ``limit`` bytes: never more than ``limit`` plus one chunk is held."""
    if declared is not None and declared > limit:
        raise TooLarge(f"{declared} bytes declared, more than the {limit} allowed")
    held, size = [], 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"more than the {limit} bytes allowed")
        held.append(chunk)
    return b"".join(held)


# --- what is merged ------------------------------------------------------------------------


class Malformed(ValueError):
    """A partials answer that is not what a worker serves."""


@dataclass(frozen=True)
class Answer:
    """A partials answer checked against its read model."""

    partials: list[tuple[int, str, Any, Any]]
    """(source partition, key, stored partial as loaded JSON ``[offset, state]``, decoded state)."""
    partitions: frozenset[int]


def validated(body: bytes, model: ReadModel, partitions: int) -> Answer:
    """The answer ``body`` of read model ``model``; raises `Malformed` unless it is a JSON object
    ``{"partials": [[partition, key, [offset, state]], ...], "partitions": [...]}`` whose partitions
    are distinct ints below ``partitions``, whose partials' partitions are among them, and whose
    every partial decodes with ``model.loaded``."""
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Malformed(f"not JSON: {exc}") from None
    if not isinstance(answer, dict) or not isinstance(answer.get("partials"), list):
        raise Malformed("not an object with a list of partials")
    covered = answer.get("partitions")
    if not isinstance(covered, list) or not all(_partition(p, partitions) for p in covered):
        raise Malformed(f"partitions are not a list of ints below {partitions}")
    if len(set(covered)) != len(covered):
        raise Malformed("a partition is listed twice")
    covers, partials = frozenset(covered), []
    for item in answer["partials"]:
        if not (isinstance(item, list) and len(item) == 3):
            raise Malformed("a partial is not [partition, key, [offset, state]]")
        partition, key, stored = item
        if not _partition(partition, partitions) or partition not in covers:
            raise Malformed(f"a partial of partition {partition!r}, not one the answer covers")
        if not isinstance(key, str) or not isinstance(stored, list) or len(stored) != 2:
            raise Malformed("a partial is not [partition, key, [offset, state]]")
        if type(stored[0]) is not int:
            raise Malformed(f"a partial of {key[:80]!r} has no offset")
        try:
            state = model.loaded(key, stored).state
        except Exception as exc:  # any failure of the model's own decoder: the partial is malformed
            raise Malformed(f"a partial of {key[:80]!r} does not decode: {type(exc).__name__}") from None
        partials.append((partition, key, stored, state))
    return Answer(partials, covers)


def _partition(value: Any, partitions: int) -> bool:
    return type(value) is int and 0 <= value < partitions  # a bool is not a partition


def taken(answer: Answer, claims: Iterable[int], covered: set[int]) -> Answer:
    """What of ``answer`` is merged: the partitions it covers that its peer ``claims`` (owns in the
    directory) and that are not ``covered`` yet (which it adds to ``covered``)."""
    take = (answer.partitions & frozenset(claims)) - covered
    covered |= take
    return Answer([p for p in answer.partials if p[0] in take], frozenset(take))


def merged(
    model: ReadModel, bodies: Iterable[tuple[str, frozenset[int], bytes]], partitions: int, covered: set[int]
) -> list[Answer]:
    """Of each (worker, partitions it owns, body), in order, what is merged (`validated`, `taken`);
    a malformed body is logged and dropped: that worker counts as not answered. ``covered`` starts
    with the partitions merged already and ends with all of them."""
    out = []
    for who, claims, body in bodies:
        try:
            answer = validated(body, model, partitions)
        except Malformed as exc:
            log.warning("dropped the %s partials of %s: %s", model.name, who, exc)
            continue
        out.append(taken(answer, claims, covered))
    return out
