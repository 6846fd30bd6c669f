"""The write side as the gate and the ingestor use it: record a batch, then wake the outbox relay.

`WriteModel.record` blocks on the database, so it runs in a thread; one writer per process (the
database serialises writers across processes).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence

from events import Envelope
from services.writemodel.application import WriteModel
from services.writemodel.outcomes import Appended

log = logging.getLogger(__name__)


class Recorder:
    """Records batches durably in the write model and tells the relay there is more to send."""

    def __init__(self, model: WriteModel, recorded: Callable[[], None] = lambda: None) -> None:
        self.model = model
        self._recorded = recorded
        self._writing = threading.Lock()

    async def append(self, events: Sequence[Envelope]) -> list[Appended]:
        """Record a batch durably (in a thread: the database blocks) and wake the relay."""
        results = await asyncio.to_thread(self._record, events)
        self._recorded()
        return results

    def _record(self, events: Sequence[Envelope]) -> list[Appended]:
        with self._writing:
            return self.model.record(events)

    async def append_until_stored(self, events: Sequence[Envelope]) -> list[Appended]:
        """As `append`, retrying a failing store instead of losing the batch (blocks the partition)."""
        delay = 0.1
        while True:
            try:
                return await self.append(events)
            except Exception:
                log.exception("write model failed; retrying in %.1fs", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
