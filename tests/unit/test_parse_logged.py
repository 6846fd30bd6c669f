"""The log's fast parse path gives exactly what the gate gives, and falls back to it for the rest."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from events import Reason, Rejection, parse_event, serialize_event
from events.parse import parse_logged_event
from services.simulator import simulate_envelopes

SAMPLES = sorted(Path(__file__).parents[1].joinpath("data", "events").glob("*.json"))
RECORDED = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def logged(raw: bytes) -> tuple[bytes, bytes]:
    """Both parses, re-serialised: equal bytes mean equal values, Decimal exponents included."""
    return serialize_event(parse_event(raw)), serialize_event(parse_logged_event(raw))


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_every_sample_parses_alike_on_both_paths(sample: Path) -> None:
    gate, fast = logged(sample.read_bytes())
    assert fast == gate


def test_a_simulated_history_parses_alike_on_both_paths() -> None:
    history = simulate_envelopes(3, reps=4, leads=60, start=date(2026, 1, 5))
    raws = [serialize_event(event.recorded(RECORDED)) for event in history]
    assert len(raws) > 300
    assert [parse_logged_event(raw) for raw in raws] == [parse_event(raw) for raw in raws]


def test_an_older_version_is_upcast_as_the_gate_does() -> None:
    older = next(p for p in SAMPLES if p.name == "MeetingHeld.v1.json").read_bytes()
    event = parse_logged_event(older)
    assert event.schemaversion == 2
    assert event == parse_event(older)


def test_a_version_newer_than_known_is_rejected_not_accepted() -> None:
    document = json.loads(next(p for p in SAMPLES if p.name == "CallLogged.v1.json").read_bytes())
    document["schemaversion"] = 9
    with pytest.raises(Rejection) as caught:
        parse_logged_event(json.dumps(document).encode())
    assert caught.value.reason is Reason.UNSUPPORTED_VERSION


def test_garbage_is_rejected_with_the_gate_reason() -> None:
    with pytest.raises(Rejection) as caught:
        parse_logged_event(b"{not json")
    assert caught.value.reason is Reason.NOT_JSON
