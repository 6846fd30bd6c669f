"""The relay: copies the intake onto the canonical Kafka topic, in order, with no gap or duplicate.

Each row goes to the partition of its aggregate key (Kafka's murmur2, as Java clients compute it)
with a ``salesledger.seq`` header. The producer is idempotent and the relay waits for every ack of
a batch before saving its position. If the relay is killed between an ack and the position save,
the next start reads the last record of each partition: everything up to that record's seq is on
that partition already (per-partition order is guaranteed), so exactly those rows are skipped.

Only one relay may run per event store: a `Lease` (services.outbox.lease) elects it; other
workers wait and take over when the holder dies.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.partitioner import murmur2

from services.metrics import RELAY_POSITION, RELAYED
from services.outbox.lease import Lease
from services.writemodel.outcomes import IntakeRow, IntakeStore

log = logging.getLogger(__name__)
SEQ_HEADER = "salesledger.seq"
STORE_HEADER = "salesledger.intake"
POSITION = "relay"


def partition_for(key: str, partitions: int) -> int:
    """The partition Kafka's default partitioner picks for `key` (murmur2, positive, modulo)."""
    return int((murmur2(key.encode()) & 0x7FFFFFFF) % partitions)


def rows_to_send(
    rows: Sequence[IntakeRow], tails: dict[int, int], partitions: int
) -> list[tuple[int, IntakeRow]]:
    """(partition, row) for every row not already on its partition according to `tails`."""
    out = []
    for row in rows:
        partition = partition_for(row.partition_key, partitions)
        if row.seq > tails.get(partition, 0):
            out.append((partition, row))
    return out


async def read_tails(bootstrap: str, topic: str, store_id: str) -> dict[int, int]:
    """The highest seq relayed from store `store_id`, per partition, from each partition's last record."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        tails: dict[int, int] = {}
        for tp in tps:
            if ends[tp] == 0:
                continue
            consumer.seek(tp, ends[tp] - 1)
            batch = await consumer.getmany(tp, timeout_ms=10_000)
            for record in batch.get(tp, []):
                headers = dict(record.headers or [])
                seq = headers.get(SEQ_HEADER)
                if seq is not None and headers.get(STORE_HEADER) == store_id.encode():
                    tails[tp.partition] = max(tails.get(tp.partition, 0), int(seq))
        return tails
    finally:
        await consumer.stop()


class Relay:
    """Runs while it holds the lease; `wake()` shortens the wait after new appends."""

    def __init__(
        self,
        store: IntakeStore,
        bootstrap: str,
        topic: str,
        lease: Lease,
        batch_size: int = 2000,
        idle_interval: float = 0.05,
    ) -> None:
        self.store, self.bootstrap, self.topic, self.lease = store, bootstrap, topic, lease
        self.batch_size, self.idle_interval = batch_size, idle_interval
        self._wakeup = asyncio.Event()

    def wake(self) -> None:
        self._wakeup.set()

    async def run(self, stopping: asyncio.Event) -> None:
        """Wait for the lease, then relay until `stopping` is set."""
        while not stopping.is_set():
            if await asyncio.to_thread(self.lease.try_acquire):  # a PostgreSQL lease connects
                try:
                    await self._relay_while_leader(stopping)
                finally:
                    self.lease.release()
            else:
                await self._sleep(stopping, 1.0)

    async def _relay_while_leader(self, stopping: asyncio.Event) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, enable_idempotence=True, linger_ms=2, max_batch_size=256 * 1024
        )
        await producer.start()
        try:
            partitions = len(await producer.partitions_for(self.topic))
            tails = await read_tails(self.bootstrap, self.topic, self.store.store_id)
            position = await asyncio.to_thread(self.store.position, POSITION)
            log.info("relay leading from seq %s (partition tails %s)", position, tails)
            while not stopping.is_set() and await asyncio.to_thread(self.lease.held):
                rows = await asyncio.to_thread(self.store.read_after, position, self.batch_size)
                if not rows:
                    await self._sleep(stopping, self.idle_interval)
                    continue
                await self._send(producer, rows_to_send(rows, tails, partitions))
                position = rows[-1].seq
                await asyncio.to_thread(self.store.save_position, POSITION, position)
                RELAY_POSITION.set(position)
                if tails and position >= max(tails.values()):
                    tails = {}  # only the first batches after a restart can overlap what is on Kafka
        finally:
            await producer.stop()

    async def _send(self, producer: AIOKafkaProducer, batch: list[tuple[int, IntakeRow]]) -> None:
        store_id = self.store.store_id.encode()
        futures = [
            await producer.send(
                self.topic,
                row.body,
                key=row.partition_key.encode(),
                partition=partition,
                headers=[(SEQ_HEADER, str(row.seq).encode()), (STORE_HEADER, store_id), *row.headers],
            )
            for partition, row in batch
        ]
        await asyncio.gather(*futures)
        RELAYED.inc(len(futures))

    async def _sleep(self, stopping: asyncio.Event, seconds: float) -> None:
        self._wakeup.clear()
        waiters = {asyncio.ensure_future(self._wakeup.wait()), asyncio.ensure_future(stopping.wait())}
        _, pending = await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
