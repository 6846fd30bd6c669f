"""The projector: a batch consumer that folds the canonical log into every read model.

Why not a Faust agent: Faust hands a stream one message at a time through queues, events, acks
and sensors, which costs 200 to 450 µs of Python per message on this machine class (a bare agent
reads 4,400 messages a second where aiokafka's ``getmany`` reads 200,000), and a table write per
event sends a changelog record per event. Here the hot path is one plain loop:

1. ``getmany`` up to ``projection_batch_max`` records from the partitions this worker owns;
2. per record: parse (`events.parse.parse_logged_event`) and fold into every read model
   (`PartitionProjection.fold`, pure); a record that cannot be folded goes to the dead-letter
   topic with its reason, never lost and never retried forever;
3. write each touched partial once, plus the partition's position, to the compacted changelog
   (aiokafka batch builders, one produce request per partition), wait for the acks, then store
   them locally (`services.projector.store`). At the head of the log that happens after every
   fetch; while catching up, after several (`FLUSH_SECONDS`, `FLUSH_EVENTS`), so that a partial
   many events touch is encoded and sent once.

Exactly once in effect: a partial records the offset of the last event in it, and the position
travels in the same changelog write as the partials, so a worker killed anywhere re-reads from a
position no later than its state and skips what it already folded.

Partitions are shared by the consumer group ``<app id>-projector``; on assignment a worker
restores the partition's partials from its local store plus the changelog beyond it (everything,
if the local state is gone), then seeks the log to the recovered position. The Faust app hosts
this service (start, stop, web, metrics), as it hosts the inbound ingestor (`services.ingestor.consumer`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord

from events import Rejection
from events.parse import parse_logged_event
from services.kafka_access import aiokafka_options
from services.metrics import CONSUMER_LAG, PROJECTED, PROJECTION_LATENCY
from services.projector.assignor import DirectoryAssignor
from services.projector.namespaces import DEFAULT, PointerReader, changelog_topic, pointer_spec
from services.projector.partition import PartitionProjection
from services.projector.readmodels import ReadModel
from services.projector.recovery import restore
from services.projector.sending import Rejected, send_deadletters, send_partials
from services.projector.store import StoreClosed, StoreFactory, store_factory
from services.projector.switch import follow
from services.settings import Settings
from services.topics import ensure_topics

log = logging.getLogger(__name__)
MAX_BATCH_BYTES = 1 << 20
FLUSH_SECONDS = 0.5
"""While catching up, the longest the changelog waits for folded events (they are queryable meanwhile)."""
FLUSH_EVENTS = 20_000
"""While catching up, the most events folded before their partials are written to the changelog."""


class Projector:
    """Folds the canonical topic into the read models of the partitions this worker owns."""

    def __init__(
        self, settings: Settings, models: Sequence[ReadModel], url: str, stores: StoreFactory | None = None
    ):
        self.settings = settings
        self.assignor = DirectoryAssignor(url.rstrip("/"))
        self.models = tuple(models)
        self.topic = settings.topic_events
        self.namespace = DEFAULT
        """The read models' namespace this worker folds into and answers from."""
        self.changelog = settings.topic_projection_changelog
        self._stores = stores or store_factory(settings.store, settings.data_dir, settings.app_id)
        self._pointer: PointerReader | None = None
        self._partitions: dict[int, PartitionProjection] = {}
        self._lock = asyncio.Lock()
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._reader: AIOKafkaConsumer | None = None
        self._latency = PROJECTION_LATENCY.labels("all")
        self._last_commit = 0.0
        self._unwritten: dict[int, PartitionProjection] = {}
        self._rejected: list[Rejected] = []
        self._times: list[float] = []
        self._written_at = time.monotonic()

    # --- what health sees ---------------------------------------------------------------------

    failing: tuple[float, str] | None = None
    """Since when (monotonic) and why the projector has been failing to fold or write, or None."""

    def _failing(self, why: str) -> None:
        since = self.failing[0] if self.failing is not None else time.monotonic()
        self.failing = (since, why)

    def problem(self, grace: float = 5.0) -> str | None:
        """Why the projector is not keeping its read models up to date, once that has lasted
        ``grace`` seconds (a single retried write is not a problem), or None."""
        failing = self.failing
        if failing is None or time.monotonic() - failing[0] < grace:
            return None
        return f"{failing[1]} (for {time.monotonic() - failing[0]:.0f} s)"

    # --- what queries see --------------------------------------------------------------------

    def owned(self) -> set[int]:
        """Source partitions whose partials are here and up to date with this worker's reading."""
        return set(self._partitions)

    def partials(self, model: str) -> Callable[[], tuple[list[tuple[int, str, bytes]], list[int]]]:
        """(source partition, key, stored partial) of one read model over the partitions owned, as
        a snapshot taken now (no batch half-seen) to be read in a thread: a large read model must
        not stall the event loop the projector runs on. With them, the partitions actually read: a
        partition revoked while it was being read (its store closed) is left out whole, so the
        answer covers one partition less rather than failing or counting half of it."""
        views = [
            (partition, projection.snapshot(model)) for partition, projection in self._partitions.items()
        ]

        def read() -> tuple[list[tuple[int, str, bytes]], list[int]]:
            rows: list[tuple[int, str, bytes]] = []
            read_whole: list[int] = []
            for partition, view in sorted(views):
                try:
                    mine = [(partition, key, value) for key, value in view()]
                except StoreClosed:
                    log.info("partition %d was revoked while being read: left out of this answer", partition)
                    continue
                rows.extend(mine)
                read_whole.append(partition)
            return rows, read_whole

        return read

    # --- life cycle --------------------------------------------------------------------------

    async def run(self, stopping: asyncio.Event | None = None) -> None:
        """Consume until cancelled (or ``stopping`` is set), then leave the group cleanly."""
        await self._start()
        assert self._pointer is not None
        following = asyncio.create_task(follow(self, self._pointer))
        try:
            while stopping is None or not stopping.is_set():
                try:
                    await self._step()
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # never stop projecting quietly while the worker looks healthy
                    self._failing(f"projector step failed: {error!r}")
                    log.exception("projector step failed; retrying in 1 s")
                    await asyncio.sleep(1.0)
        finally:
            following.cancel()
            await asyncio.gather(following, return_exceptions=True)
            await self._stop()

    def positions(self) -> dict[int, int]:
        """Each owned source partition's next offset to fold."""
        return {partition: projection.position for partition, projection in self._partitions.items()}

    async def install(
        self,
        namespace: str,
        changelog: str,
        stores: StoreFactory,
        ready: Callable[[Mapping[int, int]], Awaitable[dict[int, PartitionProjection]]],
    ) -> None:
        """Fold into and answer from ``namespace`` from now on (`services.projector.switch`):
        under the lock, write what the old one folded, let ``ready`` bring the new projections to
        the live positions, swap, and write them to the new changelog."""
        async with self._lock:
            if self._unwritten:
                await self._write()
            projections = await ready(self.positions())
            old, self._partitions = self._partitions, projections
            self.namespace, self.changelog, self._stores = namespace, changelog, stores
            self._unwritten = dict(projections)
            await self._write()
            for projection in old.values():
                projection.store.close()

    async def _start(self) -> None:
        settings = self.settings
        kafka = aiokafka_options(settings)  # one principal for all three: the worker's
        self._producer = AIOKafkaProducer(
            **kafka,
            enable_idempotence=True,
            acks="all",
            linger_ms=5,
            max_batch_size=MAX_BATCH_BYTES,
            max_request_size=4 * MAX_BATCH_BYTES,
        )
        self._reader = AIOKafkaConsumer(**kafka, group_id=None, enable_auto_commit=False)
        instance = settings.worker_instance_id
        self._consumer = AIOKafkaConsumer(
            **kafka,
            group_id=f"{settings.app_id}-projector",
            group_instance_id=f"{instance}-projector" if instance else None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=int(settings.consumer_session_timeout * 1000),
            heartbeat_interval_ms=int(min(3.0, settings.consumer_session_timeout / 3) * 1000),
            max_partition_fetch_bytes=4 * MAX_BATCH_BYTES,
            partition_assignment_strategy=(self.assignor,),
        )
        await ensure_topics(settings, [pointer_spec(settings)])
        self._pointer = PointerReader(settings)
        await self._pointer.start()
        namespace = (await self._pointer.latest()).namespace
        if namespace != self.namespace:
            self.namespace, self.changelog = namespace, changelog_topic(settings, namespace)
            self._stores = store_factory(settings.store, settings.data_dir, settings.app_id, namespace)
        log.info("read models: namespace %r (%s)", namespace or "default", self.changelog)
        await self._producer.start()
        await self._reader.start()
        await self._consumer.start()
        self._consumer.subscribe([self.topic], listener=_Rebalance(self))

    async def _stop(self) -> None:
        if self._unwritten and self._producer is not None:
            try:
                async with self._lock:
                    await asyncio.wait_for(self._write(), timeout=10)
            except Exception:  # a crash loses nothing: the changelog's position is older
                log.exception("writing the last folded batch on the way out failed")
        if self._pointer is not None:
            await self._pointer.stop()
        for client in (self._consumer, self._reader, self._producer):
            if client is not None:
                try:
                    await client.stop()
                except Exception:  # stopping must not hide what stopped us
                    log.exception("stopping a Kafka client failed")
        for projection in self._partitions.values():
            projection.store.close()
        self._partitions.clear()

    # --- the loop ----------------------------------------------------------------------------

    async def _step(self) -> None:
        """Fold what arrived; write to the changelog when caught up, or every so often meanwhile.

        Catching up (each fetch full), several fetches are folded before one changelog write, so a
        partial touched by many of their events is encoded and sent once; at the head of the log
        (a fetch that is not full) every fetch is written at once, which keeps latency low.
        """
        assert self._consumer is not None
        limit = self.settings.projection_batch_max
        fetched = await self._consumer.getmany(timeout_ms=200, max_records=limit)
        async with self._lock:
            if fetched:
                touched, rejected, times = self._fold(fetched)
                self._unwritten.update((p.partition, p) for p in touched)
                self._rejected.extend(rejected)
                self._times.extend(times)
            full = sum(len(records) for records in fetched.values()) >= limit
            due = time.monotonic() - self._written_at >= FLUSH_SECONDS or len(self._times) >= FLUSH_EVENTS
            if self._unwritten and (not full or due):
                await self._write()

    async def _write(self) -> None:
        """Write everything folded so far (the lock is held), then report it."""
        touched, rejected, times = list(self._unwritten.values()), self._rejected, self._times
        self._unwritten, self._rejected, self._times = {}, [], []
        await self._flush(touched, rejected)
        self._written_at = time.monotonic()
        done = time.time()
        observe = self._latency.observe
        for recorded in times:
            observe(max(done - recorded, 0.0))
        self._report(touched)

    def _fold(
        self, fetched: Mapping[TopicPartition, Sequence[ConsumerRecord[bytes, bytes]]]
    ) -> tuple[list[PartitionProjection], list[Rejected], list[float]]:
        """Fold every fetched record in order; the unfoldable ones are returned with their reason."""
        assert self._consumer is not None
        touched: list[PartitionProjection] = []
        rejected: list[Rejected] = []
        times: list[float] = []
        for tp, records in fetched.items():
            projection = self._partitions.get(tp.partition)
            if projection is None:  # revoked while the batch was in flight
                continue
            touched.append(projection)
            for record in records:
                if record.offset < projection.position:
                    continue  # folded before a rebalance moved the partition here and back
                if record.offset > projection.position:  # deleted by retention, or control records
                    log.warning(
                        "%s: offsets %d to %d are not in the log", tp, projection.position, record.offset - 1
                    )
                try:
                    event = parse_logged_event(record.value or b"")
                    projection.fold(record.offset, event)
                except Rejection as rejection:
                    projection.skip(record.offset)
                    rejected.append((record, rejection.reason.value, str(rejection)))
                    continue
                except Exception as exc:  # route, never lose, never stop the partition
                    log.exception("projection failed at %s@%s", tp, record.offset)
                    projection.skip(record.offset)
                    rejected.append((record, "internal_error", repr(exc)))
                    continue
                if event.recordedtime is not None:
                    times.append(event.recordedtime.timestamp())
        return touched, rejected, times

    async def _flush(
        self,
        touched: Iterable[PartitionProjection],
        rejected: Sequence[Rejected],
    ) -> None:
        """Dead letters first, then each partition's changelog records; store once acknowledged."""
        assert self._producer is not None and self._consumer is not None
        delay = 0.1
        while True:
            try:
                if rejected:
                    await send_deadletters(self._producer, self.settings.topic_deadletter, rejected)
                    rejected = ()  # sent: a retry of the changelog must not send them twice
                writes = [
                    (p, await send_partials(self._producer, self.changelog, p.partition, p.pending()))
                    for p in touched
                ]
                for projection, futures in writes:
                    last = None
                    for future, count in futures:
                        metadata = await future
                        last = metadata.offset + count - 1
                    if last is not None:
                        projection.written(last)
                self.failing = None
                break
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the broker unreachable, a full disk: keep the batch, try again
                self._failing(f"writing the projection failed: {error!r}")
                log.exception("writing the projection changelog failed; retrying in %.1fs", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
        await self._commit_positions()

    async def _commit_positions(self) -> None:
        """Commit the consumer group's offsets (for lag tools; recovery uses the changelog position)."""
        assert self._consumer is not None
        now = time.monotonic()
        if now - self._last_commit < 1.0:
            return
        self._last_commit = now
        offsets = {TopicPartition(self.topic, p): proj.position for p, proj in self._partitions.items()}
        if offsets:
            try:
                await self._consumer.commit(offsets)
            except Exception as exc:  # a rebalance in progress: the next batch commits
                log.info("committing projector offsets skipped: %s", exc)

    def _report(self, touched: Iterable[PartitionProjection]) -> None:
        outcomes: Counter[tuple[str, str]] = Counter()
        for projection in touched:
            outcomes.update(projection.take_outcomes())
        for (model, outcome), count in outcomes.items():
            PROJECTED.labels(model, outcome).inc(count)
        assert self._consumer is not None
        behind = 0
        for partition, projection in self._partitions.items():
            end = self._consumer.highwater(TopicPartition(self.topic, partition))
            if end is not None:
                behind += max(end - projection.position, 0)
        CONSUMER_LAG.labels(self.topic).set(behind)

    # --- rebalancing -------------------------------------------------------------------------

    async def assigned(self, partitions: Iterable[TopicPartition]) -> None:
        assert self._consumer is not None
        async with self._lock:
            for tp in partitions:
                if tp.topic != self.topic or tp.partition in self._partitions:
                    continue
                projection = await self._recover(tp.partition)
                self._partitions[tp.partition] = projection
                self._consumer.seek(tp, projection.position)
                log.info("projecting %s from offset %d", tp, projection.position)

    async def revoked(self, partitions: Iterable[TopicPartition]) -> None:
        async with self._lock:
            if self._unwritten:
                await self._write()
            self._last_commit = 0.0
            await self._commit_positions()
            for tp in partitions:
                projection = self._partitions.pop(tp.partition, None)
                if projection is not None:
                    projection.store.close()

    async def _recover(self, partition: int) -> PartitionProjection:
        """The partition's partials: the local store, plus whatever the changelog holds beyond it."""
        assert self._reader is not None
        store = self._stores(partition)
        await restore(self._reader, self.changelog, partition, store)
        return PartitionProjection(partition, self.models, store, self.settings.projection_cache_size)


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, projector: Projector) -> None:
        self.projector = projector

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        await self.projector.revoked(revoked)

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        await self.projector.assigned(assigned)
