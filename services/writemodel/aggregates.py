"""Aggregates of the write model: thin eventsourcing shells around pure process state.

`Ledger` is one aggregate per (kind, key): the lead ``lead-7``, the deal ``deal-3``, ... Its state
is the JSON-safe dict the pure process functions return, stored *in* each event (the state after
it), so replaying history never re-runs rules that may have been reconfigured since: what was
decided stays decided. Each recorded event carries the hash of its predecessor in the aggregate,
forming a chain an auditor can verify from the Kafka log alone.

`EventKey` makes an event id unique per source: its id is derived from ``source`` + ``id``, so two
writers of the same event collide on the database's uniqueness of (originator id, version).
"""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

NAMESPACE = uuid5(NAMESPACE_URL, "https://salesledger.dev/aggregates")
GENESIS = "0" * 64


def chain_hash(prev_hash: str, event_key: str, envelope: str) -> str:
    """The hash linking an event to its predecessor: sha256(prev | key | canonical JSON)."""
    return hashlib.sha256(f"{prev_hash}\n{event_key}\n{envelope}".encode()).hexdigest()


class Ledger(Aggregate):
    """The recorded history of one lead, deal, customer, rep, plan, quota, ..."""

    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        self.state: dict[str, Any] | None = None
        self.head = GENESIS

    @staticmethod
    def create_id(kind: str, key: str) -> UUID:
        return uuid5(NAMESPACE, f"{kind}:{key}")

    class Recorded(Aggregate.Event):
        """A catalogue event accepted into this aggregate (relayed to Kafka)."""

        event_key: str
        partition_key: str
        envelope: str
        prev_hash: str
        hash: str
        state: dict[str, Any]

        def apply(self, aggregate: Ledger) -> None:
            aggregate.state = self.state
            aggregate.head = self.hash

    class Affected(Aggregate.Event):
        """The effect on this aggregate of an event recorded in another (e.g. a deal opened by
        `LeadQualified`); internal to the write model, never relayed."""

        cause: str
        state: dict[str, Any]

        def apply(self, aggregate: Ledger) -> None:
            aggregate.state = self.state

    def record(self, event_key: str, partition_key: str, envelope: str, state: dict[str, Any]) -> str:
        """Append an accepted event with its resulting state; returns its chain hash."""
        digest = chain_hash(self.head, event_key, envelope)
        self.trigger_event(
            self.Recorded,
            event_key=event_key,
            partition_key=partition_key,
            envelope=envelope,
            prev_hash=self.head,
            hash=digest,
            state=state,
        )
        return digest

    def affect(self, cause: str, state: dict[str, Any]) -> None:
        self.trigger_event(self.Affected, cause=cause, state=state)


class EventKey(Aggregate):
    """Uniqueness of an event's (source, id), with the content fingerprint to tell repeats apart."""

    def __init__(self, event_key: str, fingerprint: str, ledger_id: UUID) -> None:
        self.event_key = event_key
        self.fingerprint = fingerprint
        self.ledger_id = ledger_id

    @staticmethod
    def create_id(event_key: str, fingerprint: str, ledger_id: UUID) -> UUID:
        return key_id(event_key)


IDENTITY_ID = uuid5(NAMESPACE, "identity")


class StoreIdentity(Aggregate):
    """Random identity of this event store, stamped on relayed records (one store feeds one log)."""

    def __init__(self, token: str) -> None:
        self.token = token

    @staticmethod
    def create_id(token: str) -> UUID:
        return IDENTITY_ID


def key_id(event_key: str) -> UUID:
    return uuid5(NAMESPACE, f"event:{event_key}")
