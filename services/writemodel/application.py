"""The write model application: records batches of events through the process rules.

A batch is one database transaction: every event is decided by the pure rules over the heads of
the ledgers it changes (kept in a cache, `services.writemodel.heads`), and the domain events of
the accepted ones are written together, in event order, through the library's event store
(`services.writemodel.batch`). Idempotency is the store's own uniqueness inside that transaction:
a repeat makes the database refuse the batch, which is then redone with look-ups, reporting each
repeat as a duplicate (same content) or a conflict (different content). The same path resolves
two workers changing one ledger at once (optimistic concurrency on aggregate versions).

The library's aggregate objects are still what reads a ledger back (`Repository.get`, with its
snapshots, on a cache miss) and what takes snapshots; the hot path only skips building one per
event.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import datetime_now_with_tzinfo
from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.utils import get_topic

from events import Envelope
from sales.process import ProcessConfig
from sales.routing import targets
from services.writemodel.aggregates import IDENTITY_ID, EventKey, Ledger, StoreIdentity, key_id
from services.writemodel.batch import BatchDecision, ledger_id
from services.writemodel.heads import Head, HeadCache
from services.writemodel.intake import intake_rows
from services.writemodel.outcomes import Appended, IntakeRow

log = logging.getLogger(__name__)
RECORDED_TOPIC = get_topic(Ledger.Recorded)
LEDGER_TOPICS = [get_topic(kind) for kind in (Ledger.Created, Ledger.Recorded, Ledger.Affected)]
MAX_ATTEMPTS = 5
HEAD_CACHE_SIZE = "HEAD_CACHE_MAXSIZE"
"""The environment key of how many ledger heads the writer keeps (`services.writemodel.heads`)."""
DEFAULT_HEAD_CACHE = 10_000
SNAPSHOT_INTERVAL = 100


class WriteModel(Application[UUID]):
    snapshotting_intervals = {Ledger: SNAPSHOT_INTERVAL}

    def __init__(self, process: ProcessConfig, env: Mapping[str, str]) -> None:
        super().__init__(env=env)
        self.process = process
        self.tracking = self.factory.tracking_recorder()
        empty = not self.recorder.select_notifications(start=0, limit=1, topics=LEDGER_TOPICS)
        self.heads = HeadCache(int(env.get(HEAD_CACHE_SIZE, DEFAULT_HEAD_CACHE)), complete=empty)
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
        raise AssertionError("unreachable")

    def _record_batch(self, events: Sequence[Envelope], check_keys: bool) -> list[Appended]:
        decision = BatchDecision(
            self.process, self._head, self._stored_fingerprint, check_keys, datetime_now_with_tzinfo()
        )
        decided = decision.decide_all(events)
        if decided.pending:
            self.events.put(decided.pending)
            self.heads.update(decided.heads)
            self._take_due_snapshots(decided.pending)
        return decided.results

    def _head(self, ident: UUID, kind: str, key: str) -> Head:
        """The ledger's head: cached, else read back from the store, else a new ledger.

        Every ledger event holds the state after it, and a `Recorded` one its chain hash too, so
        the last event alone is the head (one query, nothing replayed); only a ledger whose last
        event is not its own (a deal opened, not yet moved) is rebuilt by the repository. A miss
        in a complete cache asks nothing."""
        head = self.heads.get(ident)
        if head is not None:
            return head
        if self.heads.complete:  # every stored ledger is cached: this one is new (`HeadCache`)
            return Head.new(kind, key)
        last = self.recorder.select_events(ident, desc=True, limit=1)
        if not last:
            return Head.new(kind, key)
        event: Any = self.mapper.to_domain_event(last[0])
        if isinstance(event, Ledger.Recorded):
            return Head(kind, key, event.originator_version, event.state, event.hash)
        try:
            ledger: Ledger = self.repository.get(ident)
        except AggregateNotFoundError:
            return Head.new(kind, key)
        return Head(kind, key, ledger.version, ledger.state, ledger.head)

    def _take_due_snapshots(self, pending: Sequence[Any]) -> None:
        """A snapshot at every hundredth version of a ledger, as the library's `save` takes them
        (after the events' transaction: a snapshot is a cache, never the truth)."""
        due = {
            (event.originator_id, event.originator_version)
            for event in pending
            if event.originator_version % SNAPSHOT_INTERVAL == 0 and not isinstance(event, EventKey.Created)
        }
        for ident, version in sorted(due, key=lambda pair: pair[1]):
            try:
                self.take_snapshot(ident, version=version)
            except Exception:  # a missing snapshot only makes the next reload slower
                log.exception("snapshot of %s at version %s failed", ident, version)

    def _stored_fingerprint(self, ekey: str) -> str | None:
        stored = self.recorder.select_events(key_id(ekey), limit=1)
        if not stored:
            return None
        created: Any = self.mapper.to_domain_event(stored[0])
        return str(created.fingerprint)

    def _evict(self, events: Sequence[Envelope]) -> None:
        """Forget the heads a failed batch touched: another writer may have moved them."""
        self.heads.evict(ledger_id(*target) for event in events for target in targets(event))

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
        return intake_rows(notifications, self.mapper)

    def position(self, name: str) -> int:
        return self.tracking.max_tracking_id(name) or 0

    def save_position(self, name: str, seq: int) -> None:
        if seq > self.position(name):
            with contextlib.suppress(IntegrityError):  # saved concurrently: positions only move forward
                self.tracking.insert_tracking(Tracking(application_name=name, notification_id=seq))

    def last_seq(self) -> int:
        return self.recorder.max_notification_id() or 0
