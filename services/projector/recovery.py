"""Bringing one partition's read models up to date from Kafka: its changelog, then the log.

`restore` fills a local store from a changelog partition (everything the store has not seen);
`catch_up` folds the canonical log into a projection up to a given offset without dead-lettering
(the live projector already sent the unfoldable records there). The projector restores a
partition it is handed; a namespace switch (`services.projector.switch`) does both for the
partitions it moves.
"""

from __future__ import annotations

import logging

from aiokafka import AIOKafkaConsumer, TopicPartition

from services.projector.partition import PartitionProjection
from services.projector.store import PartitionStore

log = logging.getLogger(__name__)
FETCH_RECORDS = 20_000


async def restore(reader: AIOKafkaConsumer, changelog: str, partition: int, store: PartitionStore) -> int:
    """Write into ``store`` whatever ``changelog`` holds for ``partition`` beyond what the store
    has; a store ahead of its changelog (the topic was recreated) is rebuilt whole. Records read."""
    tp = TopicPartition(changelog, partition)
    end = (await reader.end_offsets([tp]))[tp]
    start = store.changelog_offset + 1
    if start > end:  # the changelog is not the one this store was written from
        log.warning("local state of %s is ahead of its changelog: rebuilding it", tp)
        store.destroy()
        start = 0
    read = 0
    if start < end:
        reader.assign([tp])
        reader.seek(tp, start)
        while await reader.position(tp) < end:
            fetched = await reader.getmany(tp, timeout_ms=1000, max_records=FETCH_RECORDS)
            records = fetched.get(tp, [])
            if records:
                store.write({r.key: r.value for r in records if r.key and r.value}, records[-1].offset)
                read += len(records)
        reader.assign([])
    log.info("%s: %d changelog records restored (from offset %d to %d)", tp, read, start, end)
    return read


async def catch_up(reader: AIOKafkaConsumer, topic: str, projection: PartitionProjection, stop: int) -> int:
    """Fold ``topic``'s records from the projection's position up to ``stop`` (excluded), as a
    replay does (`PartitionProjection.fold_logged`). Records taken."""
    tp = TopicPartition(topic, projection.partition)
    taken = 0
    if projection.position >= stop:
        return taken
    reader.assign([tp])
    reader.seek(tp, projection.position)
    while projection.position < stop and await reader.position(tp) < stop:
        fetched = await reader.getmany(tp, timeout_ms=1000, max_records=FETCH_RECORDS)
        records = [r for r in fetched.get(tp, []) if r.offset < stop]
        if records:
            count, _ = projection.fold_logged(records)
            taken += count
    reader.assign([])
    return taken
