"""Reading the canonical topic from its first offset to a fixed end, fast (no consumer group).

Large fetches (`getmany` with a big ``max_records`` and fetch sizes), each partition read up to
the end offset it had when the reading started (or an offset given per partition), then paused,
so a replay reflects one well-defined prefix of the log however busy the system is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

from services.kafka_access import KafkaAccess

FETCH_BYTES = 64 << 20
PARTITION_FETCH_BYTES = 16 << 20
MAX_RECORDS = 50_000


class LogError(Exception):
    """The topic cannot be read (no broker, no such topic)."""


@dataclass(frozen=True)
class Span:
    """What will be read of one partition: offsets ``start`` (the log's first) to ``stop`` (excluded)."""

    partition: int
    start: int
    stop: int

    @property
    def size(self) -> int:
        return max(self.stop - self.start, 0)


class LogReader:
    """One raw consumer over one topic; `spans` fixes what `records` then reads."""

    def __init__(self, kafka: KafkaAccess, topic: str) -> None:
        self.topic = topic
        self._consumer = AIOKafkaConsumer(
            **kafka.options(),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_bytes=FETCH_BYTES,
            max_partition_fetch_bytes=PARTITION_FETCH_BYTES,
            request_timeout_ms=30_000,
        )

    async def __aenter__(self) -> LogReader:
        try:
            await self._consumer.start()
        except Exception as exc:
            await self._consumer.stop()
            raise LogError(f"cannot reach the broker: {exc}") from exc
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._consumer.stop()

    async def spans(self, upto: Mapping[int, int] | None = None) -> list[Span]:
        """Every partition's span: to its end offset now, or to ``upto[partition]`` (capped at the end;
        a partition missing from ``upto`` is not read)."""
        # A fresh metadata fetch (what `topics()` runs): the client's cache knows only topics it
        # was asked about, and `partitions_for_topic` reads that cache.
        cluster = await self._consumer._client.fetch_all_metadata()
        known = cluster.partitions_for_topic(self.topic)
        if not known:
            raise LogError(f"no topic {self.topic!r} on the broker")
        tps = [TopicPartition(self.topic, p) for p in sorted(known)]
        firsts = await self._consumer.beginning_offsets(tps)
        ends = await self._consumer.end_offsets(tps)
        spans = []
        for tp in tps:
            stop = ends[tp] if upto is None else min(ends[tp], upto.get(tp.partition, 0))
            spans.append(Span(tp.partition, firsts[tp], max(stop, firsts[tp])))
        return spans

    async def records(
        self, spans: Sequence[Span]
    ) -> AsyncIterator[tuple[int, Sequence[ConsumerRecord[bytes, bytes]]]]:
        """(partition, records in offset order) batches until every span is read."""
        consumer = self._consumer
        wanted = {TopicPartition(self.topic, s.partition): s.stop for s in spans if s.size}
        if not wanted:
            return
        consumer.assign(list(wanted))
        for tp, span in zip(wanted, (s for s in spans if s.size), strict=True):
            consumer.seek(tp, span.start)
        remaining = dict(wanted)
        while remaining:
            fetched = await consumer.getmany(*remaining, timeout_ms=1000, max_records=MAX_RECORDS)
            for tp, batch in fetched.items():
                stop = remaining.get(tp)
                if stop is None:
                    continue
                if batch and batch[-1].offset >= stop:
                    batch = [r for r in batch if r.offset < stop]
                if batch:
                    yield tp.partition, batch
            for tp, stop in list(remaining.items()):
                if await consumer.position(tp) >= stop:  # control records can end a partition too
                    consumer.pause(tp)
                    del remaining[tp]
