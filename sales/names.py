"""Small helpers on event contracts shared by the aggregates."""

from __future__ import annotations

from typing import Any

from events.envelope import Envelope


def event_type(event: Envelope) -> str:
    """The event's ``type`` (declared by each catalogue model, not by `Envelope`)."""
    name: str = getattr(event, "type")  # noqa: B009
    return name


def payload(event: Envelope) -> Any:
    """The event's ``data`` (declared by each catalogue model, not by `Envelope`)."""
    return getattr(event, "data")  # noqa: B009
