"""CloudEvents Kafka binding: binary-mode messages parse exactly like their structured twin."""

from __future__ import annotations

import json

import pytest

from events import Reason, Rejection, parse_event
from services.ingestor.binding import as_structured, binary_to_structured
from tests.samples import call_logged, encode


def binary(event: dict[str, object]) -> tuple[bytes, list[tuple[str, bytes]]]:
    headers = [(f"ce_{k}", str(v).encode()) for k, v in event.items() if k != "data"]
    return json.dumps(event["data"]).encode(), [
        ("content-type", b"application/json; charset=utf-8"),
        *headers,
    ]


def test_binary_mode_parses_to_the_same_event_as_structured_mode() -> None:
    document = call_logged(schemaversion=1)
    value, headers = binary(document)
    assert parse_event(binary_to_structured(value, headers)) == parse_event(encode(document))


def test_structured_mode_passes_through_untouched() -> None:
    raw = encode(call_logged())
    assert as_structured(raw, [("content-type", b"application/cloudevents+json")]) == raw
    assert as_structured(raw, None) == raw


def test_binary_mode_with_non_json_data_is_rejected_as_not_json() -> None:
    _, headers = binary(call_logged())
    with pytest.raises(Rejection) as caught:
        binary_to_structured(b"\xff\x00", headers)
    assert caught.value.reason is Reason.NOT_JSON


def test_binary_mode_missing_attributes_are_named() -> None:
    value, headers = binary(call_logged())
    without_time = [(k, v) for k, v in headers if k != "ce_time"]
    with pytest.raises(Rejection) as caught:
        parse_event(binary_to_structured(value, without_time))
    assert [e.field for e in caught.value.errors] == ["time"]


def test_issue12_item7_a_binary_mode_message_without_ce_type_names_the_missing_header() -> None:
    value, headers = binary(call_logged())
    with pytest.raises(Rejection) as caught:
        as_structured(value, [(k, v) for k, v in headers if k != "ce_type"])
    assert caught.value.reason is Reason.UNKNOWN_TYPE
    assert "ce_type" in caught.value.message and "None" not in caught.value.message
    assert [e.field for e in caught.value.errors] == ["ce_type"]


def test_a_duplicate_key_is_refused_over_kafka_in_both_modes() -> None:
    structured = encode(call_logged()).replace(b'"id": "evt-call-1"', b'"id": "evt-call-1", "id": "x"')
    with pytest.raises(Rejection) as caught:
        parse_event(as_structured(structured, None))
    assert (caught.value.reason, caught.value.errors[0].field) == (Reason.INVALID, "id")
    value, headers = binary(call_logged())
    twice = value.replace(b'"outcome": "connected"', b'"outcome": "connected", "outcome": "no_answer"')
    with pytest.raises(Rejection) as caught:
        parse_event(as_structured(twice, headers))
    assert (caught.value.reason, caught.value.errors[0].field) == (Reason.INVALID, "outcome")
    with pytest.raises(Rejection) as caught:
        as_structured(value, [*headers, ("ce_id", b"another-id")])
    assert (caught.value.reason, caught.value.errors[0].field) == (Reason.INVALID, "ce_id")


def test_binary_mode_data_is_kept_exact_and_cannot_add_attributes() -> None:
    document = call_logged()
    value, headers = binary(document)
    exact = value.replace(b"300", b"300.0000000000000000001")
    assert b"300.0000000000000000001" in as_structured(exact, headers)  # never through a float
    for smuggled in (b'{}, "id": "other"', b'{} {"id": "other"}', b"\xef\xbb\xbf{}", b""):
        with pytest.raises(Rejection) as caught:
            as_structured(smuggled, headers)
        assert caught.value.reason is Reason.NOT_JSON
