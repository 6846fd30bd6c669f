"""The KPI partials' stored form and the fold's fast paths: same results as the plain definitions.

The live projector stores every partial it touches as ``orjson.dumps(encode_partial(partial))`` and
reads it back with ``decode_partial(key, orjson.loads(...))``, so both must round-trip exactly and
the stored dict must hold nothing but JSON values. Records are encoded and decoded by code
generated per record class, and a timeline takes one record without re-sorting: each is checked
against the plain definition it replaces (`_encode` and `_decode` field by field, sort-based union).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.activities import CallLogged
from events.envelope import Envelope
from events.parse import parse_event, serialize_event
from events.prospecting import LeadCaptured
from projections.kpi_counters import KpiCounters, activity_rule
from projections.kpi_fold import Partial, contributions, decode_partial, encode_partial, fold
from projections.kpi_records import (
    RECORD_TYPES,
    CustomerLost,
    DealClosed,
    DealOpened,
    FactRecorded,
    LeadDecided,
    ObjectiveTarget,
    Record,
    Timeline,
    _decode_fields,
    _decode_record,
    _encode,
    _encode_record,
    _generate,
    _order,
)
from projections.kpi_sources import records_rule
from services.simulator import simulate_envelopes

TZ = "Europe/London"


@cache
def simulated() -> tuple[Envelope, ...]:
    """Events of a simulated org as the projector reads them: serialised, recorded, parsed back."""
    events = itertools.islice(simulate_envelopes(7, 20, 400, date(2026, 1, 5)), 3000)
    recorded = datetime(2027, 1, 1, tzinfo=UTC)
    return tuple(parse_event(serialize_event(event.recorded(recorded))) for event in events)


@cache
def partials() -> dict[str, Partial]:
    return dict(fold(simulated(), TZ).partials)


def json_only(value: object) -> bool:
    """Whether ``value`` is made of str, int, bool, None, lists and str-keyed dicts only."""
    if value is None or type(value) in (str, int, bool):
        return True
    if type(value) is list:
        return all(json_only(item) for item in value)
    if type(value) is dict:
        return all(type(key) is str and json_only(item) for key, item in value.items())
    return False


def reference_encoding(record: Record) -> dict[str, Any]:
    """The stored form of a record as defined: its class name, then `_encode` of each field."""
    return {"record": type(record).__name__} | {
        f.name: _encode(getattr(record, f.name)) for f in fields(record)
    }


def test_the_simulated_history_makes_every_kind_of_partial_and_record() -> None:
    kinds = {
        type(record).__name__ for p in partials().values() if isinstance(p, Timeline) for record in p.records
    }
    assert {type(p) for p in partials().values()} == {KpiCounters, Timeline}
    assert len(kinds) >= 10  # all but the rarest (a churn, an expansion) in 3,000 events


def test_every_partial_of_a_simulated_history_round_trips_through_orjson_exactly() -> None:
    for key, partial in partials().items():
        encoded = encode_partial(partial)
        assert json_only(encoded), key
        stored = orjson.loads(orjson.dumps(encoded))
        assert stored == encoded
        decoded = decode_partial(key, stored)
        assert decoded == partial, key
        assert type(decoded) is type(partial)
        assert encode_partial(decoded) == encoded


def test_decoded_values_have_the_types_of_the_fields() -> None:
    for key, partial in partials().items():
        decoded = decode_partial(key, orjson.loads(orjson.dumps(encode_partial(partial))))
        for record in decoded.records if isinstance(decoded, Timeline) else ():
            assert type(record.at) is datetime and record.at.utcoffset() == timedelta(0)
            for name in ("amount", "target"):
                value = getattr(record, name, None)
                assert value is None or type(value) is Decimal


def test_records_are_stored_field_by_field_as_encode_and_decode_define() -> None:
    for partial in partials().values():
        for record in partial.records if isinstance(partial, Timeline) else ():
            encoded = _encode_record(record)
            assert encoded == reference_encoding(record)
            assert list(encoded) == list(reference_encoding(record))  # same key order, same bytes
            assert _decode_record(encoded) == _decode_fields(type(record), encoded) == record


AT = datetime(2026, 11, 2, 9, 30, 0, 250000, tzinfo=UTC)
EDGE_RECORDS: list[Record] = [
    DealOpened(AT, "e1", "rep-1", None, None, None),
    DealOpened(AT, "e2", "rep-1", date(2027, 1, 31), Decimal("1E+3"), "EUR"),
    FactRecorded(AT, "e3", "rep-1", "ObjectionRaised", objection_id="o-1", category="price"),
    DealClosed(
        AT, "e4", "rep-1", True, Decimal("10.50"), "EUR", (("rep-1", Decimal("50")), ("rep-2", Decimal("50")))
    ),
    DealClosed(AT, "e5", "rep-1", won=False),
    ObjectiveTarget(
        AT, "e6", "rep", "rep-1", "calls", date(2026, 10, 1), date(2026, 12, 31), Decimal("30"), None
    ),
    CustomerLost(datetime(2026, 11, 2, 10, tzinfo=UTC), "e7"),
    LeadDecided(AT.astimezone(), "e8", "rep-1", qualified=True),  # any zone: stored with its offset
]


@pytest.mark.parametrize("record", EDGE_RECORDS, ids=lambda record: type(record).__name__)
def test_optional_fields_decimals_dates_and_splits_round_trip(record: Record) -> None:
    stored = orjson.loads(orjson.dumps(_encode_record(record)))
    assert stored == reference_encoding(record)
    assert _decode_record(stored) == record


def test_a_value_not_of_its_fields_class_is_stored_as_encode_stores_it() -> None:
    odd = replace(DealOpened(AT, "e1", "rep-1", None, None, "EUR"), amount=7)  # type: ignore[arg-type]
    assert _encode_record(odd) == reference_encoding(odd) and _encode_record(odd)["amount"] == 7


def test_a_stored_record_without_a_defaulted_field_takes_the_default() -> None:
    stored = reference_encoding(DealClosed(AT, "e5", "rep-1", won=False))
    del stored["splits"], stored["amount"]
    assert _decode_record(stored) == DealClosed(AT, "e5", "rep-1", won=False)
    with pytest.raises(TypeError):  # a field without a default cannot be left out
        _decode_record({k: v for k, v in stored.items() if k != "rep_id"})


@dataclass(frozen=True, slots=True)
class Checked:
    at: datetime
    event_id: str
    amount: Decimal | None = None

    def __post_init__(self) -> None:
        if self.amount is not None and self.amount < 0:
            raise ValueError("negative")


def test_a_record_class_with_post_init_is_decoded_through_its_constructor() -> None:
    encode, decode = _generate(Checked)
    stored = orjson.loads(orjson.dumps(encode(Checked(AT, "e1", Decimal("2.5")))))
    assert stored == {"record": "Checked", "at": AT.isoformat(), "event_id": "e1", "amount": "2.5"}
    assert decode(stored) == Checked(AT, "e1", Decimal("2.5"))
    with pytest.raises(ValueError, match="negative"):
        decode({**stored, "amount": "-1"})


def test_every_record_class_has_a_codec() -> None:
    assert set(RECORD_TYPES) == {cls.__name__ for cls in RECORD_TYPES.values()}
    for record in EDGE_RECORDS:
        assert RECORD_TYPES[type(record).__name__] is type(record)


def test_counters_merge_store_and_read_every_field() -> None:
    names = [f.name for f in fields(KpiCounters)]
    left = KpiCounters(*range(1, len(names) + 1))
    right = KpiCounters(*range(100, 100 + len(names)))
    assert asdict(left.merge(right)) == {name: getattr(left, name) + getattr(right, name) for name in names}
    assert left.to_dict() == asdict(left) and list(left.to_dict()) == names
    assert KpiCounters.from_dict(left.to_dict()) == left
    assert KpiCounters.from_dict({"calls": "3"}) == KpiCounters(calls=3)  # missing fields are 0


def test_a_subclass_of_an_event_counts_as_that_event() -> None:
    late_call = type("LateCall", (CallLogged,), {})
    late_lead = type("LateLead", (LeadCaptured,), {})
    assert activity_rule(late_call) is activity_rule(CallLogged) is not None
    assert records_rule(late_lead) is records_rule(LeadCaptured) is not None
    assert activity_rule(LeadCaptured) is None and records_rule(CallLogged) is None
    assert activity_rule(Envelope) is None and records_rule(Envelope) is None


def test_events_kpis_ignore_contribute_nothing() -> None:
    ignored = [e for e in simulated() if activity_rule(type(e)) is None and records_rule(type(e)) is None]
    assert ignored and all(contributions(event, TZ) == () for event in ignored)


def union(records: list[Record]) -> Timeline:
    """A timeline as defined: the first record per event id and record type, sorted by time."""
    unique: dict[tuple[str, str], Record] = {}
    for record in records:
        unique.setdefault((record.event_id, type(record).__name__), record)
    return Timeline(tuple(sorted(unique.values(), key=_order)))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 5), st.booleans(), st.booleans()), min_size=1, max_size=25
    ),
    st.randoms(use_true_random=False),
)
def test_adding_records_one_by_one_in_any_order_is_the_sorted_union(
    specs: list[tuple[int, int, bool, bool]], rnd: random.Random
) -> None:
    base = datetime(2026, 11, 2, tzinfo=UTC)
    records: list[Record] = [
        LeadDecided(base + timedelta(hours=hour), f"evt-{event}", "rep-1", qualified)
        if decided
        else CustomerLost(base + timedelta(hours=hour), f"evt-{event}")
        for hour, event, decided, qualified in specs
    ]
    rnd.shuffle(records)
    timeline = Timeline()
    for record in records:
        timeline = timeline.merge(Timeline((record,)))
    assert timeline == union(records)
    halves = Timeline((records[0],)).merge(union(records[1:]))  # the many-records path
    assert halves == union(records)


def test_folding_a_shuffled_simulated_history_gives_the_same_partials() -> None:
    shuffled = list(simulated())
    random.Random(3).shuffle(shuffled)
    assert dict(fold(shuffled, TZ).partials) == partials()
