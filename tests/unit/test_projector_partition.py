"""The projector's batch fold: same states as the pure folds, exactly once, whatever the batching."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events import Envelope, parse_event, serialize_event
from projections import development, funnel, kpi_fold, org, pipeline, rep_activity
from projections.incentives import ledger
from sales.process import default_process
from services.projector.partition import POSITION, PartitionProjection, split_storage_key
from services.projector.readmodels import ReadModel, read_models
from services.projector.store import MemoryStore, PartitionStore, RocksStore
from services.simulator import simulate_envelopes

TZ = "Europe/Berlin"
PROCESS = default_process()
MODELS = read_models(PROCESS, TZ)
RECORDED = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def history(seed: int = 5, leads: int = 40) -> list[Envelope]:
    events = simulate_envelopes(seed, reps=4, leads=leads, start=date(2026, 2, 2), weeks=10)
    return [parse_event(serialize_event(event.recorded(RECORDED))) for event in events]


HISTORY = history()


def fold_in_batches(
    projection: PartitionProjection, events: Sequence[Envelope], batch: int, first_offset: int = 0
) -> None:
    for start in range(0, len(events), batch):
        for offset, event in enumerate(events[start : start + batch], start=first_offset + start):
            projection.fold(offset, event)
        projection.pending()
        projection.written(first_offset + start)


def states(projection: PartitionProjection, model: ReadModel) -> dict[str, Any]:
    found = {key: model.decode(key, raw).state for key, raw in projection.partials(model.name)}
    if model.name == "org":  # one partial per rep or territory; queries merge them
        return {"org": org.merge_all(found.values())}
    return found


def model(name: str) -> ReadModel:
    return next(m for m in MODELS if m.name == name)


def expected() -> dict[str, dict[str, Any]]:
    """Every read model as the pure folds of `projections` compute it over the whole history."""
    return {
        "rep-activity": rep_activity.fold(HISTORY),
        "pipeline": pipeline.fold(HISTORY, PROCESS),
        "funnel": funnel.fold(HISTORY, PROCESS),
        "org": {"org": org.fold(HISTORY)},
        "kpis": dict(kpi_fold.fold(HISTORY, TZ).partials),
        "development": {f"rep:{rep}": state for rep, state in development.fold(HISTORY).items()},
        "incentives": ledger.fold(HISTORY),
    }


@pytest.fixture(params=["memory", "rocksdb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PartitionStore]:
    made: PartitionStore = MemoryStore() if request.param == "memory" else RocksStore(tmp_path / "p0")
    yield made
    made.close()


@pytest.mark.parametrize("batch", [1, 7, 500])
def test_batched_fold_equals_the_pure_folds_of_every_read_model(store: PartitionStore, batch: int) -> None:
    projection = PartitionProjection(0, MODELS, store, cache_size=50)
    fold_in_batches(projection, HISTORY, batch)
    want = expected()
    for m in MODELS:
        assert states(projection, m) == want[m.name], m.name
    assert projection.position == len(HISTORY)


def test_a_redelivered_batch_changes_nothing_and_counts_as_duplicates() -> None:
    projection = PartitionProjection(0, MODELS, MemoryStore())
    fold_in_batches(projection, HISTORY, 100)
    before = {m.name: states(projection, m) for m in MODELS}
    projection.take_outcomes()
    fold_in_batches(projection, HISTORY[:150], 50)  # the same offsets again, after a crash
    assert {m.name: states(projection, m) for m in MODELS} == before
    outcomes = projection.take_outcomes()
    assert not [key for key in outcomes if key[1] == "applied"]
    assert outcomes[("pipeline", "duplicate")] > 0


def test_state_and_position_survive_reopening_a_rocksdb_store(tmp_path: Path) -> None:
    first = PartitionProjection(0, MODELS, RocksStore(tmp_path / "p0"))
    fold_in_batches(first, HISTORY[:200], 64)
    first.store.close()
    second = PartitionProjection(0, MODELS, RocksStore(tmp_path / "p0"))
    assert second.position == 200
    assert second.store.changelog_offset == 192  # the last batch's changelog offset in this test
    fold_in_batches(second, HISTORY[200:], 64, first_offset=200)
    for m in MODELS:
        assert states(second, m) == expected()[m.name], m.name


def test_pending_writes_each_touched_partial_once_plus_the_position() -> None:
    projection = PartitionProjection(0, MODELS, MemoryStore())
    keys_seen = [key for e in HISTORY if (key := pipeline.key_of(e)) is not None]
    deal = max(set(keys_seen), key=keys_seen.count)
    deal_events = [e for e in HISTORY if pipeline.key_of(e) == deal]
    assert len(deal_events) > 2
    for offset, event in enumerate(deal_events):
        projection.fold(offset, event)
    records = projection.pending()
    assert records[POSITION] == str(len(deal_events)).encode()
    keys = [split_storage_key(key) for key in records if key != POSITION]
    assert len(keys) == len(set(keys))
    assert keys.count(("pipeline", deal)) == 1


def test_queries_see_a_batch_before_it_is_written() -> None:
    projection = PartitionProjection(0, MODELS, MemoryStore())
    fold_in_batches(projection, HISTORY[:100], 100)
    for offset, event in enumerate(HISTORY[100:], start=100):
        projection.fold(offset, event)
    assert states(projection, model("pipeline")) == pipeline.fold(HISTORY, PROCESS)
    projection.pending()
    assert states(projection, model("pipeline")) == pipeline.fold(HISTORY, PROCESS)


def test_an_event_a_fold_cannot_take_changes_no_read_model() -> None:
    def explode(event: Envelope) -> Any:
        raise ValueError("boom")

    broken = ReadModel(
        "broken", lambda e: (("k", explode),), lambda _k: None, lambda s: {}, lambda _k, d: None
    )
    projection = PartitionProjection(0, (*MODELS, broken), MemoryStore())
    with pytest.raises(ValueError):
        projection.fold(0, HISTORY[0])
    projection.skip(0)
    assert projection.position == 1
    assert all(not list(projection.partials(m.name)) for m in MODELS)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=60), min_size=1, max_size=12))
def test_any_batching_gives_the_same_states(cuts: list[int]) -> None:
    events = HISTORY[:300]
    projection = PartitionProjection(0, MODELS, MemoryStore(), cache_size=10)
    offset = 0
    for size in [*cuts, len(events)]:
        chunk = events[offset : offset + size]
        fold_in_batches(projection, chunk, len(chunk) or 1, first_offset=offset)
        offset += len(chunk)
    reference = PartitionProjection(0, MODELS, MemoryStore())
    fold_in_batches(reference, events, len(events))
    for m in MODELS:
        assert states(projection, m) == states(reference, m), m.name
