"""Event contracts: the CloudEvents envelope, the catalogue of event types, and the parse gate."""

from events.catalogue import EVENT_TYPES, Event
from events.envelope import Envelope
from events.parse import parse_event, serialize_event
from events.rejection import FieldError, Reason, Rejection

__all__ = [
    "EVENT_TYPES",
    "Envelope",
    "Event",
    "FieldError",
    "Reason",
    "Rejection",
    "parse_event",
    "serialize_event",
]
