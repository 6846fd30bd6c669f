"""The write model on a real SQLite file: idempotent ids, process rules, hash chains, relay rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from events import Envelope, parse_event
from sales.process import load_process
from services.settings import Settings
from services.writemodel.aggregates import GENESIS, chain_hash
from services.writemodel.application import WriteModel
from services.writemodel.environment import write_model_env
from services.writemodel.outcomes import Outcome

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "events"


def sample(name: str, **changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((SAMPLES / f"{name}.v1.json").read_text())
    data = changes.pop("data", {})
    return {**document, **changes, "data": {**document["data"], **data}}


def event(document: dict[str, Any]) -> Envelope:
    return parse_event(json.dumps(document))


def open_model(database_url: str, cache: int = 1000) -> WriteModel:
    settings = Settings(database_url=database_url, aggregate_cache_size=cache)
    return WriteModel(load_process(None), write_model_env(settings))


@pytest.fixture
def db(tmp_path: Path) -> str:
    """The database under test (tests/integration/test_write_model_postgres.py runs these on PostgreSQL)."""
    return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"


@pytest.fixture
def other_db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'other.sqlite3'}"


def outcomes(model: WriteModel, *documents: dict[str, Any]) -> list[Outcome]:
    return [r.outcome for r in model.record([event(d) for d in documents])]


def test_an_event_is_accepted_once_and_its_repeat_is_a_duplicate_after_reopening(db: str) -> None:
    assert outcomes(open_model(db), sample("LeadCaptured")) == [Outcome.ACCEPTED]
    assert outcomes(open_model(db), sample("LeadCaptured")) == [Outcome.DUPLICATE]


def test_same_id_different_content_is_a_conflict_and_two_sources_may_share_an_id(db: str) -> None:
    model = open_model(db)
    model.record([event(sample("CallLogged"))])
    changed = sample("CallLogged", data={"duration_seconds": 1})
    other_source = sample("CallLogged", source="/another/dialer")
    assert outcomes(model, changed, other_source) == [Outcome.CONFLICT, Outcome.ACCEPTED]


def test_repeats_within_one_batch_are_recognised(db: str) -> None:
    model = open_model(db)
    lead = sample("LeadCaptured")
    assert outcomes(model, lead, lead) == [Outcome.ACCEPTED, Outcome.DUPLICATE]


def test_a_deal_event_before_the_deal_is_opened_violates_a_named_rule(db: str) -> None:
    model = open_model(db)
    (result,) = model.record([event(sample("NeedsAssessed"))])
    assert result.outcome is Outcome.VIOLATION
    assert result.rule == "deal_not_open" and result.message
    assert model.read_after(0, 10) == []


def test_qualifying_the_lead_opens_its_deal(db: str) -> None:
    model = open_model(db)
    assert (
        outcomes(model, sample("LeadCaptured"), sample("LeadQualified"), sample("NeedsAssessed"))
        == [Outcome.ACCEPTED] * 3
    )


def test_a_violation_in_a_batch_rejects_only_that_event(db: str) -> None:
    model = open_model(db)
    results = outcomes(model, sample("NeedsAssessed"), sample("LeadCaptured"))
    assert results == [Outcome.VIOLATION, Outcome.ACCEPTED]


def test_relay_rows_are_the_recorded_events_in_order_with_a_hash_chain_per_aggregate(db: str) -> None:
    model = open_model(db)
    calls = [sample("CallLogged", id=f"call-{n}") for n in range(3)]
    model.record([event(sample("LeadCaptured")), *map(event, calls)])
    rows = model.read_after(0, 100)
    assert [r.event_id for r in rows] == ["evt-leadcaptured-1", "call-0", "call-1", "call-2"]
    assert {r.partition_key for r in rows} == {"lead-001"}
    previous = GENESIS
    for row in rows:
        headers = dict(row.headers)
        assert headers["salesledger.prevhash"].decode() == previous
        key = f"{json.loads(row.body)['source']}\n{row.event_id}"
        assert headers["salesledger.hash"].decode() == chain_hash(previous, key, row.body.decode())
        previous = headers["salesledger.hash"].decode()
    assert [r.seq for r in rows] == sorted(r.seq for r in rows)
    assert model.read_after(rows[1].seq, 100) == rows[2:]


def test_the_relay_position_only_moves_forward(db: str) -> None:
    model = open_model(db)
    assert model.position("relay") == 0
    model.save_position("relay", 9)
    model.save_position("relay", 4)
    assert open_model(db).position("relay") == 9


def test_each_store_has_a_stable_identity(db: str, other_db: str) -> None:
    first = open_model(db).store_id
    assert open_model(db).store_id == first
    assert open_model(other_db).store_id != first


def test_two_writers_on_one_aggregate_both_succeed_through_the_retry(db: str) -> None:
    first, second = open_model(db), open_model(db)
    first.record([event(sample("LeadCaptured"))])
    second.record([event(sample("CallLogged", id="call-a"))])  # `first` holds a stale cached lead now
    assert outcomes(first, sample("CallLogged", id="call-b")) == [Outcome.ACCEPTED]
    assert [r.event_id for r in first.read_after(0, 10)] == ["evt-leadcaptured-1", "call-a", "call-b"]


def test_long_histories_reload_from_snapshots(db: str) -> None:
    model = open_model(db, cache=0)
    calls = [event(sample("CallLogged", id=f"call-{n}")) for n in range(250)]
    model.record([event(sample("LeadCaptured")), *calls])
    assert outcomes(open_model(db, cache=0), sample("CallLogged", id="call-last")) == [Outcome.ACCEPTED]
    rows = open_model(db).read_after(0, 1000)
    assert len(rows) == 252
    assert dict(rows[-1].headers)["salesledger.prevhash"] == dict(rows[-2].headers)["salesledger.hash"]


def test_times_at_the_edge_of_the_calendar_are_fingerprinted_without_overflow(db: str) -> None:
    """Found by schemathesis: year 1 with a positive offset is before datetime.min in UTC."""
    early = sample("CallLogged", time="0001-01-01T01:00:00+03:04")
    assert outcomes(open_model(db), early, early) == [Outcome.ACCEPTED, Outcome.DUPLICATE]
