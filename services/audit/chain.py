"""The hash-chain check: does every aggregate's recorded history still prove itself?

Each recorded event carries ``prev_hash`` (its predecessor's hash in the aggregate, ``GENESIS``
for the first) and ``hash`` = sha256(prev_hash, the event key ``source\\nid``, the envelope's
canonical JSON), computed by the write model (`services.writemodel.aggregates.chain_hash`). The
relay sends that JSON byte for byte as the Kafka record's value with both hashes and the aggregate
id as headers, so the same check runs over the log and over the store. The event key is read back
from the envelope itself (its ``source`` and ``id``), because that is what the hash binds.

Records are judged per aggregate in their source's order (Kafka: partition, then offset, the
order consumers see; the store: notification sequence). The findings, one per record and kind:

* **altered**: the record's content does not hash to the hash it carries (or it carries none, or
  its content is not an event). The chain still follows the hash it claims, so an edit that kept
  the hashes is reported once, where it happened.
* **missing**: its ``prev_hash`` is neither ``GENESIS`` nor the hash of any record of the
  aggregate: the event before it is gone (reported on the event after the gap). An event altered
  *and* re-hashed shows this way too (the original is gone), and so does any event after one whose
  hash header was edited. A chain cannot see its own last event go: the cross-check can
  (`services.audit.crosscheck`).
* **reordered**: its ``prev_hash`` is the hash of a record that comes *later* in the source.
* **duplicated**: a record, different from every earlier one, that claims a place already taken
  (the same ``prev_hash`` as an earlier record of the aggregate: a fork) or an event already
  recorded (the same source and id). In the store an exact copy is duplicated too.
* **republished** (harmless, Kafka only): an exact copy (aggregate, hashes and content) of an
  earlier record. The relay is at-least-once towards Kafka and may resend after a crash; consumers
  drop the copy by event id. The copy is left out of the chain, so it hides nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from services.audit.findings import Finding, Kind, Position, Source
from services.writemodel.aggregates import GENESIS, chain_hash


@dataclass(frozen=True, slots=True)
class ChainRecord:
    """One recorded event as a source holds it: the bytes the hash covers, and the hashes it claims."""

    position: Position
    aggregate: str
    key: str
    envelope: str
    prev_hash: str
    hash: str
    problem: str = ""
    """Why the source could not read the record (then the other fields are what it could read)."""


@dataclass(frozen=True, slots=True)
class Link:
    """A record once hashed: its envelope is dropped, so a long log is judged in little memory."""

    position: Position
    aggregate: str
    key: str
    event_key: str | None
    """``source\\nid`` read from the envelope; None when the envelope is not an event."""
    prev_hash: str
    hash: str
    recomputed: str | None
    """The hash the content really has after ``prev_hash``; None when it cannot be computed."""
    content: str
    """sha256 of the envelope, to tell an exact copy from a different event."""
    problem: str = ""


def event_key_of(envelope: str) -> str | None:
    """The write model's idempotency key (``source\\nid``) of an envelope, or None if it has none."""
    try:
        document = json.loads(envelope)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    source, event_id = document.get("source"), document.get("id")
    if not isinstance(source, str) or not isinstance(event_id, str):
        return None
    return f"{source}\n{event_id}"


def describe(event_key: str | None) -> str:
    """``<id> from <source>``: how a person names a CloudEvent."""
    if event_key is None:
        return ""
    source, _, event_id = event_key.partition("\n")
    return f"{event_id} from {source}"


def seal(record: ChainRecord) -> Link:
    """Recompute a record's hash from its content and keep only what the checks compare."""
    event_key = event_key_of(record.envelope)
    recomputed = (
        chain_hash(record.prev_hash, event_key, record.envelope)
        if event_key is not None and record.prev_hash
        else None
    )
    return Link(
        position=record.position,
        aggregate=record.aggregate,
        key=record.key,
        event_key=event_key,
        prev_hash=record.prev_hash,
        hash=record.hash,
        recomputed=recomputed,
        content=hashlib.sha256(record.envelope.encode()).hexdigest(),
        problem=record.problem,
    )


def verify_chain(records: Iterable[ChainRecord], source: Source, *, at_least_once: bool) -> list[Finding]:
    """Every finding over `records` (see the module docstring), in source order."""
    return check_links((seal(record) for record in records), source, at_least_once=at_least_once)


Reporter = Callable[[Link, Kind, str, str, str], None]


def check_links(links: Iterable[Link], source: Source, *, at_least_once: bool) -> list[Finding]:
    """As `verify_chain`, over records already sealed.

    `at_least_once` says the source may legitimately hold exact copies (Kafka, written by the
    relay): they are then republished, not duplicated.
    """
    found: dict[tuple[Position, Kind], Finding] = {}

    def report(link: Link, kind: Kind, expected: str, actual: str, detail: str) -> None:
        finding = Finding(
            kind,
            source,
            link.position,
            link.aggregate,
            link.key,
            describe(link.event_key),
            expected,
            actual,
            detail,
        )
        found.setdefault((link.position, kind), finding)  # one finding per record and kind

    chains: dict[str, list[Link]] = {}
    copies: dict[tuple[str, str, str, str], Link] = {}
    events: dict[str, Link] = {}
    for link in sorted(links, key=lambda link: link.position.sort_key):
        original = copies.setdefault((link.aggregate, link.prev_hash, link.hash, link.content), link)
        if original is not link:
            kind = Kind.REPUBLISHED if at_least_once else Kind.DUPLICATED
            why = "the relay's at-least-once resend" if at_least_once else "a store holds each event once"
            report(
                link,
                kind,
                str(original.position),
                str(link.position),
                f"an exact copy of an earlier record ({why})",
            )
            continue
        if link.recomputed is None or link.recomputed != link.hash:
            report(link, Kind.ALTERED, link.recomputed or "", link.hash, _why_altered(link))
        if link.event_key is not None:
            first = events.setdefault(link.event_key, link)
            if first is not link:
                detail = "the same event id is already recorded, with other content"
                report(link, Kind.DUPLICATED, str(first.position), str(link.position), detail)
        chains.setdefault(link.aggregate, []).append(link)
    for chain in chains.values():
        _check_links_of_one_aggregate(chain, report)
    order = list(Kind)
    return sorted(found.values(), key=lambda f: (f.position.sort_key, order.index(f.kind)))


def _why_altered(link: Link) -> str:
    if link.problem:
        return link.problem
    if not link.prev_hash or not link.hash:
        return "it carries no chain hash"
    if link.event_key is None:
        return "its content is not an event (no JSON source and id)"
    return "its content does not hash to the hash it carries"


def _check_links_of_one_aggregate(chain: list[Link], report: Reporter) -> None:
    """Places in one aggregate: forks (duplicated), gaps (missing), predecessors after (reordered)."""
    index: dict[str, int] = {}
    for i, link in enumerate(chain):
        index.setdefault(link.hash, i)
    claims: dict[str, Link] = {}
    for i, link in enumerate(chain):
        if not link.prev_hash:
            continue  # no place claimed: already reported altered
        holder = claims.setdefault(link.prev_hash, link)
        if holder is not link:
            detail = "claims the place in its aggregate of an earlier event (a fork)"
            report(link, Kind.DUPLICATED, str(holder.position), str(link.position), detail)
        if link.prev_hash == GENESIS:
            continue
        before = index.get(link.prev_hash)
        if before is None or before == i:
            detail = "the event before it in its aggregate is not in this source (a gap)"
            report(link, Kind.MISSING, f"an event with hash {link.prev_hash}", "none", detail)
        elif before > i:
            detail = "the event before it in its aggregate comes later"
            report(link, Kind.REORDERED, f"after {chain[before].position}", str(link.position), detail)
