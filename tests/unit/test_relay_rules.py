"""Relay rules: Kafka's partitioner, and skipping exactly what already reached each partition."""

from __future__ import annotations

import logging

import pytest
from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from services.metrics import REGISTRY
from services.outbox.relay import TailRecord, partition_for, rows_to_send, trusted_tails
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


def tail(partition: int, seq: bytes | int, r: IntakeRow | None = None, offset: int = 7) -> TailRecord:
    raw = seq if isinstance(seq, bytes) else str(seq).encode()
    key, value = (r.partition_key.encode(), r.body) if r is not None else (b"lead-x", b"{}")
    return TailRecord(partition, offset, raw, key, value)


def test_a_forged_tail_on_the_events_topic_never_makes_the_relay_skip_accepted_rows(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue 12, "A forged record on the events topic silently drops accepted events"."""
    partitions, position = 4, 3
    rows = [row(seq, f"lead-{seq}") for seq in range(1, 9)]  # 1..3 relayed, 4..8 accepted, not yet
    by_seq = {r.seq: r for r in rows}
    genuine = rows[4]  # seq 5 reached Kafka before a crash, its position unsaved
    home = partition_for(genuine.partition_key, partitions)
    elsewhere = (home + 1) % partitions
    forged = [
        tail(0, 10**12, offset=100),  # far beyond the store's last sequence
        tail(1, 8, offset=101),  # a real, unsent row, but not these bytes
        tail(elsewhere, 5, genuine, offset=102),  # the right bytes on the wrong partition
        tail(2, b"-1", offset=103),
        tail(3, b"9" * 40, offset=104),
    ]
    before = REGISTRY.get_sample_value("salesledger_relay_impossible_tails_total") or 0.0
    with caplog.at_level(logging.ERROR, logger="services.outbox.relay"):
        tails = trusted_tails(
            [*forged, tail(home, 5, genuine)], partitions, position, 8, by_seq.get, "t.events"
        )
    assert tails == {home: 5}
    after = REGISTRY.get_sample_value("salesledger_relay_impossible_tails_total")
    assert after == before + len(forged)
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == len(forged)
    assert "t.events partition 0 offset 100" in errors[0] and "1000000000000" in errors[0]
    assert "last sequence is 8" in errors[0]
    sent = [r.seq for _, r in rows_to_send(rows[position:], tails, partitions)]
    assert sent == [4, 6, 7, 8]  # only the row really on Kafka is skipped


@given(
    st.integers(1, 8),
    st.integers(0, 40),
    st.integers(0, 40),
    st.lists(st.tuples(st.integers(0, 7), st.integers(0, 10**15)), max_size=10),
)
def test_trusted_tails_never_exceed_the_store_or_skip_a_row_not_on_its_partition(
    partitions: int, position: int, extra: int, claims: list[tuple[int, int]]
) -> None:
    last = position + extra
    by_seq = {seq: row(seq, f"lead-{seq % 11}") for seq in range(1, last + 1)}
    records = [tail(p % partitions, seq) for p, seq in claims]  # bytes that no row has
    tails = trusted_tails(records, partitions, position, last, by_seq.get)
    assert all(seq <= position for seq in tails.values())
    unsent = [by_seq[seq] for seq in range(position + 1, last + 1)]
    assert [r.seq for _, r in rows_to_send(unsent, tails, partitions)] == [r.seq for r in unsent]


def test_a_genuine_tail_above_the_position_is_trusted_and_the_highest_wins() -> None:
    rows = [row(seq, "lead-1") for seq in range(1, 6)]
    p = partition_for("lead-1", 3)
    tails = trusted_tails([tail(p, 4, rows[3]), tail(p, 2, rows[1])], 3, 1, 5, {r.seq: r for r in rows}.get)
    assert tails == {p: 4}
    assert [r.seq for _, r in rows_to_send(rows[1:], tails, 3)] == [5]
