"""Nothing accepted that the read models cannot hold: whatever the gate admits folds into every one.

Events are drawn from the samples in ``tests/data/events/`` (every type, every version), with the
envelope's time and every money amount fuzzed within and around the gate's bounds (the time window
of `events.parse.TimeWindow`, the digits of `events.money.Amount`), each time written at some UTC
offset. Whatever `services.admission.admit` accepts is put through the event log's codec and folded
into every read model of `services.projector.readmodels.read_models` (each of its changes applied,
the partial encoded and decoded as the projector stores it): none may raise.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from events import Reason, Rejection, serialize_event
from events.parse import TIME_WINDOW, parse_logged_event
from projections.positions import Positioned
from sales.process import load_process
from services.admission import admit
from services.projector.readmodels import read_models
from tests.samples import SAMPLES

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
MODELS = read_models(load_process(None), "Europe/Berlin")
SAMPLE_FILES = sorted(SAMPLES.glob("*.json"))
LATEST = TIME_WINDOW.latest(NOW)
NUMBER = "__number_{}__"


def sample(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def near(instant: datetime, span: timedelta) -> st.SearchStrategy[datetime]:
    """Instants within ``span`` either side of ``instant`` (to the microsecond)."""
    micros = int(span / timedelta(microseconds=1))
    return st.integers(-micros, micros).map(lambda m: instant + timedelta(microseconds=m))


offsets = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))


@st.composite
def event_times(draw: st.DrawFn) -> str:
    """An ISO 8601 time with an offset: anywhere at all, or near the window's edges, or inside it."""
    offset = draw(offsets)
    anywhere = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30))
    kind = draw(st.sampled_from(["anywhere", "earliest", "latest", "inside", "extreme"]))
    if kind == "anywhere":
        return draw(anywhere).replace(tzinfo=offset).isoformat()
    if kind == "extreme":  # the last and first wall-clock times, at any offset
        wall = draw(st.sampled_from([datetime(9999, 12, 31, 23, 59, 59), datetime(1, 1, 1, 0, 30)]))
        return wall.replace(tzinfo=offset).isoformat()
    instant = {
        "earliest": near(TIME_WINDOW.earliest, timedelta(days=2)),
        "latest": near(LATEST, timedelta(days=2)),
        "inside": st.datetimes(
            min_value=TIME_WINDOW.earliest.replace(tzinfo=None), max_value=NOW.replace(tzinfo=None)
        ).map(lambda naive: naive.replace(tzinfo=UTC)),
    }[kind]
    return draw(instant).astimezone(offset).isoformat()


amounts = st.one_of(
    st.decimals(min_value=0, max_value=Decimal("99999999999999.9999"), places=4),
    st.decimals(min_value=Decimal("99999999999999"), max_value=Decimal("1000000000000000"), places=5),
    st.sampled_from(["0", "-0", "0.0001", "0.00001", "1E+3", "99999999999999.9999", "1e999999", "1e-999999"]),
    st.sampled_from(["1e99999999999999999999999999", "-1", "12345678901234.5678"]),
).map(str)


def money_slots(value: Any) -> list[dict[str, Any]]:
    """Every `Money` object in a document (a dict with an amount and a currency)."""
    if isinstance(value, dict):
        found = [value] if {"amount", "currency"} <= value.keys() else []
        return found + [m for v in value.values() for m in money_slots(v)]
    if isinstance(value, list):
        return [m for v in value for m in money_slots(v)]
    return []


@st.composite
def fuzzed_events(draw: st.DrawFn) -> bytes:
    """A sample event with a fuzzed time, and each amount a JSON string or a JSON number."""
    document = copy.deepcopy(sample(draw(st.sampled_from(SAMPLE_FILES))))
    document["time"] = draw(event_times())
    numbers: list[str] = []
    for slot in money_slots(document):
        amount = draw(amounts)
        if draw(st.booleans()):
            slot["amount"] = amount
        else:  # a JSON number, written as drawn
            slot["amount"] = NUMBER.format(len(numbers))
            numbers.append(amount)
    text = json.dumps(document)
    for index, number in enumerate(numbers):
        text = text.replace(json.dumps(NUMBER.format(index)), number)
    return text.encode()


def fold_everywhere(raw: bytes) -> None:
    """Fold an accepted event, as the projector reads it from the log, into every read model."""
    event = parse_logged_event(serialize_event(admit(raw, transport="http", max_bytes=1 << 20, now=NOW)))
    for model in MODELS:
        for key, update in model.changes(event):
            stored = model.encode(Positioned(update(model.empty(key)), 1))
            model.decode(key, stored)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fuzzed_events())
@example(json.dumps({**sample(SAMPLES / "CallLogged.v1.json"), "time": "9999-12-31T23:59:59-01:00"}).encode())
@example(json.dumps({**sample(SAMPLES / "CallLogged.v1.json"), "time": "0001-01-01T00:30:00+01:00"}).encode())
@example(json.dumps({**sample(SAMPLES / "CallLogged.v1.json"), "time": LATEST.isoformat()}).encode())
@example(json.dumps({**sample(SAMPLES / "CallLogged.v1.json"), "time": "1970-01-01T00:00:00Z"}).encode())
def test_issue12_item1_anything_the_gate_accepts_folds_without_error_through_every_read_model(
    raw: bytes,
) -> None:
    try:
        fold_everywhere(raw)
    except Rejection as rejection:
        assert rejection.reason in {Reason.INVALID, Reason.TOO_LARGE}, rejection


def test_every_sample_is_accepted_and_folds_at_the_edges_of_the_window() -> None:
    """The window's bounds are inclusive, and every sample type folds at both of them."""
    for path in SAMPLE_FILES:
        for at in (TIME_WINDOW.earliest, LATEST):
            fold_everywhere(json.dumps({**sample(path), "time": at.isoformat()}).encode())
