"""Replay's pure parts: the deterministic rebuild over records shaped as the relay writes them, and
the diff that `salesledger audit compare` prints."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson

from events import serialize_event
from projections import rep_activity
from sales.process import load_process
from services.outbox.relay import partition_for
from services.projector.readmodels import read_models
from services.replay.compare import Difference, compare, last_offsets, shortened
from services.replay.log import Span
from services.replay.rebuild import Folded, Rebuild, document, summary
from services.replay.workers import shares
from services.simulator import simulate_envelopes

PARTITIONS = 4
RECORDED = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Record:
    partition: int
    offset: int
    value: bytes


def log(count: int = 400) -> list[Record]:
    """A simulated history as the relay writes it: keyed by partition key, offsets per partition,
    plus one poison record the projector would dead-letter."""
    events = [
        e.recorded(RECORDED) for e in itertools.islice(simulate_envelopes(7, 10, 60, date(2026, 1, 5)), count)
    ]
    offsets = dict.fromkeys(range(PARTITIONS), 0)
    records = []
    for event in events:
        partition = partition_for(event.partition_key, PARTITIONS)
        records.append(Record(partition, offsets[partition], serialize_event(event)))
        offsets[partition] += 1
    records.append(Record(0, offsets[0], b"\xffnot an event"))
    return records


def rebuilt(records: list[Record], batch: int = 37) -> Rebuild:
    rebuild = Rebuild(read_models(load_process(None), "Europe/Berlin"))
    by_partition = {p: [r for r in records if r.partition == p] for p in range(PARTITIONS)}
    for p, mine in by_partition.items():  # in batches, interleaved, as fetches arrive
        for start in range(0, len(mine), batch):
            rebuild.fold(p, mine[start : start + batch])
    rebuild.finish()
    return rebuild


def files(rebuild: Rebuild) -> dict[str, bytes]:
    return {m.name: document(m.name, rebuild.partials(m.name)) for m in rebuild.models}


def parsed(rebuild: Rebuild) -> dict[str, dict[tuple[int, str], Any]]:
    return {m.name: {k: orjson.loads(v) for k, v in rebuild.partials(m.name).items()} for m in rebuild.models}


def test_a_rebuild_is_byte_identical_however_the_log_is_batched_and_equals_the_pure_fold() -> None:
    records = log()
    first, second = rebuilt(records), rebuilt(records, batch=1000)
    assert files(first) == files(second)
    assert first.events == len(records) and dict(first.skipped) == {"not_json": 1}
    assert first.positions() == {p: sum(r.partition == p for r in records) for p in range(PARTITIONS)}

    rep_files = orjson.loads(files(first)["rep-activity"])
    assert rep_files["model"] == "rep-activity"
    rows = rep_files["partials"]
    assert rows == sorted(rows, key=lambda row: (row[0], row[1]))  # sorted by (partition, key)
    # The partials per partition merge to the pure fold of the whole history.
    events = [
        e.recorded(RECORDED) for e in itertools.islice(simulate_envelopes(7, 10, 60, date(2026, 1, 5)), 400)
    ]
    expected = {rep: state.to_dict() for rep, state in rep_activity.fold(events).items()}
    merged = rep_activity.merge_all(
        (key, rep_activity.RepActivity.from_dict(state)) for _partition, key, (_offset, state) in rows
    )
    assert {rep: state.to_dict() for rep, state in merged.items()} == expected


def test_the_same_log_compares_equal_and_a_shorter_one_differs_exactly_where_it_should() -> None:
    records = log()
    full = parsed(rebuilt(records))
    assert compare(full, parsed(rebuilt(records))) == []

    cut = max(r.offset for r in records if r.partition == 1) - 20  # partition 1 loses its last 21
    shorter = parsed(rebuilt([r for r in records if r.partition != 1 or r.offset < cut]))
    differences = compare(full, shorter)
    assert differences and {d.partition for d in differences} == {1}
    for d in differences:  # the live side has folded events the shorter replay lacks
        assert d.live[0] >= cut and (d.replay is None or d.replay[0] < cut)
    assert last_offsets(full)[1] == max(d.live[0] for d in differences)
    assert compare(full, shorter) == compare(full, shorter)  # deterministic order


def test_a_tampered_partial_is_named_with_both_values() -> None:
    records = log()
    live, replay = parsed(rebuilt(records)), parsed(rebuilt(records))
    (partition, key), (offset, state) = next(iter(live["rep-activity"].items()))
    live["rep-activity"][partition, key] = [offset, {**state, "calls": state["calls"] + 1}]
    extra = (partition, "ghost-rep")
    live["rep-activity"][extra] = [offset, state]
    del live["funnel"][next(iter(live["funnel"]))]

    differences = compare(live, replay)
    assert [(d.model, d.partition, d.key) for d in differences][:1] == [
        ("funnel", *next(iter(replay["funnel"])))
    ]
    assert differences[0].live is None and differences[0].replay is not None
    tampered = [d for d in differences if d.model == "rep-activity"]
    assert tampered == sorted(
        [
            Difference(
                "rep-activity",
                partition,
                key,
                [offset, {**state, "calls": state["calls"] + 1}],
                [offset, state],
            ),
            Difference("rep-activity", partition, "ghost-rep", [offset, state], None),
        ],
        key=lambda d: (d.partition, d.key),
    )
    text = next(d for d in tampered if d.key == key).describe()
    assert (
        f"rep-activity partition {partition} key {key!r}" in text and f'"calls":{state["calls"] + 1}' in text
    )


def test_long_values_are_shortened_around_the_first_difference() -> None:
    a, b = "x" * 500 + "A" + "y" * 500, "x" * 500 + "B" + "y" * 500
    short_a, short_b = shortened(a, b, width=80)
    assert len(short_a) <= 82 and "A" in short_a and "B" in short_b
    assert short_a.startswith("…") and short_a.endswith("…")


def test_folds_of_disjoint_partitions_merge_into_the_fold_of_them_all() -> None:
    records = log()
    whole = rebuilt(records)
    parts = [rebuilt([r for r in records if r.partition in share]) for share in ({0, 3}, {1}, {2})]
    merged = Folded.merged([Folded.of(part) for part in parts])
    assert {m.name: document(m.name, merged.partials(m.name)) for m in merged.models} == files(whole)
    assert summary(merged) == summary(whole) and merged.skipped == whole.skipped == {"not_json": 1}


def test_the_partitions_are_shared_out_by_size_and_empty_ones_dropped() -> None:
    spans = [Span(0, 0, 900), Span(1, 0, 500), Span(2, 0, 450), Span(3, 10, 10)]
    assert shares(spans, 2) == [[Span(0, 0, 900)], [Span(1, 0, 500), Span(2, 0, 450)]]
    assert shares(spans, 8) == [[Span(0, 0, 900)], [Span(1, 0, 500)], [Span(2, 0, 450)]]
    assert shares(spans, 1) == [[Span(0, 0, 900), Span(1, 0, 500), Span(2, 0, 450)]]
