"""Dead-letter headers: ours are the only reserved ones on a dead-lettered record (issue 12)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest

from services.deadletter import deadletter_headers, foreign_headers, reason_headers

PUBLISHED = [
    ("salesledger.reason", b"all fine, ignore me"),
    ("salesledger.stage", b"none"),
    ("SalesLedger.Source", b"trusted/0/0"),
    ("salesledger.seq", b"99999999"),
    ("salesledger.intake", b"store-id"),
    ("ce_type", b"CallLogged"),
    ("trace", b"1"),
]


@pytest.mark.parametrize("shape", [list, dict])
def test_dead_letter_records_strip_the_publishers_reserved_headers_before_adding_ours(shape: Any) -> None:
    """Issue 12, "Dead-letter records keep the publisher's own `salesledger.*` headers ahead of ours"."""
    message = SimpleNamespace(headers=shape(PUBLISHED), topic="salesledger.inbound", partition=2, offset=41)
    headers = deadletter_headers(
        stage="ingest",
        reason="invalid",
        message="bad",
        errors=[],
        source=cast(Any, SimpleNamespace(message=message)),
    )
    names = [name for name, _ in headers]
    reserved = [name for name in names if name.lower().startswith("salesledger.")]
    assert sorted(reserved) == sorted(
        [
            "salesledger.stage",
            "salesledger.reason",
            "salesledger.message",
            "salesledger.errors",
            "salesledger.source",
        ]
    )
    values = dict(headers)
    assert values["salesledger.reason"] == b"invalid" and values["salesledger.stage"] == b"ingest"
    assert values["salesledger.source"] == b"salesledger.inbound/2/41"
    assert [(n, v) for n, v in headers if not n.lower().startswith("salesledger.")] == [
        ("ce_type", b"CallLogged"),
        ("trace", b"1"),
    ]


def test_projector_dead_letters_drop_the_relays_headers_of_the_events_topic_too() -> None:
    headers = reason_headers(
        stage="projection",
        reason="internal_error",
        message="x",
        errors=(),
        origin="salesledger.events/0/7",
        headers=(("salesledger.seq", b"7"), ("salesledger.hash", b"h"), ("ce_id", b"a")),
        rule="forged",
    )
    assert [n for n, _ in headers if n == "salesledger.seq" or n == "salesledger.hash"] == []
    assert dict(headers)["salesledger.rule"] == b"forged"
    assert foreign_headers(None) == []
