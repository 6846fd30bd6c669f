"""The log against the store, event by event: is everything recorded on the log, and only that?

The store is the source of truth and the log its copy, so each side can prove the other incomplete
where a chain alone cannot (its last event going, or a whole aggregate). Events are matched by
their CloudEvents ``source`` and ``id`` (the write model's idempotency key):

* **missing**: in the store at or before the relay's saved position but not on the log (the relay
  saves a position only after Kafka acknowledged everything up to it), or on the log but not in
  the store.
* **pending** (harmless): in the store after the relay's position and not yet on the log: lag.
* **altered**: on both sides, with a different hash or content; the chain findings say which
  side's copy no longer proves itself.

Records whose content is not an event have no id to match by; the chain check reports them.
"""

from __future__ import annotations

from collections.abc import Iterable

from services.audit.chain import Link, describe
from services.audit.findings import Finding, Kind


def cross_check(log: Iterable[Link], store: Iterable[Link], relayed_up_to: int) -> list[Finding]:
    """Findings of comparing the two sources; `relayed_up_to` is the relay's saved store sequence."""
    on_log = _by_event(log)
    in_store = _by_event(store)
    found: list[Finding] = []
    for event_key, kept in in_store.items():
        copy = on_log.get(event_key)
        if copy is None:
            relayed = kept.position.offset <= relayed_up_to
            found.append(
                _finding(
                    Kind.MISSING if relayed else Kind.PENDING,
                    kept,
                    expected="on the log",
                    actual="absent from the log",
                    detail=f"in the store at {kept.position}, "
                    + (
                        f"relayed (the relay is at seq {relayed_up_to}) but not on the log"
                        if relayed
                        else f"not relayed yet (the relay is at seq {relayed_up_to})"
                    ),
                )
            )
        elif (copy.hash, copy.content) != (kept.hash, kept.content):
            what = "content" if copy.hash == kept.hash else "hash"
            found.append(
                _finding(
                    Kind.ALTERED,
                    copy,
                    expected=kept.hash,
                    actual=copy.hash,
                    detail=f"the log's copy at {copy.position} and the store's at {kept.position} differ "
                    f"in {what}",
                )
            )
    for event_key, copy in on_log.items():
        if event_key not in in_store:
            found.append(
                _finding(
                    Kind.MISSING,
                    copy,
                    expected="in the store",
                    actual="absent from the store",
                    detail=f"on the log at {copy.position}, not in the store",
                )
            )
    return sorted(found, key=lambda f: (f.position.partition is None, f.position.sort_key))


def _by_event(links: Iterable[Link]) -> dict[str, Link]:
    """The first record of each event (later ones are the chain check's duplicates)."""
    first: dict[str, Link] = {}
    for link in sorted(links, key=lambda link: link.position.sort_key):
        if link.event_key is not None:
            first.setdefault(link.event_key, link)
    return first


def _finding(kind: Kind, link: Link, expected: str, actual: str, detail: str) -> Finding:
    return Finding(
        kind,
        "both",
        link.position,
        link.aggregate,
        link.key,
        describe(link.event_key),
        expected,
        actual,
        detail,
    )
