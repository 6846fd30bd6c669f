"""The write model application: records batches of events through the process rules.

A batch is one database transaction: aggregates are loaded once (and kept in a cache), every
event is decided by the pure rules and recorded, and all changed aggregates are saved together.
The fast path does not look up event ids: the uniqueness of `EventKey` aggregates makes the
database refuse a repeat, and only then is the batch redone with look-ups, reporting each repeat
as a duplicate (same content) or a conflict (different content). The same path resolves two
workers changing one aggregate at once (optimistic concurrency on aggregate versions).
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import IntegrityError, Recording, Tracking
from eventsourcing.utils import get_topic

from events import Envelope, serialize_event
from sales.process import ProcessConfig
from sales.routing import apply_event, targets
from sales.rules import RuleViolation
from services.writemodel.aggregates import IDENTITY_ID, EventKey, Ledger, StoreIdentity, key_id
from services.writemodel.outcomes import Appended, IntakeRow, Outcome, event_key, fingerprint

log = logging.getLogger(__name__)
RECORDED_TOPIC = get_topic(Ledger.Recorded)
MAX_ATTEMPTS = 5


class WriteModel(Application[UUID]):
    snapshotting_intervals = {Ledger: 100}

    def __init__(self, process: ProcessConfig, env: dict[str, str]) -> None:
        super().__init__(env=env)
        self.process = process
        self.tracking = self.factory.tracking_recorder()
        self.store_id = self._identity()

    # --- commands -----------------------------------------------------------------------------

    def record(self, events: Sequence[Envelope]) -> list[Appended]:
        """Decide and record a batch in one transaction; one outcome per event, in order."""
        check_keys = False
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return self._record_batch(events, check_keys)
            except IntegrityError:
                self._evict(events)
                if attempt == MAX_ATTEMPTS:
                    raise
                log.debug("batch collided (attempt %s); redoing it with look-ups", attempt)
                check_keys = True
            except BaseException:
                self._evict(events)  # cached aggregates are shared, not copies: drop what we touched
                raise
        raise AssertionError("unreachable")

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """As eventsourcing's, but only ledgers enter the aggregate cache: an `EventKey` is never
        loaded again on the fast path, and caching them would push the hot leads and deals out."""
        recordings = self.events.put(
            processing_event.events, tracking=processing_event.tracking, **processing_event.saved_kwargs
        )
        if self.repository.cache is not None:
            for aggregate_id, aggregate in processing_event.aggregates.items():
                if isinstance(aggregate, Ledger):
                    self.repository.cache.put(aggregate_id, aggregate)
        return recordings

    def _record_batch(self, events: Sequence[Envelope], check_keys: bool) -> list[Appended]:
        results: list[Appended] = []
        ledgers: dict[UUID, Ledger] = {}
        keys: dict[str, str] = {}
        new_keys: list[EventKey] = []
        for event in events:
            ekey, print_ = event_key(event), fingerprint(event)
            seen = keys.get(ekey) or (self._stored_fingerprint(ekey) if check_keys else None)
            if seen is not None:
                results.append(Appended(event.id, Outcome.DUPLICATE if seen == print_ else Outcome.CONFLICT))
                continue
            try:
                ledger = self._decide_and_record(event, ekey, ledgers)
            except RuleViolation as violation:
                # A repeat usually breaks a rule too (a lead captured twice): repeats win, so look.
                stored = None if check_keys else self._stored_fingerprint(ekey)
                if stored is not None:
                    results.append(
                        Appended(event.id, Outcome.DUPLICATE if stored == print_ else Outcome.CONFLICT)
                    )
                else:
                    results.append(Appended(event.id, Outcome.VIOLATION, violation.rule, violation.message))
                continue
            keys[ekey] = print_
            new_keys.append(EventKey(event_key=ekey, fingerprint=print_, ledger_id=ledger.id))
            results.append(Appended(event.id, Outcome.ACCEPTED))
        if new_keys:
            self.save(*ledgers.values(), *new_keys)
        return results

    def _decide_and_record(self, event: Envelope, ekey: str, ledgers: dict[UUID, Ledger]) -> Ledger:
        """Decide on every aggregate the event changes (all or nothing), then record it in its own
        aggregate and its effect in those it opens (a deal opened by `LeadQualified`)."""
        own, *others = targets(event)
        loaded = {target: self._ledger(*target, ledgers) for target in (own, *others)}
        states = apply_event(event, {target: ledger.state for target, ledger in loaded.items()}, self.process)
        ledger = loaded[own]
        ledger.record(ekey, event.partition_key, serialize_event(event).decode(), states[own])
        for target in others:
            loaded[target].affect(ekey, states[target])
        return ledger

    def _ledger(self, kind: str, key: str, ledgers: dict[UUID, Ledger]) -> Ledger:
        ledger_id = Ledger.create_id(kind, key)
        if ledger_id not in ledgers:
            try:
                ledgers[ledger_id] = self.repository.get(ledger_id)
            except AggregateNotFoundError:
                ledgers[ledger_id] = Ledger(kind=kind, key=key)
        return ledgers[ledger_id]

    def _stored_fingerprint(self, ekey: str) -> str | None:
        try:
            stored: EventKey = self.repository.get(key_id(ekey))
        except AggregateNotFoundError:
            return None
        return stored.fingerprint

    def _evict(self, events: Sequence[Envelope]) -> None:
        """Forget cached aggregates a failed batch touched: another writer may have moved them."""
        cache = self.repository.cache
        if cache is None:
            return
        for event in events:
            for aggregate_id in (Ledger.create_id(*target) for target in targets(event)):
                with contextlib.suppress(KeyError):
                    cache.get(aggregate_id, evict=True)

    def _identity(self) -> str:
        try:
            return str(self.repository.get(IDENTITY_ID).token)
        except AggregateNotFoundError:
            with contextlib.suppress(IntegrityError):  # another worker created it first
                self.save(StoreIdentity(token=uuid.uuid4().hex))
            return str(self.repository.get(IDENTITY_ID).token)

    # --- the relay's source ---------------------------------------------------------------------

    def read_after(self, seq: int, limit: int) -> list[IntakeRow]:
        """Recorded events after notification `seq`, in order, as the relay sends them."""
        notifications = self.recorder.select_notifications(
            start=seq, limit=limit, topics=[RECORDED_TOPIC], inclusive_of_start=False
        )
        rows = []
        for notification in notifications:
            recorded: Any = self.mapper.to_domain_event(notification)
            headers = (
                ("salesledger.aggregate", str(recorded.originator_id).encode()),
                ("salesledger.version", str(recorded.originator_version).encode()),
                ("salesledger.prevhash", recorded.prev_hash.encode()),
                ("salesledger.hash", recorded.hash.encode()),
            )
            event_id = recorded.event_key.split("\n", 1)[1]
            rows.append(
                IntakeRow(
                    notification.id, event_id, recorded.partition_key, recorded.envelope.encode(), headers
                )
            )
        return rows

    def position(self, name: str) -> int:
        return self.tracking.max_tracking_id(name) or 0

    def save_position(self, name: str, seq: int) -> None:
        if seq > self.position(name):
            with contextlib.suppress(IntegrityError):  # saved concurrently: positions only move forward
                self.tracking.insert_tracking(Tracking(application_name=name, notification_id=seq))

    def last_seq(self) -> int:
        return self.recorder.max_notification_id() or 0
