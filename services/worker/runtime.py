"""The worker's own dependencies, built once from settings: intake store, API keys, relay."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from events import Envelope
from services.intake.keys import ApiKeys
from services.intake.lease import RelayLease
from services.intake.relay import Relay
from services.intake.store import Appended, IntakeStore, open_store
from services.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    store: IntakeStore
    keys: ApiKeys
    relay: Relay

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        store = open_store(settings.database_url, settings.database_synchronous)
        lease = RelayLease(Path(f"{settings.database_path}.relay.lock"))
        relay = Relay(
            store, settings.kafka_bootstrap_servers, settings.topic_events, lease, settings.relay_batch_size
        )
        return cls(settings, store, ApiKeys(settings.database_path), relay)

    async def append(self, events: Sequence[Envelope]) -> list[Appended]:
        """Store a batch durably (in a thread: SQLite blocks) and wake the relay."""
        results = await asyncio.to_thread(self.store.append, events)
        self.relay.wake()
        return results

    async def append_until_stored(self, events: Sequence[Envelope]) -> list[Appended]:
        """As `append`, retrying a failing store instead of losing the batch (blocks the partition)."""
        delay = 0.1
        while True:
            try:
                return await self.append(events)
            except Exception:
                log.exception("intake store failed; retrying in %.1fs", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
