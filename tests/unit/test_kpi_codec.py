"""The KPI partials' stored form (`services.projector.kpi_codec`) and the fold's fast paths.

The live projector stores every partial it touches as ``orjson.dumps([offset, encode_partial(partial)])``
in RocksDB and the projection changelog, and reads it back with ``decode_partial(key, ...)``: both
must round-trip exactly, the stored dict must hold nothing but JSON values, and the bytes must never
change (stores and changelogs written by earlier versions must still decode). Each record type's
encoder and decoder is spelt out by hand, so each is checked against fixed stored bytes (written
by the codecs generated per class that they replaced) and against the plain definition, field by
field. A timeline takes one record without re-sorting: checked against the sort-based union.
"""

from __future__ import annotations

import itertools
import random
import types
from dataclasses import MISSING, asdict, fields, replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from functools import cache
from typing import Any, Union, get_args, get_origin, get_type_hints

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.activities import CallLogged
from events.envelope import Envelope
from events.parse import parse_event, serialize_event
from events.prospecting import LeadCaptured
from projections.kpi_counters import KpiCounters, activity_rule
from projections.kpi_fold import Partial, contributions, fold
from projections.kpi_records import (
    RECORD_TYPES,
    CustomerLost,
    CustomerSale,
    CustomerWon,
    DealClosed,
    DealOpened,
    FactRecorded,
    LeadDecided,
    LeadEntered,
    ObjectionAnswered,
    ObjectiveTarget,
    QuotaSet,
    Record,
    StageMoved,
    Timeline,
    _order,
)
from projections.kpi_sources import records_rule
from projections.positions import Positioned
from sales.process import load_process
from services.projector.kpi_codec import (
    decode_counters,
    decode_partial,
    decode_record,
    encode_counters,
    encode_partial,
    encode_record,
)
from services.projector.readmodels import read_models
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


def _encode(value: object) -> object:
    """A field's stored value as defined: Decimal as str, date and datetime in ISO, tuple as list."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):  # a datetime is a date too
        return value.isoformat()
    if isinstance(value, tuple):
        return [_encode(item) for item in value]
    return value


def _decode(value: Any, hint: Any) -> Any:
    """A field's value from its stored value and type, as defined."""
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        return None if value is None else _decode(value, next(arg for arg in args if arg is not type(None)))
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(item, args[0]) for item in value)
        return tuple(_decode(item, arg) for item, arg in zip(value, args, strict=True))
    if hint is Decimal:
        return Decimal(value)
    if hint is datetime:
        return datetime.fromisoformat(value)
    if hint is date:
        return date.fromisoformat(value)
    return value


def reference_encoding(record: Record) -> dict[str, Any]:
    """The stored form of a record as defined: its class name, then `_encode` of each field."""
    return {"record": type(record).__name__} | {
        f.name: _encode(getattr(record, f.name)) for f in fields(record)
    }


def reference_decoding(data: dict[str, Any]) -> Record:
    """A record from its stored form as defined: `_decode` of each field present (others default)."""
    cls = RECORD_TYPES[data["record"]]
    hints = get_type_hints(cls)
    record: Record = cls(
        **{f.name: _decode(data[f.name], hints[f.name]) for f in fields(cls) if f.name in data}
    )
    return record


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


def test_records_are_stored_field_by_field_as_defined() -> None:
    for partial in partials().values():
        for record in partial.records if isinstance(partial, Timeline) else ():
            encoded = encode_record(record)
            assert encoded == reference_encoding(record)
            assert list(encoded) == list(reference_encoding(record))  # same key order, same bytes
            assert decode_record(encoded) == reference_decoding(encoded) == record


AT = datetime(2026, 11, 2, 9, 30, 0, 250000, tzinfo=UTC)
PARIS = datetime(2026, 11, 2, 10, 30, tzinfo=timezone(timedelta(hours=1)))
SPLITS = (("rep-1", Decimal("66.6667")), ("rep-2", Decimal("33.3333")))
Q4 = (date(2026, 10, 1), date(2026, 12, 31))

# One record or more of every type, with the bytes the generated codecs (before they moved to the
# projector) stored for it: stores and changelogs hold exactly these.
STORED: list[tuple[Record, str]] = [
    (
        LeadEntered(AT, "e01", None, "inbound"),
        '{"record":"LeadEntered","at":"2026-11-02T09:30:00.250000+00:00","event_id":"e01","rep_id":null,'
        '"source":"inbound"}',
    ),
    (
        LeadDecided(PARIS, "e02", "rep-1", True),  # any zone: stored with its offset
        '{"record":"LeadDecided","at":"2026-11-02T10:30:00+01:00","event_id":"e02","rep_id":"rep-1",'
        '"qualified":true}',
    ),
    (
        DealOpened(AT, "e03", "rep-1", date(2027, 1, 31), Decimal("1E+3"), "EUR"),
        '{"record":"DealOpened","at":"2026-11-02T09:30:00.250000+00:00","event_id":"e03","rep_id":"rep-1",'
        '"decision_by":"2027-01-31","amount":"1E+3","currency":"EUR"}',
    ),
    (
        DealOpened(AT, "e03b", "rep-1", None, None, None),
        '{"record":"DealOpened","at":"2026-11-02T09:30:00.250000+00:00","event_id":"e03b","rep_id":"rep-1",'
        '"decision_by":null,"amount":null,"currency":null}',
    ),
    (
        StageMoved(AT, "e04", "rep-2", "proposal"),
        '{"record":"StageMoved","at":"2026-11-02T09:30:00.250000+00:00","event_id":"e04","rep_id":"rep-2",'
        '"to_stage":"proposal"}',
    ),
    (
        FactRecorded(AT, "e05", "rep-1", "ProposalSent", Decimal("12500.00"), "USD"),
        '{"record":"FactRecorded","at":"2026-11-02T09:30:00.250000+00:00","event_id":"e05","rep_id":"rep-1",'
        '"fact":"ProposalSent","amount":"12500.00","currency":"USD","objection_id":null,"category":null}',
    ),
    (
        FactRecorded(AT, "e05b", "rep-1", "ObjectionRaised", objection_id="o-1", category="price"),
        '{"record":"FactRecorded","at":"2026-11-02T09:30:00.250000+00:00","event_id":"e05b","rep_id":"rep-1",'
        '"fact":"ObjectionRaised","amount":null,"currency":null,"objection_id":"o-1","category":"price"}',
    ),
    (
        ObjectionAnswered(AT, "e06", "rep-1", "o-1"),
        '{"record":"ObjectionAnswered","at":"2026-11-02T09:30:00.250000+00:00","event_id":"e06",'
        '"rep_id":"rep-1","objection_id":"o-1"}',
    ),
    (
        DealClosed(AT, "e07", "rep-1", True, Decimal("10.50"), "EUR", SPLITS),
        '{"record":"DealClosed","at":"2026-11-02T09:30:00.250000+00:00","event_id":"e07","rep_id":"rep-1",'
        '"won":true,"amount":"10.50","currency":"EUR","splits":[["rep-1","66.6667"],["rep-2","33.3333"]]}',
    ),
    (
        DealClosed(AT, "e07b", "rep-1", won=False),
        '{"record":"DealClosed","at":"2026-11-02T09:30:00.250000+00:00","event_id":"e07b","rep_id":"rep-1",'
        '"won":false,"amount":null,"currency":null,"splits":[]}',
    ),
    (
        CustomerWon(AT, "e08", "rep-1", "deal-1"),
        '{"record":"CustomerWon","at":"2026-11-02T09:30:00.250000+00:00","event_id":"e08","rep_id":"rep-1",'
        '"deal_id":"deal-1"}',
    ),
    (
        CustomerLost(datetime(2026, 11, 2, 10, tzinfo=UTC), "e09"),
        '{"record":"CustomerLost","at":"2026-11-02T10:00:00+00:00","event_id":"e09"}',
    ),
    (
        CustomerSale(AT, "e10", "rep-3", "upsell", None, Decimal("0.0001"), "GBP"),
        '{"record":"CustomerSale","at":"2026-11-02T09:30:00.250000+00:00","event_id":"e10","rep_id":"rep-3",'
        '"kind":"upsell","deal_id":null,"amount":"0.0001","currency":"GBP"}',
    ),
    (
        QuotaSet(AT, "e11", "rep", "rep-1", *Q4, "won_revenue", Decimal("250000"), "EUR"),
        '{"record":"QuotaSet","at":"2026-11-02T09:30:00.250000+00:00","event_id":"e11","assignee":"rep",'
        '"assignee_id":"rep-1","first":"2026-10-01","last":"2026-12-31","metric":"won_revenue",'
        '"amount":"250000","currency":"EUR"}',
    ),
    (
        ObjectiveTarget(AT, "e12", "team", "team-1", "calls", *Q4, Decimal("30"), None),
        '{"record":"ObjectiveTarget","at":"2026-11-02T09:30:00.250000+00:00","event_id":"e12","scope":"team",'
        '"scope_id":"team-1","kpi":"calls","first":"2026-10-01","last":"2026-12-31","target":"30",'
        '"currency":null}',
    ),
]


def test_the_fixed_stored_records_cover_every_record_type() -> None:
    assert {type(record) for record, _ in STORED} == set(RECORD_TYPES.values())
    assert set(RECORD_TYPES) == {cls.__name__ for cls in RECORD_TYPES.values()}


@pytest.mark.parametrize(("record", "stored"), STORED, ids=[record.event_id for record, _ in STORED])
def test_every_record_type_is_stored_as_before_and_read_back(record: Record, stored: str) -> None:
    assert orjson.dumps(encode_record(record)) == stored.encode()
    assert encode_record(record) == reference_encoding(record)
    decoded = decode_record(orjson.loads(stored))
    assert decoded == record and type(decoded) is type(record)
    assert decoded.at.utcoffset() == record.at.utcoffset()


def test_a_stored_partial_is_the_same_bytes_as_before() -> None:
    """What the projector writes to its store and changelog: ``[offset, partial]``."""
    (kpis,) = [model for model in read_models(load_process(None), TZ) if model.name == "kpis"]
    timeline = Timeline(tuple(record for record, _ in STORED[:3]))
    counters = KpiCounters(3, 1, 420, 2, 1, 1, 1800, 4, 25)
    written: dict[str, tuple[Positioned[Partial], bytes]] = {
        "lead|lead-1": (
            Positioned(timeline, 41),
            b'[41,{"records":[{"record":"LeadEntered","at":"2026-11-02T09:30:00.250000+00:00","event_id":"e01",'
            b'"rep_id":null,"source":"inbound"},{"record":"LeadDecided","at":"2026-11-02T10:30:00+01:00",'
            b'"event_id":"e02","rep_id":"rep-1","qualified":true},{"record":"DealOpened",'
            b'"at":"2026-11-02T09:30:00.250000+00:00","event_id":"e03","rep_id":"rep-1",'
            b'"decision_by":"2027-01-31","amount":"1E+3","currency":"EUR"}]}]',
        ),
        "activity|rep-1|2026-11-02": (
            Positioned(counters, 42),
            b'[42,{"calls":3,"connected_calls":1,"talk_seconds":420,"emails_sent":2,"emails_replied":1,'
            b'"meetings":1,"meeting_seconds":1800,"social_touches":4,"research_minutes":25}]',
        ),
    }
    for key, (partial, stored) in written.items():
        assert kpis.encode(partial) == stored
        assert kpis.decode(key, stored) == partial


def test_a_stored_record_without_a_defaulted_field_takes_the_default() -> None:
    stored = reference_encoding(DealClosed(AT, "e5", "rep-1", won=False))
    del stored["splits"], stored["amount"]
    assert decode_record(stored) == DealClosed(AT, "e5", "rep-1", won=False)
    with pytest.raises(KeyError):  # a field without a default cannot be left out
        decode_record({k: v for k, v in stored.items() if k != "rep_id"})


@pytest.mark.parametrize("record", [record for record, _ in STORED], ids=[r.event_id for r, _ in STORED])
def test_every_defaulted_field_may_be_missing_from_a_stored_record(record: Record) -> None:
    """A record stored before a field with a default existed reads as if it had the default."""
    written: Any = record  # `replace` with any of its fields
    defaults: dict[str, Any] = {
        f.name: f.default if f.default_factory is MISSING else f.default_factory()
        for f in fields(record)
        if f.default is not MISSING or f.default_factory is not MISSING
    }
    for name, default in defaults.items():
        stored = {k: v for k, v in reference_encoding(record).items() if k != name}
        assert decode_record(stored) == replace(written, **{name: default}), name
    stored = {k: v for k, v in reference_encoding(record).items() if k not in defaults}
    assert decode_record(stored) == replace(written, **defaults) == reference_decoding(stored)


def test_counters_merge_store_and_read_every_field() -> None:
    names = [f.name for f in fields(KpiCounters)]
    left = KpiCounters(*range(1, len(names) + 1))
    right = KpiCounters(*range(100, 100 + len(names)))
    assert asdict(left.merge(right)) == {name: getattr(left, name) + getattr(right, name) for name in names}
    assert left.to_dict() == asdict(left) and list(left.to_dict()) == names
    assert encode_counters(left) == asdict(left) and list(encode_counters(left)) == names
    assert decode_counters(encode_counters(left)) == left
    assert decode_counters({"calls": "3"}) == KpiCounters(calls=3)  # missing fields are 0


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
