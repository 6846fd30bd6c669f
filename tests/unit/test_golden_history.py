"""The golden history (`tests.golden`): a checked-in canonical log covering every event type, and
the read models the replay must write for it, byte for byte.

A failure here means a fold's output changed. If that was the intent, regenerate with
``.venv/bin/python -m tests.golden --write`` and have the diff of ``tests/data/golden/expected/``
reviewed; otherwise the change has a bug. See `tests.golden` for when regenerating is legitimate.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import pytest

from events.catalogue import EVENT_TYPES
from events.envelope import Envelope
from events.parse import parse_logged_event, serialize_event
from projections import funnel, kpi_fold, org, pipeline, rep_activity
from projections.incentives import ledger
from sales.process import load_process
from services.outbox.relay import partition_for
from services.projector import kpi_codec
from tests import golden


@cache
def log() -> tuple[golden.Record, ...]:
    return tuple(golden.read_log())


@cache
def values() -> tuple[dict[str, Any], ...]:
    """The log's events as plain JSON, read without the catalogue's models."""
    return tuple(orjson.loads(record.value) for record in log())


@cache
def events() -> tuple[Envelope, ...]:
    return tuple(parse_logged_event(record.value) for record in log())


def expected_file(name: str) -> dict[str, Any]:
    document: dict[str, Any] = orjson.loads((golden.EXPECTED / f"{name}.json").read_bytes())
    return document


def states(name: str) -> dict[str, Any]:
    """A checked-in read model's states by key; a key may only live in one source partition."""
    rows = expected_file(name)["partials"]
    keys = [key for _partition, key, _partial in rows]
    duplicated = sorted(key for key, n in Counter(keys).items() if n > 1)
    if name not in ("rep-activity", "kpis", "incentives"):  # keyed by their own aggregate
        assert duplicated == [], f"{name}: keys in several partitions: {duplicated[:5]}"
    return {key: state for _partition, key, (_offset, state) in rows}


def rows(name: str) -> list[tuple[int, str, int, Any]]:
    return [(p, key, offset, state) for p, key, (offset, state) in expected_file(name)["partials"]]


def as_json(value: Any) -> Any:
    """A state as it reads back from JSON (Decimals as strings, as the read models store them)."""
    return orjson.loads(orjson.dumps(value, default=str))


# --- the log ---------------------------------------------------------------------------------


def test_the_log_covers_every_event_type_of_the_catalogue() -> None:
    # A new event type fails this until the golden log holds it (`python -m tests.golden --write --log`).
    assert {value["type"] for value in values()} == set(EVENT_TYPES)


def test_the_log_is_shaped_as_the_relay_writes_it() -> None:
    records = log()
    assert 2_000 <= len(records) <= 5_000
    assert golden.EVENTS.stat().st_size < 3_000_000
    by_partition: dict[int, list[int]] = defaultdict(list)
    for record in records:
        by_partition[record.partition].append(record.offset)
        assert record.partition == partition_for(record.key, golden.PARTITIONS)
    assert sorted(by_partition) == list(range(golden.PARTITIONS))
    for offsets in by_partition.values():
        assert offsets == list(range(len(offsets)))
    for record, event in zip(records, events(), strict=True):
        assert record.key == event.partition_key
        assert serialize_event(event) == record.value  # canonical bytes, read back unchanged
        assert event.recordedtime == golden.RECORDED
    assert len({event.id for event in events()}) == len(records)


# --- replay against expected/ ----------------------------------------------------------------


def test_replay_writes_exactly_the_expected_files_twice_in_a_row(tmp_path: Path) -> None:
    first = golden.written(log(), tmp_path / "first")
    second = golden.written(log(), tmp_path / "second")
    assert first == second
    assert sorted(first) == sorted(golden.expected())
    for name, content in golden.expected().items():
        assert first[name] == content, (
            f"{name} differs from tests/data/golden/expected/: a fold changed "
            "(on purpose? `python -m tests.golden --write` and review the diff)"
        )


def test_the_batching_of_the_log_changes_nothing() -> None:
    def encoded(batch: int) -> dict[str, dict[tuple[int, str], bytes]]:
        rebuild = golden.rebuild(log(), batch=batch)
        return {model.name: rebuild.partials(model.name) for model in rebuild.models}

    assert encoded(1) == encoded(len(log()))


# --- expected/ against the pure folds --------------------------------------------------------


def test_the_read_models_merge_to_the_pure_folds_of_the_whole_history() -> None:
    process, history = load_process(None), events()
    adapters = {model.name: model for model in golden.models()}

    def decoded(name: str) -> list[tuple[str, Any]]:
        model = adapters[name]
        return [(key, model.from_dict(key, state)) for _p, key, _offset, state in rows(name)]

    merged_activity = rep_activity.merge_all(decoded("rep-activity"))
    assert {rep: s.to_dict() for rep, s in merged_activity.items()} == {
        rep: s.to_dict() for rep, s in rep_activity.fold(history).items()
    }

    assert states("pipeline") == {
        key: as_json(part.to_dict()) for key, part in pipeline.fold(history, process).items()
    }
    assert states("funnel") == {
        key: as_json(track.to_dict()) for key, track in funnel.fold(history, process).items()
    }

    merged_org = org.merge_all(state for _key, state in decoded("org"))
    assert as_json(merged_org.to_dict()) == as_json(org.fold(history).to_dict())

    book = kpi_fold.merge_partials(decoded("kpis"), golden.TIMEZONE)
    folded = kpi_fold.fold(history, golden.TIMEZONE)
    assert {k: as_json(kpi_codec.encode_partial(p)) for k, p in book.partials.items()} == {
        k: as_json(kpi_codec.encode_partial(p)) for k, p in folded.partials.items()
    }

    merged_ledger = ledger.merge_all(decoded("incentives"))
    assert dict(merged_ledger) == ledger.fold(history)


def test_each_partial_is_at_the_offset_of_the_last_event_that_changed_it() -> None:
    for model in golden.models():
        last: dict[tuple[int, str], int] = {}
        for record, event in zip(log(), events(), strict=True):
            for key, _update in model.changes(event):
                last[record.partition, key] = record.offset
        assert {(p, key): offset for p, key, offset, _state in rows(model.name)} == last, model.name


# --- hand-checked numbers: expected/ against the raw log -------------------------------------


def of_type(*types: str) -> list[dict[str, Any]]:
    return [value for value in values() if value["type"] in types]


def test_won_and_lost_deals_are_those_the_log_closes_last() -> None:
    outcome: dict[str, str] = {}  # a deal's events share a partition, so log order is their order
    for value in of_type("DealWon", "DealLost", "DealStageChanged"):
        deal = value["data"]["deal_id"]
        if value["type"] == "DealWon":
            outcome[deal] = "won"
        elif value["type"] == "DealLost":
            outcome[deal] = "lost"
        else:
            outcome[deal] = "open"
    won = {deal for deal, result in outcome.items() if result == "won"}
    lost = {deal for deal, result in outcome.items() if result == "lost"}
    assert won == {value["data"]["deal_id"] for value in of_type("DealWon")}  # none reopened after a win
    assert len(won) >= 10 and len(lost) >= 10

    tracks, parts = states("funnel"), states("pipeline")
    assert {key.removeprefix("deal:") for key, t in tracks.items() if t.get("stage") == "won"} == won
    assert {key.removeprefix("deal:") for key, t in tracks.items() if t.get("stage") == "lost"} == lost
    assert {key.removeprefix("deal:") for key, p in parts.items() if p.get("stage") == "won"} == won

    amounts = {v["data"]["deal_id"]: v["data"]["amount"] for v in of_type("DealWon")}
    for deal in won:
        assert parts[f"deal:{deal}"]["won_amount"] == amounts[deal]
        assert parts[f"deal:{deal}"]["owner"] == next(
            v["data"]["rep_id"] for v in reversed(of_type("DealWon")) if v["data"]["deal_id"] == deal
        )
    assert sum(Decimal(amounts[deal]["amount"]) for deal in won) == sum(
        Decimal(p["won_amount"]["amount"]) for p in parts.values() if p.get("won_amount")
    )

    reopened = {
        v["data"]["deal_id"]
        for v in of_type("DealStageChanged")
        if v["data"]["from_stage"] in ("won", "lost")
    }
    assert reopened  # the history holds a reopening
    assert {key.removeprefix("deal:") for key, t in tracks.items() if t.get("reopened")} == reopened


def test_leads_and_activity_count_what_the_log_holds() -> None:
    tracks = states("funnel")
    captured = {v["data"]["lead_id"] for v in of_type("LeadCaptured")}
    qualified = {v["data"]["lead_id"] for v in of_type("LeadQualified")}
    assert {key.removeprefix("lead:") for key, t in tracks.items() if t.get("captured")} == captured
    assert {key.removeprefix("lead:") for key, t in tracks.items() if t.get("qualified")} == qualified

    calls: Counter[str] = Counter()
    connected: Counter[str] = Counter()
    talk: Counter[str] = Counter()
    leads: Counter[str] = Counter()
    for v in of_type("CallLogged"):
        rep = v["data"]["rep_id"]
        calls[rep] += 1
        connected[rep] += v["data"]["outcome"] == "connected"
        talk[rep] += v["data"]["duration_seconds"]
    for v in of_type("LeadCaptured"):
        if v["data"].get("rep_id"):
            leads[v["data"]["rep_id"]] += 1
    totals: dict[str, Counter[str]] = defaultdict(Counter)
    for _p, rep, _offset, state in rows("rep-activity"):  # a rep's partials in several partitions add up
        totals[rep].update(state)
    assert {rep: t["calls"] for rep, t in totals.items() if t["calls"]} == dict(calls)
    assert {rep: t["connected_calls"] for rep, t in totals.items() if t["connected_calls"]} == {
        rep: n for rep, n in connected.items() if n
    }
    assert {rep: t["talk_seconds"] for rep, t in totals.items() if t["talk_seconds"]} == {
        rep: n for rep, n in talk.items() if n
    }
    assert {rep: t["leads_captured"] for rep, t in totals.items() if t["leads_captured"]} == dict(leads)


def test_the_org_and_the_incentive_facts_are_those_of_the_log() -> None:
    reps = states("org")
    onboarded = {v["data"]["rep_id"] for v in of_type("RepOnboarded")}
    left = {v["data"]["rep_id"] for v in of_type("RepLeft")}
    assert {key.removeprefix("rep:") for key in reps if key.startswith("rep:")} == onboarded
    assert (
        left
        and {
            rep
            for key, s in reps.items()
            if key.startswith("rep:")
            for rep, h in s["reps"].items()
            if not h[-1]["active"]
        }
        == left
    )
    moved = of_type("RepMovedTeam")[0]["data"]
    history = reps[f"rep:{moved['rep_id']}"]["reps"][moved["rep_id"]]
    assert {
        "effective_from": moved["effective_from"],
        "team_id": moved["to_team_id"],
        "active": True,
    } in history

    entries = states("incentives")
    facts = of_type(*(fact.__name__ for fact in ledger.FACTS))
    assert sum(len(state["entries"]) for state in entries.values()) == len(facts)
    (payout,) = entries["PayoutApproved|rep-007"]["entries"]
    assert payout[0] == "golden-payout-rep-007-2026-q3" and payout[4] == "2027-01-04T09:00:00+00:00"
    assert orjson.loads(payout[3])["amount"] == {"amount": "1148.00", "currency": "EUR"}
    (adjustment,) = entries["CommissionAdjusted|rep-007"]["entries"]
    assert orjson.loads(adjustment[3])["deal_id"] == "deal-000208"


def test_the_summary_counts_every_record_and_skips_none() -> None:
    summary = expected_file("replay")
    per_partition = Counter(record.partition for record in log())
    assert summary["events"] == len(log())
    assert summary["positions"] == {str(p): n for p, n in sorted(per_partition.items())}
    assert summary["skipped"] == {}
    assert summary["models"] == [model.name for model in golden.models()]


def test_the_generator_checks_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert golden.main([]) == 0
    assert "the replay writes exactly expected/" in capsys.readouterr().out
