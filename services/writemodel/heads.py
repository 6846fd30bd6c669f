"""What the writer needs to know of a ledger to decide its next event: its head.

Deciding an event needs only the aggregate's current state, its version (where the next event
goes) and its chain hash (what the next event links to). The eventsourcing aggregate object
carries the same three things plus its machinery (pending events, runtime-protocol checks when
they are collected, a copy per cache hit), which cost the writer about half its time per event
(docs/performance.md, "The write model without aggregate objects"). So the writer keeps heads,
immutable values, in a bounded least-recently-used cache of its own, and builds the domain events
itself; a batch works on its own copies and only a committed batch changes the cache, so a batch
that fails leaves nothing half-applied behind.

A head can go stale when another process writes the same aggregate: the next save then collides
on the store's uniqueness of (originator id, version), and the batch is redone with fresh heads.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from services.writemodel.aggregates import GENESIS


@dataclass(frozen=True, slots=True)
class Head:
    """A ledger as its next event sees it; ``version`` 0 means not recorded yet."""

    kind: str
    key: str
    version: int
    state: dict[str, Any] | None
    hash: str

    @classmethod
    def new(cls, kind: str, key: str) -> Head:
        return cls(kind, key, 0, None, GENESIS)


class HeadCache:
    """At most ``maxsize`` heads, the least recently used dropped first (``maxsize`` 0: none kept).

    ``complete`` says the cache holds every ledger the store has: true for a writer that opened an
    empty store (a new deployment, a backfill) until the cache first drops or evicts a head. A
    writer with a complete cache takes a miss for a new ledger without asking the store (one
    query per new lead, deal or rep saved). The bet is safe: were the ledger in the store after
    all (another writer created it), the batch's first event for it, at version 1, collides with
    the stored one, the batch is refused whole, and `evict` ends the bet for good.
    """

    def __init__(self, maxsize: int, complete: bool = False) -> None:
        self.maxsize = maxsize
        self.complete = complete and maxsize > 0
        self._heads: OrderedDict[UUID, Head] = OrderedDict()

    def __len__(self) -> int:
        return len(self._heads)

    def get(self, ledger_id: UUID) -> Head | None:
        head = self._heads.get(ledger_id)
        if head is not None:
            self._heads.move_to_end(ledger_id)
        return head

    def update(self, heads: Mapping[UUID, Head]) -> None:
        """Keep the heads a committed batch produced."""
        if self.maxsize <= 0:
            return
        for ledger_id, head in heads.items():
            self._heads[ledger_id] = head
            self._heads.move_to_end(ledger_id)
        while len(self._heads) > self.maxsize:
            self._heads.popitem(last=False)
            self.complete = False

    def evict(self, ledger_ids: Iterable[UUID]) -> None:
        """Forget heads another writer may have moved on (so there is another writer: the cache
        is no longer known to be complete)."""
        self.complete = False
        for ledger_id in ledger_ids:
            self._heads.pop(ledger_id, None)
