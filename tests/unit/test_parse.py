"""The parse gate: valid events pass, every bad input is rejected with a reason naming the field."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events import Reason, Rejection, parse_event, serialize_event
from events.activities import CallLogged, CallOutcome
from tests.samples import call_logged, encode, lead_captured


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
    | st.floats(allow_nan=False)
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
