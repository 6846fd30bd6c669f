"""Moving a running worker's read models to another namespace without a gap in answers.

The namespace was written by a replay (`salesledger replay --into NAME`): each source
partition's partials and the position they reflect, on its own changelog. Switching, for the
partitions this worker owns:

1. **Prepare, while the old namespace keeps answering:** restore each partition of the new
   namespace into a fresh local store, then fold the canonical log from the replay's position up
   to where the live projector is (`recovery.catch_up`, a group-less reader of its own), a few
   rounds, as the live projector moves on meanwhile.
2. **Swap, under the projector's lock** (no fold, write or query snapshot in between): write what
   the old namespace folded, fold the last few events into the new projections, make them the
   ones queries read and the projector folds into, and write them to the new changelog (their
   partials and positions). The old stores close.

A query before the swap reads the old namespace, after it the new one: never neither, never half
of each (a query snapshots every partition at once, and the swap happens between two snapshots).
A partition handed to this worker during the switch is restored by the projector from whatever
namespace is current when it arrives; one revoked is dropped from the switch.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaConsumer

from services.kafka_access import aiokafka_options
from services.projector.namespaces import PointerReader, changelog_topic
from services.projector.partition import PartitionProjection
from services.projector.recovery import catch_up, restore
from services.projector.store import StoreFactory, store_factory

if TYPE_CHECKING:
    from services.projector.service import Projector

log = logging.getLogger(__name__)
ROUNDS = 3
"""Catch-up rounds before the swap: each brings the new namespace closer to the moving live one,
so the last fold, done under the lock, is short."""


POINTER_POLL_SECONDS = 2.0
"""How often a worker looks at which read-model namespace is live (`services.projector.namespaces`)."""


async def follow(projector: Projector, pointer: PointerReader) -> None:
    """Switch ``projector`` to the namespace the pointer names whenever it changes, until
    cancelled (a failed switch is logged and tried again: the old namespace answers meanwhile)."""
    while True:
        await asyncio.sleep(POINTER_POLL_SECONDS)
        try:
            wanted = (await pointer.latest()).namespace
            if wanted != projector.namespace:
                log.info("switching read models from namespace %r to %r", projector.namespace, wanted)
                await Switch(projector, wanted).run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("switching the read models' namespace failed; trying again")


class Switch:
    """One switch of one worker's projector to ``namespace``."""

    def __init__(self, projector: Projector, namespace: str) -> None:
        settings = projector.settings
        self.projector = projector
        self.namespace = namespace
        self.changelog = changelog_topic(settings, namespace)
        self.stores: StoreFactory = store_factory(
            settings.store, settings.data_dir, settings.app_id, namespace
        )
        self._reader = AIOKafkaConsumer(**aiokafka_options(settings), group_id=None, enable_auto_commit=False)
        self._ready: dict[int, PartitionProjection] = {}

    async def run(self) -> None:
        await self._reader.start()
        try:
            for _ in range(ROUNDS):
                await self._prepare(self.projector.positions())
            await self.projector.install(self.namespace, self.changelog, self.stores, self._last_round)
        except BaseException:
            for projection in self._ready.values():
                projection.store.close()
            raise
        finally:
            await self._reader.stop()
        log.info("read models switched to namespace %r (%s)", self.namespace or "default", self.changelog)

    async def _prepare(self, live: Mapping[int, int]) -> None:
        """Bring each partition owned now to the live position it had when asked."""
        for partition in set(self._ready) - set(live):  # revoked meanwhile
            self._ready.pop(partition).store.close()
        for partition, position in sorted(live.items()):
            projection = self._ready.get(partition)
            if projection is None:
                projection = await self._restored(partition)
                self._ready[partition] = projection
            await catch_up(self._reader, self.projector.topic, projection, position)

    async def _restored(self, partition: int) -> PartitionProjection:
        store = self.stores(partition)
        await restore(self._reader, self.changelog, partition, store)
        settings = self.projector.settings
        return PartitionProjection(partition, self.projector.models, store, settings.projection_cache_size)

    async def _last_round(self, live: Mapping[int, int]) -> dict[int, PartitionProjection]:
        """Under the lock: the new projections at exactly the live positions."""
        await self._prepare(live)
        ready, self._ready = self._ready, {}
        return ready
