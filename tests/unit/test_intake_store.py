"""The intake store: an event id is accepted once, forever; a changed repeat is a conflict."""

from __future__ import annotations

from pathlib import Path

from events import parse_event
from services.intake.store import Outcome, SqliteIntake
from tests.samples import call_logged, encode


def event(**changes: object):  # type: ignore[no-untyped-def]
    return parse_event(encode(call_logged(**changes)))  # type: ignore[arg-type]


def test_first_delivery_is_accepted_and_a_repeat_is_a_duplicate_even_after_reopening(tmp_path: Path) -> None:
    store = SqliteIntake(tmp_path / "intake.sqlite3")
    (first,) = store.append([event(event_id="e-1")])
    assert first.outcome is Outcome.ACCEPTED and first.seq == 1
    store.close()

    reopened = SqliteIntake(tmp_path / "intake.sqlite3")
    (again,) = reopened.append([event(event_id="e-1")])
    assert again.outcome is Outcome.DUPLICATE and again.seq == 1
    assert reopened.last_seq() == 1


def test_a_repeat_with_a_new_recorded_time_is_still_a_duplicate(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    store = SqliteIntake(tmp_path / "intake.sqlite3")
    store.append([event(event_id="e-1").recorded(datetime(2026, 11, 2, tzinfo=UTC))])
    (again,) = store.append([event(event_id="e-1").recorded(datetime(2026, 11, 3, tzinfo=UTC))])
    assert again.outcome is Outcome.DUPLICATE


def test_same_id_with_different_content_is_a_conflict_and_the_first_version_stays(tmp_path: Path) -> None:
    store = SqliteIntake(tmp_path / "intake.sqlite3")
    store.append([event(event_id="e-1", duration_seconds=60)])
    (conflict,) = store.append([event(event_id="e-1", duration_seconds=61)])
    assert conflict.outcome is Outcome.CONFLICT
    (row,) = store.read_after(0, 10)
    assert b'"duration_seconds":60' in row.body


def test_a_batch_keeps_its_order_and_reports_duplicates_within_itself(tmp_path: Path) -> None:
    store = SqliteIntake(tmp_path / "intake.sqlite3")
    results = store.append([event(event_id="a"), event(event_id="b"), event(event_id="a")])
    assert [r.outcome for r in results] == [Outcome.ACCEPTED, Outcome.ACCEPTED, Outcome.DUPLICATE]
    assert [row.event_id for row in store.read_after(0, 10)] == ["a", "b"]
    assert [row.event_id for row in store.read_after(1, 10)] == ["b"]


def test_positions_only_move_forward(tmp_path: Path) -> None:
    store = SqliteIntake(tmp_path / "intake.sqlite3")
    assert store.position("relay") == 0
    store.save_position("relay", 10)
    store.save_position("relay", 7)
    assert store.position("relay") == 10


def test_each_store_has_a_stable_identity(tmp_path: Path) -> None:
    first = SqliteIntake(tmp_path / "a.sqlite3").store_id
    assert SqliteIntake(tmp_path / "a.sqlite3").store_id == first
    assert SqliteIntake(tmp_path / "b.sqlite3").store_id != first


def test_two_sources_may_use_the_same_id(tmp_path: Path) -> None:
    store = SqliteIntake(tmp_path / "intake.sqlite3")
    dialer = parse_event(encode(call_logged(event_id="call-1")))
    crm = parse_event(encode({**call_logged(event_id="call-1"), "source": "/crm/eu"}))
    assert [r.outcome for r in store.append([dialer, crm])] == [Outcome.ACCEPTED, Outcome.ACCEPTED]


def test_a_repeat_stating_the_same_instant_in_another_time_zone_is_a_duplicate(tmp_path: Path) -> None:
    store = SqliteIntake(tmp_path / "intake.sqlite3")
    store.append([event(event_id="e-1", time="2026-11-02T10:15:00+01:00")])
    (again,) = store.append([event(event_id="e-1", time="2026-11-02T09:15:00Z")])
    assert again.outcome is Outcome.DUPLICATE
