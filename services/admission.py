"""Admission, shared by every transport: validate, stamp the recorded time, count the verdict.

The HTTP gate and the Kafka ingestor both call these, so an input gets the same verdict and the
same reason whichever way it came in, and the metrics count accepted events exactly once. The
event's time must fall in the gate's window around the recorded time (`events.parse.TimeWindow`):
what is accepted here, every read model can hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from events import Envelope, FieldError, Reason, Rejection
from events.parse import TIME_WINDOW, TimeWindow, check_time, decode_event, parse_document, refuse_problems
from services.metrics import DUPLICATES, EVENTS_ACCEPTED, EVENTS_REJECTED, type_label
from services.refusals import Refusal
from services.writemodel.outcomes import Appended, Outcome


def admit(
    raw: bytes,
    *,
    transport: str,
    max_bytes: int,
    now: datetime | None = None,
    window: TimeWindow = TIME_WINDOW,
) -> Envelope:
    """The event in `raw`, stamped with its recorded time; raises `Rejection` (and counts it)."""
    try:
        return _admitted(parse_document(decode_event(raw, max_bytes)), now, window)
    except Rejection as rejection:
        count_rejection(rejection.event_type, rejection.reason.value, transport)
        raise


def admit_decoded(
    document: Any,
    *,
    size: int,
    problems: tuple[FieldError, ...],
    transport: str,
    max_bytes: int,
    now: datetime | None = None,
    window: TimeWindow = TIME_WINDOW,
) -> Envelope:
    """As `admit`, for a document already decoded strictly (an item of a batch): ``size`` is the
    length in bytes of the JSON text it came from, ``problems`` what strict decoding noted in it
    (`events.parse.StrictJson.take`: duplicate keys, numbers out of range)."""
    try:
        if size > max_bytes:
            raise Rejection(Reason.TOO_LARGE, f"event is {size} bytes; the limit is {max_bytes}")
        refuse_problems(problems)
        return _admitted(parse_document(document), now, window)
    except Rejection as rejection:
        count_rejection(rejection.event_type, rejection.reason.value, transport)
        raise


def _admitted(event: Envelope, now: datetime | None, window: TimeWindow) -> Envelope:
    recorded_at = now or datetime.now(UTC)
    check_time(event, recorded_at, window)
    return event.recorded(recorded_at)


def count_rejection(event_type: str, reason: Refusal | str, transport: str) -> None:
    EVENTS_REJECTED.labels(type_label(event_type), str(reason), transport).inc()


def count_outcomes(events: Sequence[Envelope], results: Sequence[Appended], transport: str) -> None:
    """Count what the write model decided: accepted, duplicate, or rejected (id conflict, rule)."""
    for event, result in zip(events, results, strict=True):
        label = type_label(event.type)  # type: ignore[attr-defined]
        if result.outcome is Outcome.ACCEPTED:
            EVENTS_ACCEPTED.labels(label, transport).inc()
        elif result.outcome is Outcome.DUPLICATE:
            DUPLICATES.labels(label, transport).inc()
        elif result.outcome is Outcome.CONFLICT:
            EVENTS_REJECTED.labels(label, Refusal.ID_CONFLICT, transport).inc()
        else:
            EVENTS_REJECTED.labels(label, Refusal.RULE_VIOLATION, transport).inc()
