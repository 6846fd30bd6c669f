"""One batch decided: each event's outcome, and the domain events that record the accepted ones.

The rules are the pure ones of `sales.routing` over the ledgers' heads (`services.writemodel.heads`);
this module builds the same domain events the `Ledger` and `EventKey` aggregates would have
triggered (so the store, the relay, the drill-down history and the audit read them unchanged),
without aggregate objects. They are written in event order, all in one transaction, by
`WriteModel` through the event store (`eventsourcing.persistence.EventStore.put`).

Idempotency is a unique key in the same transaction: the `EventKey` "created" event of an accepted
event has the originator id derived from ``source`` + ``id`` and version 1, so the store's
uniqueness of (originator id, version) refuses a repeat recorded by an earlier batch or by
another writer, and the whole batch with it (`eventsourcing.persistence.IntegrityError`). The
batch is then decided again with look-ups (``check_keys``), which report each repeat as a
duplicate (same content) or a conflict (different content). No look-up is made on the fast path
except when a rule refuses an event: a repeat usually breaks a rule (a lead captured twice), and
the answer to a repeat must be "duplicate", as it always was.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEvent
from eventsourcing.utils import get_topic

from events import Envelope, serialize_event
from sales.process import ProcessConfig
from sales.routing import Aggregate, apply_event, targets
from sales.rules import RuleViolation
from services.writemodel.aggregates import EventKey, Ledger, chain_hash, key_id
from services.writemodel.heads import Head
from services.writemodel.outcomes import Appended, Outcome, event_key, fingerprint

LEDGER_TOPIC = get_topic(Ledger)
EVENT_KEY_TOPIC = get_topic(EventKey)

HeadLoader = Callable[[UUID, str, str], Head]
"""The stored head of a ledger (by id, kind and key); `Head.new` when it was never recorded."""
Fingerprints = Callable[[str], str | None]
"""The stored fingerprint of an event key, or None when no event has that key."""


@functools.lru_cache(maxsize=65_536)
def ledger_id(kind: str, key: str) -> UUID:
    """`Ledger.create_id`, remembered: a hot lead's id is derived once, not once per event."""
    return Ledger.create_id(kind, key)


@dataclass
class Decided:
    """A batch decided: outcomes in order, domain events to write, and the heads they lead to."""

    results: list[Appended] = field(default_factory=list)
    pending: list[DomainEvent] = field(default_factory=list)
    heads: dict[UUID, Head] = field(default_factory=dict)


@dataclass
class BatchDecision:
    """Decides the events of one batch in order against the heads, as one transaction will write them."""

    process: ProcessConfig
    load: HeadLoader
    stored_fingerprint: Fingerprints
    check_keys: bool
    now: datetime
    decided: Decided = field(default_factory=Decided)
    _keys: dict[str, str] = field(default_factory=dict)

    def decide_all(self, events: Sequence[Envelope]) -> Decided:
        for event in events:
            self.decided.results.append(self._decide(event))
        return self.decided

    def _decide(self, event: Envelope) -> Appended:
        ekey, print_ = event_key(event), fingerprint(event)
        seen = self._keys.get(ekey) or (self.stored_fingerprint(ekey) if self.check_keys else None)
        if seen is not None:
            return Appended(event.id, Outcome.DUPLICATE if seen == print_ else Outcome.CONFLICT)
        try:
            own = self._record(event, ekey)
        except RuleViolation as violation:
            stored = None if self.check_keys else self.stored_fingerprint(ekey)
            if stored is not None:
                return Appended(event.id, Outcome.DUPLICATE if stored == print_ else Outcome.CONFLICT)
            return Appended(event.id, Outcome.VIOLATION, violation.rule, violation.message)
        self._keys[ekey] = print_
        self.decided.pending.append(
            EventKey.Created(  # type: ignore[call-arg]  # fields come from EventKey.__init__
                originator_id=key_id(ekey),
                originator_version=1,
                timestamp=self.now,
                originator_topic=EVENT_KEY_TOPIC,
                event_key=ekey,
                fingerprint=print_,
                ledger_id=own,
            )
        )
        return Appended(event.id, Outcome.ACCEPTED)

    def _head(self, target: Aggregate) -> tuple[UUID, Head]:
        ident = ledger_id(*target)
        head = self.decided.heads.get(ident)
        return ident, head if head is not None else self.load(ident, *target)

    def _record(self, event: Envelope, ekey: str) -> UUID:
        """Decide on every ledger the event changes (all or nothing), then record it in its own
        ledger and its effect in those it opens (a deal opened by `LeadQualified`)."""
        own, *others = targets(event)
        heads = {target: self._head(target) for target in (own, *others)}
        states = apply_event(event, {target: head.state for target, (_, head) in heads.items()}, self.process)
        own_id, own_head = heads[own]
        envelope = serialize_event(event).decode()
        digest = chain_hash(own_head.hash, ekey, envelope)
        fields: dict[str, Any] = {
            "event_key": ekey,
            "partition_key": event.partition_key,
            "envelope": envelope,
            "prev_hash": own_head.hash,
            "hash": digest,
            "state": states[own],
        }
        self._append(own_id, own_head, Ledger.Recorded, fields, digest)
        for target in others:
            ident, head = heads[target]
            self._append(ident, head, Ledger.Affected, {"cause": ekey, "state": states[target]}, head.hash)
        return own_id

    def _append(
        self, ident: UUID, head: Head, kind: type[DomainEvent], fields: dict[str, Any], digest: str
    ) -> None:
        version = head.version
        if version == 0:
            version = 1
            self.decided.pending.append(
                Ledger.Created(  # type: ignore[call-arg]  # fields come from Ledger.__init__
                    originator_id=ident,
                    originator_version=version,
                    timestamp=self.now,
                    originator_topic=LEDGER_TOPIC,
                    kind=head.kind,
                    key=head.key,
                )
            )
        version += 1
        self.decided.pending.append(
            kind(originator_id=ident, originator_version=version, timestamp=self.now, **fields)
        )
        self.decided.heads[ident] = Head(head.kind, head.key, version, fields["state"], digest)
