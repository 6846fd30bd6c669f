"""The JSON and text log formats (services.logs), with the repeat limiter (services.log_limits) on
the same handler: a repeated warning is still held back and counted, in JSON as in text."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from events import Rejection
from events.rejection import Reason
from services.log_limits import limit_repeats
from services.logs import log_deadletter, log_event, log_rejected


@pytest.fixture
def root() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A private logger tree standing in for the worker's root logger, one stream handler."""
    logger = logging.getLogger(f"test-logs-{id(object())}")
    stream = io.StringIO()
    logger.addHandler(logging.StreamHandler(stream))
    logger.setLevel(logging.INFO)
    # It propagates: with ``propagate = False`` pytest's logging plugin hands it its own capture
    # handlers, and `limit_repeats` would leave its filter on them for every later test.
    events = logging.getLogger("salesledger.events")
    level = events.level
    events.setLevel(logging.INFO)  # the worker's level (info) for event lines
    yield logger, stream
    events.setLevel(level)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)


def test_json_lines_carry_the_event_fields_at_the_top_level(root: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = root
    limit_repeats(logger, log_format="json")
    events = logging.getLogger("salesledger.events")
    events.addHandler(logger.handlers[0])
    try:
        log_event(
            "rejected",
            event_id="evt-1",
            source="/dialer",
            event_type="CallLogged",
            aggregate="lead-1",
            transport="http",
            reason="rule_violation",
            rule="deal_must_be_open",
        )
    finally:
        events.removeHandler(logger.handlers[0])
    (line,) = stream.getvalue().splitlines()
    record = json.loads(line)
    assert record["logger"] == "salesledger.events" and record["level"] == "INFO"
    assert (record["event_id"], record["source"], record["type"], record["aggregate"]) == (
        "evt-1",
        "/dialer",
        "CallLogged",
        "lead-1",
    )
    assert (record["outcome"], record["reason"], record["rule"]) == (
        "rejected",
        "rule_violation",
        "deal_must_be_open",
    )
    assert "stage" not in record  # fields that do not apply are left out, not null


def test_the_repeat_limiter_holds_back_json_warnings_and_says_how_many(
    root: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = root
    limit_repeats(logger, window=3600, log_format="json")
    for attempt in range(5):
        logger.warning("cannot connect to node %d", attempt)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 1 and lines[0]["level"] == "WARNING"
    assert lines[0]["message"] == "cannot connect to node 0"


def test_text_format_is_one_human_line(root: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = root
    limit_repeats(logger, log_format="text")
    events = logging.getLogger("salesledger.events")
    events.addHandler(logger.handlers[0])
    try:
        log_deadletter(
            "ingest", "not_json", b'{"id": "evt-9", "source": "/crm", "type": "DealWon", "subject": "deal-9"'
        )
        log_deadletter(
            "ingest", "invalid", b'{"id": "evt-8", "source": "/crm", "type": "DealWon", "subject": "deal-8"}'
        )
    finally:
        events.removeHandler(logger.handlers[0])
    first, second = stream.getvalue().splitlines()
    assert (
        not first.startswith("{") and "event deadletter transport=kafka reason=not_json stage=ingest" in first
    )
    assert "event deadletter event_id=evt-8 source=/crm type=DealWon aggregate=deal-8" in second


def test_a_refused_body_too_deep_to_decode_is_logged_without_its_fields(
    root: tuple[logging.Logger, io.StringIO],
) -> None:
    """The gate logs a refused body by decoding it again for its envelope fields: a body nested
    deeper than Python's parser recurses must give a line without them, never an error (a 500)."""
    logger, stream = root
    limit_repeats(logger, log_format="json")
    events = logging.getLogger("salesledger.events")
    events.addHandler(logger.handlers[0])
    try:
        log_rejected(Rejection(Reason.NOT_JSON, "nested too deep"), "http", b"[" * 20_000 + b"]" * 20_000)
    finally:
        events.removeHandler(logger.handlers[0])
    (line,) = stream.getvalue().splitlines()
    record = json.loads(line)
    assert (record["outcome"], record["reason"]) == ("rejected", "not_json") and "event_id" not in record
