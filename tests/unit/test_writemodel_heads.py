"""The writer's heads (issue 13): batches decided over cached heads, written in one transaction.

On a real SQLite file: the order a batch is recorded in, heads read back after a restart (their
chains continue), a store written through the library's aggregate objects continued by the head
path, a failed batch leaving the cache as it was, and the cache's own bounds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import IntegrityError

from events import serialize_event
from sales.process import load_process
from sales.routing import apply_event
from services.writemodel.aggregates import GENESIS, EventKey, Ledger, chain_hash, key_id
from services.writemodel.application import RECORDED_TOPIC, WriteModel
from services.writemodel.batch import ledger_id
from services.writemodel.heads import Head, HeadCache
from services.writemodel.outcomes import Outcome, event_key, fingerprint
from tests.unit.test_write_model import event, open_model, outcomes, sample


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"


def chain_of(model: WriteModel, partition_key: str) -> list[tuple[str, str, str]]:
    """(event id, prev hash, hash) of the relayed rows of one aggregate, in order."""
    rows = [r for r in model.read_after(0, 10_000) if r.partition_key == partition_key]
    return [
        (
            r.event_id,
            dict(r.headers)["salesledger.prevhash"].decode(),
            dict(r.headers)["salesledger.hash"].decode(),
        )
        for r in rows
    ]


def test_a_batch_is_recorded_in_the_order_its_events_came_across_aggregates(db: str) -> None:
    model = open_model(db)
    first = sample("LeadCaptured", id="lead-a", subject="lead-a", data={"lead_id": "lead-a"})
    second = sample("LeadCaptured", id="lead-b", subject="lead-b", data={"lead_id": "lead-b"})
    call = sample("CallLogged", id="call-a", subject="lead-a", data={"lead_id": "lead-a"})
    assert outcomes(model, first, second, call) == [Outcome.ACCEPTED] * 3
    assert [r.event_id for r in model.read_after(0, 10)] == ["lead-a", "lead-b", "call-a"]


def test_a_restarted_writer_continues_each_chain_from_the_store(db: str) -> None:
    """A cold cache reads each head back: a lead from its last event, a deal whose last event is
    its opening (no hash of its own yet) through the repository; both chains stay unbroken."""
    model = open_model(db)
    model.record([event(sample("LeadCaptured")), event(sample("LeadQualified"))])
    restarted = open_model(db)
    later = [sample("CallLogged", id="call-after-restart"), sample("NeedsAssessed")]
    assert outcomes(restarted, *later) == [Outcome.ACCEPTED] * 2
    lead_chain = chain_of(restarted, "lead-001")
    assert [link[0] for link in lead_chain] == [
        "evt-leadcaptured-1",
        "evt-leadqualified-1",
        "call-after-restart",
    ]
    previous = GENESIS
    for _, prev_hash, digest in lead_chain:
        assert prev_hash == previous
        previous = digest
    deal_key = sample("NeedsAssessed")["data"]["deal_id"]
    ((_, deal_prev, _),) = chain_of(restarted, deal_key)
    assert deal_prev == GENESIS  # the deal's own chain starts at its first own event


def test_a_store_written_through_aggregate_objects_is_continued(db: str) -> None:
    """Stores written before issue 13 (`Ledger` and `EventKey` saved as aggregates) hold the same
    domain events: the head path continues their chains and knows their event ids."""
    model = open_model(db)
    lead = event(sample("LeadCaptured"))
    ledger = Ledger(kind="lead", key="lead-001")
    ekey = event_key(lead)
    state = apply_event(lead, {}, load_process(None))[("lead", "lead-001")]
    digest = ledger.record(ekey, lead.partition_key, serialize_event(lead).decode(), state)
    model.save(ledger, EventKey(event_key=ekey, fingerprint=fingerprint(lead), ledger_id=ledger.id))
    assert open_model(db).record([lead])[0].outcome is Outcome.DUPLICATE
    continued = open_model(db)
    call = event(sample("CallLogged"))
    assert continued.record([call])[0].outcome is Outcome.ACCEPTED
    last = continued.read_after(0, 10)[-1]
    assert dict(last.headers)["salesledger.prevhash"].decode() == digest
    expected = chain_hash(digest, event_key(call), last.body.decode())
    assert dict(last.headers)["salesledger.hash"].decode() == expected


def test_the_idempotency_key_is_written_in_the_batch_transaction(db: str) -> None:
    model = open_model(db)
    lead = event(sample("LeadCaptured"))
    model.record([lead])
    (stored,) = model.recorder.select_events(key_id(event_key(lead)))
    created: Any = model.mapper.to_domain_event(stored)
    assert isinstance(created, EventKey.Created)
    fields: Any = created  # attributes of an eventsourcing event are dynamic
    assert fields.fingerprint == fingerprint(lead)
    assert fields.ledger_id == ledger_id("lead", "lead-001")


def test_a_batch_the_store_refuses_leaves_the_cached_heads_as_they_were(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = open_model(db)
    model.record([event(sample("LeadCaptured"))])
    lead = ledger_id("lead", "lead-001")
    before = model.heads.get(lead)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise IntegrityError("refused")

    monkeypatch.setattr(model.events, "put", refuse)
    with pytest.raises(IntegrityError):
        model.record([event(sample("CallLogged", id="call-refused"))])
    monkeypatch.undo()
    assert model.heads.get(lead) in (None, before)  # evicted or untouched, never the refused one
    assert outcomes(model, sample("CallLogged", id="call-kept")) == [Outcome.ACCEPTED]
    assert [r.event_id for r in model.read_after(0, 10)] == ["evt-leadcaptured-1", "call-kept"]


def test_the_head_cache_keeps_the_most_recently_used() -> None:
    ids = [uuid4() for _ in range(3)]
    cache = HeadCache(2)
    cache.update({ids[0]: Head.new("lead", "a"), ids[1]: Head.new("lead", "b")})
    assert cache.get(ids[0]) is not None  # now the most recently used
    cache.update({ids[2]: Head.new("lead", "c")})
    assert cache.get(ids[1]) is None and cache.get(ids[0]) is not None and len(cache) == 2
    cache.evict([ids[0]])
    assert cache.get(ids[0]) is None


def test_a_head_cache_of_size_zero_keeps_nothing() -> None:
    cache = HeadCache(0)
    cache.update({uuid4(): Head.new("lead", "a")})
    assert len(cache) == 0


def test_two_writers_that_opened_an_empty_store_meet_through_the_collision(db: str) -> None:
    """Both believe they know every ledger; the second's first event on the first's lead is
    refused by the store (version 1 taken), and the batch redone against the stored lead."""
    first, second = open_model(db), open_model(db)
    assert first.heads.complete and second.heads.complete
    first.record([event(sample("LeadCaptured"))])
    assert outcomes(second, sample("CallLogged", id="call-second")) == [Outcome.ACCEPTED]
    assert not second.heads.complete
    assert not open_model(db).heads.complete  # a store with ledgers: misses ask it
    (captured, call) = chain_of(second, "lead-001")
    assert call[1] == captured[2]  # the call links to the first writer's capture


def test_a_head_cache_that_drops_a_head_is_no_longer_complete() -> None:
    ids = [uuid4() for _ in range(2)]
    cache = HeadCache(1, complete=True)
    cache.update({ids[0]: Head.new("lead", "a")})
    assert cache.complete
    cache.update({ids[1]: Head.new("lead", "b")})
    assert not cache.complete


def test_the_relay_reads_what_the_library_mapper_reads(db: str) -> None:
    """`intake_rows` reads the stored JSON itself; it must say what the library's own mapper says,
    escapes and characters beyond ASCII included."""
    model = open_model(db)
    company = 'Müller & Søn "Ωmega" \\ GmbH \u2028 ✓'
    model.record([event(sample("LeadCaptured", data={"company": company})), event(sample("CallLogged"))])
    rows = model.read_after(0, 10)
    notifications = model.recorder.select_notifications(start=0, limit=10, topics=[RECORDED_TOPIC])
    for row, notification in zip(rows, notifications, strict=True):
        recorded: Any = model.mapper.to_domain_event(notification)
        assert row.body.decode() == recorded.envelope
        assert (row.partition_key, row.event_id) == (
            recorded.partition_key,
            recorded.event_key.split("\n")[1],
        )
        headers = dict(row.headers)
        assert headers["salesledger.prevhash"].decode() == recorded.prev_hash
        assert headers["salesledger.hash"].decode() == recorded.hash
        assert headers["salesledger.version"].decode() == str(recorded.originator_version)
    assert json.loads(rows[0].body)["data"]["company"] == company
