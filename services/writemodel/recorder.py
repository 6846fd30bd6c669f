"""The worker's own dependencies, built once from settings: write model, API keys, relay."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from events import Envelope
from sales.process import load_process
from services.auth.keys import ApiKeys
from services.db import parse_database_url
from services.outbox.lease import lease_for
from services.outbox.relay import Relay
from services.settings import Settings
from services.writemodel.application import WriteModel
from services.writemodel.environment import write_model_env
from services.writemodel.outcomes import Appended

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    store: WriteModel
    keys: ApiKeys
    relay: Relay
    _writing: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        store = WriteModel(load_process(settings.process_file), write_model_env(settings))
        lease = lease_for(parse_database_url(settings.database_url), "relay")
        relay = Relay(
            store, settings.kafka_bootstrap_servers, settings.topic_events, lease, settings.relay_batch_size
        )
        return cls(settings, store, ApiKeys.from_url(settings.database_url), relay)

    async def append(self, events: Sequence[Envelope]) -> list[Appended]:
        """Record a batch durably (in a thread: the database blocks) and wake the relay."""
        results = await asyncio.to_thread(self._record, events)
        self.relay.wake()
        return results

    def _record(self, events: Sequence[Envelope]) -> list[Appended]:
        with self._writing:  # one writer per process; the database serialises across processes
            return self.store.record(events)

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
