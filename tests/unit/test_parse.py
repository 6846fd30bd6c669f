"""The parse gate: valid events pass, every bad input is rejected with a reason naming the field."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events import Reason, Rejection, parse_event, serialize_event
from events.activities import CallLogged, CallOutcome
from events.money import ISO_4217_CODES
from events.rejection import MAX_MESSAGE_CHARS, MAX_REPORTED_ERRORS, MAX_TEXT_CHARS, MORE_ERRORS_FIELD
from tests.samples import SAMPLES, call_logged, encode, lead_captured


def rejection_of(raw: bytes | str) -> Rejection:
    with pytest.raises(Rejection) as caught:
        parse_event(raw)
    return caught.value


def test_valid_call_is_parsed_with_its_aggregate_as_partition_key() -> None:
    event = parse_event(encode(call_logged()))
    assert isinstance(event, CallLogged)
    assert event.data.outcome is CallOutcome.CONNECTED
    assert event.partition_key == "lead-001"
    assert event.time.utcoffset() is not None


def test_serialized_event_parses_back_to_an_equal_event() -> None:
    event = parse_event(encode(lead_captured()))
    assert parse_event(serialize_event(event)) == event


def test_negative_duration_is_rejected_naming_the_field() -> None:
    rejection = rejection_of(encode(call_logged(duration_seconds=-5)))
    assert rejection.reason is Reason.INVALID
    assert [e.field for e in rejection.errors] == ["data.duration_seconds"]


def test_time_without_timezone_is_rejected() -> None:
    rejection = rejection_of(encode(call_logged(time="2026-11-02T10:15:00")))
    assert [e.field for e in rejection.errors] == ["time"]


def test_string_where_integer_expected_is_rejected_strictly() -> None:
    rejection = rejection_of(encode(call_logged(duration_seconds="300")))
    assert rejection.errors[0].field == "data.duration_seconds"


def test_unknown_field_is_rejected() -> None:
    rejection = rejection_of(encode(call_logged(colour="blue")))
    assert rejection.errors[0].field == "colour"


def test_unknown_outcome_is_rejected() -> None:
    rejection = rejection_of(encode(call_logged(outcome="maybe")))
    assert rejection.errors[0].field == "data.outcome"


def test_unknown_type_names_the_known_types() -> None:
    rejection = rejection_of(encode({**call_logged(), "type": "CallMaybeLogged"}))
    assert rejection.reason is Reason.UNKNOWN_TYPE
    assert "CallLogged" in rejection.message


def test_future_schema_version_is_rejected_as_unsupported() -> None:
    rejection = rejection_of(encode(call_logged(schemaversion=9)))
    assert rejection.reason is Reason.UNSUPPORTED_VERSION


def test_non_json_and_non_object_and_oversized_inputs_have_their_own_reasons() -> None:
    assert rejection_of(b"\xff{not json").reason is Reason.NOT_JSON
    assert rejection_of(b"[1, 2]").reason is Reason.NOT_AN_OBJECT
    too_big = encode(call_logged(notes="x")).replace(b"}", b"}" + b" " * 70_000, 1)
    assert rejection_of(too_big).reason is Reason.TOO_LARGE


@given(st.binary(max_size=512))
def test_arbitrary_bytes_are_either_an_event_or_a_rejection(raw: bytes) -> None:
    try:
        parse_event(raw)
    except Rejection as rejection:
        assert rejection.message


json_values = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)  # NaN and Infinity are not JSON (not_json)
    | st.text(max_size=20)
    | st.lists(st.integers(), max_size=3)
)
ENVELOPE_FIELDS = sorted(call_logged())


@given(st.sampled_from(ENVELOPE_FIELDS), json_values)
def test_one_mangled_field_is_rejected_naming_that_field_or_still_valid(name: str, value: object) -> None:
    document = {**call_logged(), name: value}
    try:
        parse_event(json.dumps(document))
    except Rejection as rejection:
        assert rejection.reason in set(Reason)
        assert any(e.field == name or e.field.startswith(name + ".") for e in rejection.errors), rejection


def test_issue12_item3_a_currency_not_in_iso_4217_is_refused() -> None:
    deal = json.loads((SAMPLES / "DealWon.v1.json").read_text(encoding="utf-8"))
    deal["data"]["amount"]["currency"] = "ZZQ"
    rejection = rejection_of(json.dumps(deal))
    assert rejection.reason is Reason.INVALID
    assert [e.field for e in rejection.errors] == ["data.amount.currency"]
    assert "ISO 4217" in rejection.errors[0].message
    for code in ("EUR", "JPY", "CHF", "XAU"):
        deal["data"]["amount"]["currency"] = code
        assert parse_event(json.dumps(deal)).data.amount.currency == code  # type: ignore[attr-defined]
    assert "ZZQ" not in ISO_4217_CODES and {"EUR", "USD", "GBP"} <= ISO_4217_CODES


@pytest.mark.parametrize(
    "raw",
    [
        b'{"id": "a", "id": "b"}',
        encode(call_logged()).replace(b'"id": "evt-call-1"', b'"id": "evt-call-1", "id": "evt-call-2"'),
        encode(call_logged()).replace(b'"outcome": "connected"', b'"outcome": "connected", "outcome": "no"'),
    ],
    ids=["bare", "envelope-id", "nested-in-data"],
)
def test_issue12_item4_a_duplicate_json_key_is_refused_as_ambiguous(raw: bytes) -> None:
    rejection = rejection_of(raw)
    assert rejection.reason is Reason.INVALID
    assert "duplicate keys" in rejection.message or "ambiguous" in rejection.message
    assert rejection.errors[0].field in {"id", "outcome"}


@pytest.mark.parametrize(
    "number", ["1e99999999999999999999999999", "-1E+99999999999999999999999999", "1e-99999999999999999999999"]
)
def test_a_number_with_a_huge_exponent_is_refused_as_invalid(number: str) -> None:
    raw = encode(call_logged()).replace(b'"duration_seconds": 300', f'"duration_seconds": {number}'.encode())
    rejection = rejection_of(raw)
    assert rejection.reason is Reason.INVALID
    assert "out of range" in rejection.message and "exponent" in rejection.message
    deal = json.loads((SAMPLES / "DealWon.v1.json").read_text(encoding="utf-8"))
    text = json.dumps(deal).replace('"112500.00"', number)
    assert rejection_of(text).reason is Reason.INVALID


def test_nan_and_infinity_are_not_json() -> None:
    for constant in (b"NaN", b"Infinity", b"-Infinity"):
        raw = encode(call_logged()).replace(b"300", constant)
        assert rejection_of(raw).reason is Reason.NOT_JSON


def test_validation_errors_are_capped_per_event_with_a_count_of_those_left_out() -> None:
    deal = json.loads((SAMPLES / "DealWon.v1.json").read_text(encoding="utf-8"))
    deal["data"]["products"] = [{}] * 5_000
    deal["data"]["x" * 1_000] = "an unknown field with a long name"
    rejection = rejection_of(json.dumps(deal).encode())
    assert len(rejection.errors) == MAX_REPORTED_ERRORS + 1
    assert rejection.errors[-1].field == MORE_ERRORS_FIELD
    left_out, _, rest = rejection.errors[-1].message.partition(" ")
    assert rest == "more errors not reported" and int(left_out) >= 5_000 + 1 - MAX_REPORTED_ERRORS
    assert all(len(e.field) <= MAX_TEXT_CHARS and len(e.message) <= MAX_TEXT_CHARS for e in rejection.errors)
    assert len(rejection.message) <= MAX_MESSAGE_CHARS and "more" in rejection.message
    assert len(json.dumps(rejection.as_dict())) < 20_000


def test_an_event_without_a_type_says_so() -> None:
    document = call_logged()
    del document["type"]
    rejection = rejection_of(encode(document))
    assert rejection.reason is Reason.UNKNOWN_TYPE
    assert "no type" in rejection.message and "None" not in rejection.message
    assert [e.field for e in rejection.errors] == ["type"]
