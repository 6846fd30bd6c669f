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
