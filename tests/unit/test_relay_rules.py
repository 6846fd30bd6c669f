"""Relay rules: Kafka's partitioner, and skipping exactly what already reached each partition."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from services.outbox.relay import partition_for, rows_to_send
from services.writemodel.outcomes import IntakeRow


def row(seq: int, key: str) -> IntakeRow:
    return IntakeRow(seq, f"e-{seq}", key, b"{}")


def test_partition_matches_kafkas_default_partitioner() -> None:
    partitions = list(range(6))
    for key in ["lead-1", "lead-2", "rep-ada", "x" * 100, ""]:
        assert partition_for(key, 6) == DefaultPartitioner()(key.encode(), partitions, partitions)


@given(st.integers(1, 8), st.lists(st.integers(0, 30), min_size=8, max_size=8), st.integers(1, 60))
def test_after_a_crash_exactly_the_rows_missing_from_each_partition_are_sent(
    partitions: int, reached: list[int], batch: int
) -> None:
    """A killed relay left, per partition, some prefix (in seq order) of its batch on Kafka."""
    rows = [row(seq, f"lead-{seq % 13}") for seq in range(1, batch + 1)]
    by_partition: dict[int, list[int]] = {}
    for r in rows:
        by_partition.setdefault(partition_for(r.partition_key, partitions), []).append(r.seq)
    tails = {p: seqs[min(reached[p], len(seqs)) - 1] for p, seqs in by_partition.items() if reached[p]}
    on_kafka = {seq for p, seqs in by_partition.items() for seq in seqs[: reached[p]]}

    sent = [r.seq for _, r in rows_to_send(rows, tails, partitions)]
    assert set(sent) == set(range(1, batch + 1)) - on_kafka
    assert sent == sorted(sent)


def test_without_tails_everything_is_sent_in_order() -> None:
    rows = [row(seq, "lead-1") for seq in range(1, 6)]
    assert [r.seq for _, r in rows_to_send(rows, {}, 3)] == [1, 2, 3, 4, 5]
