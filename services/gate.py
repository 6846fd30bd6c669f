"""The ingestion gate shared by every transport: validate, stamp, count.

HTTP and the Kafka ingestor both call `admit`, so an input gets the same verdict and the same
reason whichever way it came in.
"""

from __future__ import annotations

from datetime import UTC, datetime

from events import Envelope, Rejection, parse_event
from services.metrics import EVENTS_ACCEPTED, EVENTS_REJECTED, type_label


def admit(raw: bytes, *, transport: str, max_bytes: int, now: datetime | None = None) -> Envelope:
    """The event in `raw`, stamped with its recorded time; raises `Rejection` (and counts it)."""
    try:
        event = parse_event(raw, max_bytes=max_bytes)
    except Rejection as rejection:
        EVENTS_REJECTED.labels(type_label(rejection.event_type), rejection.reason.value, transport).inc()
        raise
    EVENTS_ACCEPTED.labels(type_label(event.type), transport).inc()  # type: ignore[attr-defined]
    return event.recorded(now or datetime.now(UTC))
