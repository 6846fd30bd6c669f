"""Admission, shared by every transport: validate, stamp the recorded time, count the verdict.

The HTTP gate and the Kafka ingestor both call these, so an input gets the same verdict and the
same reason whichever way it came in, and the metrics count accepted events exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from events import Envelope, Reason, Rejection, parse_event
from events.parse import parse_document
from services.metrics import DUPLICATES, EVENTS_ACCEPTED, EVENTS_REJECTED, type_label
from services.refusals import Refusal
from services.writemodel.outcomes import Appended, Outcome


def admit(raw: bytes, *, transport: str, max_bytes: int, now: datetime | None = None) -> Envelope:
    """The event in `raw`, stamped with its recorded time; raises `Rejection` (and counts it)."""
    try:
        event = parse_event(raw, max_bytes=max_bytes)
    except Rejection as rejection:
        count_rejection(rejection.event_type, rejection.reason.value, transport)
        raise
    return event.recorded(now or datetime.now(UTC))


def admit_document(document: Any, *, transport: str, max_bytes: int, now: datetime | None = None) -> Envelope:
    """As `admit`, for an already-decoded JSON document (an item of a batch)."""
    try:
        size = len(json.dumps(document, ensure_ascii=False).encode(errors="surrogatepass"))
        if size > max_bytes:
            raise Rejection(Reason.TOO_LARGE, f"event is {size} bytes; the limit is {max_bytes}")
        event = parse_document(document)
    except Rejection as rejection:
        count_rejection(rejection.event_type, rejection.reason.value, transport)
        raise
    return event.recorded(now or datetime.now(UTC))


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
