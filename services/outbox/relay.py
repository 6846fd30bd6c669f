"""The relay: copies the intake onto the canonical Kafka topic, in order, with no gap or duplicate.

Each row goes to the partition of its aggregate key (Kafka's murmur2, as Java clients compute it)
with a ``salesledger.seq`` header. The producer is idempotent and the relay waits for every ack of
a batch before saving its position. If the relay is killed between an ack and the position save,
the next start reads the last records of each partition: everything up to the highest seq among
them is on that partition already (per-partition order is guaranteed), so exactly those rows are
skipped.

Anyone who can write the topic can also write a record with our headers (the store id is in every
record), so a tail is only believed if it is possible (`trusted_tails`): a seq at or below the saved
position changes nothing; a seq above it must name a row of this store, no later than its last
sequence, whose partition is this one and whose key and bytes are the record's. Anything else is
refused loudly (an error naming partition, offset and claimed seq, and
``salesledger_relay_impossible_tails_total``) and never causes a row to be skipped: at worst a row
acked before a crash is sent twice, never an accepted row dropped.

Only one relay may run per event store: a `Lease` (services.outbox.lease) elects it; other
workers wait and take over when the holder dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.partitioner import murmur2

from services.kafka_access import KafkaAccess
from services.metrics import RELAY_IMPOSSIBLE_TAILS, RELAY_POSITION, RELAYED
from services.outbox.lease import Lease
from services.outbox.metrics import RELAY_LEADING
from services.writemodel.outcomes import IntakeRow, IntakeStore

log = logging.getLogger(__name__)
SEQ_HEADER = "salesledger.seq"
STORE_HEADER = "salesledger.intake"
POSITION = "relay"
TAIL_WINDOW = 64
"""Records read back from the end of each partition at start-up: a few forged records appended after
the real tail do not hide it (more than this only cost duplicates, never a lost row)."""
RETRY_FIRST, RETRY_LAST = 1.0, 16.0
"""Seconds before leading again after a failure, doubling up to the last: a relay that died on the
first refused connection would leave accepted events off the log until a restart (issue 15)."""


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


@dataclass(frozen=True, slots=True)
class TailRecord:
    """One record near the end of a partition that carries our store id: a claim about what is there."""

    partition: int
    offset: int
    seq: bytes
    key: bytes | None
    value: bytes | None


def _claimed_seq(raw: bytes) -> int | None:
    text = raw.decode("ascii", errors="replace")
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 19 else None


def impossible_tail(
    record: TailRecord,
    partitions: int,
    position: int,
    last_seq: int,
    row_at: Callable[[int], IntakeRow | None],
) -> str | None:
    """Why `record` cannot be a record this relay sent, or None if it may be (or changes nothing)."""
    seq = _claimed_seq(record.seq)
    if seq is None or seq < 1:
        return "the seq is not a positive integer"
    if seq <= position:
        return None  # at or below the saved position: no row would be skipped because of it
    if seq > last_seq:
        return f"the store's last sequence is {last_seq}"
    row = row_at(seq)
    if row is None:
        return "the store has no relayed row with that seq"
    if partition_for(row.partition_key, partitions) != record.partition:
        return f"that row belongs to partition {partition_for(row.partition_key, partitions)}"
    if record.key != row.partition_key.encode() or record.value != row.body:
        return "its key or bytes are not that row's"
    return None


def trusted_tails(
    records: Iterable[TailRecord],
    partitions: int,
    position: int,
    last_seq: int,
    row_at: Callable[[int], IntakeRow | None],
    topic: str = "",
) -> dict[int, int]:
    """The highest possible seq per partition among `records`; impossible ones are logged and counted.

    The result never exceeds ``max(position, last_seq)`` and every seq above `position` in it is a
    row of this store sent to that very partition with those very bytes.
    """
    tails: dict[int, int] = {}
    for record in records:
        why = impossible_tail(record, partitions, position, last_seq, row_at)
        if why is not None:
            RELAY_IMPOSSIBLE_TAILS.inc()
            log.error(
                "relay: refusing an impossible tail on %s partition %d offset %d: claimed seq %r, but %s "
                "(not written by this relay; rows of that partition are not skipped because of it)",
                topic,
                record.partition,
                record.offset,
                record.seq.decode("ascii", errors="replace")[:40],
                why,
            )
            continue
        seq = _claimed_seq(record.seq)
        assert seq is not None
        tails[record.partition] = max(tails.get(record.partition, 0), seq)
    return tails


async def read_tail_records(
    kafka: KafkaAccess, topic: str, store_id: str, window: int = TAIL_WINDOW
) -> list[TailRecord]:
    """The last `window` records of each partition that carry store `store_id` and a seq header."""
    consumer = AIOKafkaConsumer(**kafka.options(), enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        starts = await consumer.beginning_offsets(tps)
        found: list[TailRecord] = []
        for tp in tps:
            if ends[tp] <= starts[tp]:
                continue
            consumer.seek(tp, max(starts[tp], ends[tp] - window))
            while await consumer.position(tp) < ends[tp]:
                batch = await consumer.getmany(tp, timeout_ms=10_000)
                if not batch.get(tp):
                    break
                for record in batch[tp]:
                    if record.offset >= ends[tp]:
                        break
                    headers = dict(record.headers or [])
                    seq = headers.get(SEQ_HEADER)
                    if seq is not None and headers.get(STORE_HEADER) == store_id.encode():
                        found.append(TailRecord(tp.partition, record.offset, seq, record.key, record.value))
            consumer.pause(tp)
        return found
    finally:
        await consumer.stop()


def _row_at(store: IntakeStore, seq: int) -> IntakeRow | None:
    rows = store.read_after(seq - 1, 1)
    return rows[0] if rows and rows[0].seq == seq else None


class Relay:
    """Runs while it holds the lease; `wake()` shortens the wait after new appends."""

    def __init__(
        self,
        store: IntakeStore,
        kafka: KafkaAccess,
        topic: str,
        lease: Lease,
        batch_size: int = 2000,
        idle_interval: float = 0.05,
    ) -> None:
        self.store, self.kafka, self.topic, self.lease = store, kafka, topic, lease
        self.batch_size, self.idle_interval = batch_size, idle_interval
        self._wakeup = asyncio.Event()
        self.leading = False
        """Whether this relay holds the lease now (readiness: a relay leads here or elsewhere)."""

    def wake(self) -> None:
        self._wakeup.set()

    async def run(self, stopping: asyncio.Event) -> None:
        """Wait for the lease, then relay until `stopping` is set."""
        backoff = RETRY_FIRST
        while not stopping.is_set():
            if await asyncio.to_thread(self.lease.try_acquire):  # a PostgreSQL lease connects
                self.leading = True
                RELAY_LEADING.set(1)
                failed = False
                try:
                    await self._relay_while_leader(stopping)
                except asyncio.CancelledError:
                    raise
                except Exception:  # a broker or store failure: lead again after a pause, never die
                    log.exception("relay failed; trying to lead again in %.0f s", backoff)
                    failed = True
                finally:
                    self.leading = False
                    RELAY_LEADING.set(0)
                    self.lease.release()  # another worker may lead meanwhile
                if failed:  # new appends do not cut this pause short (`wake`): the failure would repeat
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stopping.wait(), backoff)
                backoff = min(backoff * 2, RETRY_LAST) if failed else RETRY_FIRST
            else:
                await self._sleep(stopping, 1.0)

    async def _relay_while_leader(self, stopping: asyncio.Event) -> None:
        producer = AIOKafkaProducer(
            **self.kafka.options(), enable_idempotence=True, linger_ms=2, max_batch_size=256 * 1024
        )
        await producer.start()
        try:
            partitions = len(await producer.partitions_for(self.topic))
            records = await read_tail_records(self.kafka, self.topic, self.store.store_id)
            position = await asyncio.to_thread(self.store.position, POSITION)
            last_seq = await asyncio.to_thread(self.store.last_seq)
            tails = await asyncio.to_thread(
                trusted_tails,
                records,
                partitions,
                position,
                last_seq,
                lambda seq: _row_at(self.store, seq),
                self.topic,
            )
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
