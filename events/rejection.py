"""Why an input was not accepted, in terms a publisher can act on."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

MAX_REPORTED_ERRORS = 20
"""Field errors a rejection reports, at most: the first ones found, then one ``(more)`` entry
counting the rest. One invalid list of 20,000 items is 20,000 errors: reported whole, a 12 MB batch
of them became a 508 MB answer, so what is reported stays proportional to one event, not to its
contents."""

MAX_TEXT_CHARS = 300
"""Longest field path or field message reported; longer ones are cut, ending in "…"."""

MAX_MESSAGE_CHARS = 2000
"""Longest rejection message (the summary of every reported error); longer ones are cut."""

MORE_ERRORS_FIELD = "(more)"
"""The `field` of the entry that counts the errors left out of a rejection."""


class Reason(StrEnum):
    """Bounded set of rejection reasons (also the `reason` metric label)."""

    TOO_LARGE = "too_large"
    NOT_JSON = "not_json"
    NOT_AN_OBJECT = "not_an_object"
    UNKNOWN_TYPE = "unknown_type"
    UNSUPPORTED_VERSION = "unsupported_version"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


def clip(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """``text``, cut to ``limit`` characters (ending in "…" when cut)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bounded(errors: tuple[FieldError, ...] | list[FieldError]) -> tuple[FieldError, ...]:
    """At most `MAX_REPORTED_ERRORS` errors, each clipped, then one entry counting the rest."""
    if len(errors) <= MAX_REPORTED_ERRORS and all(
        len(e.field) <= MAX_TEXT_CHARS and len(e.message) <= MAX_TEXT_CHARS for e in errors
    ):
        return tuple(errors)
    shown = tuple(FieldError(clip(e.field), clip(e.message)) for e in errors[:MAX_REPORTED_ERRORS])
    left_out = len(errors) - len(shown)
    if left_out <= 0:
        return shown
    return (*shown, FieldError(MORE_ERRORS_FIELD, f"{left_out} more errors not reported"))


@dataclass(frozen=True)
class Rejection(Exception):
    """An input that is not a valid event, with every reason found (bounded: see `bounded`)."""

    reason: Reason
    message: str
    event_type: str = "unknown"
    errors: tuple[FieldError, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        # Whoever raises a rejection, what it reports stays bounded (HTTP bodies, dead-letter headers).
        object.__setattr__(self, "message", clip(self.message, MAX_MESSAGE_CHARS))
        object.__setattr__(self, "event_type", clip(self.event_type, 128))
        object.__setattr__(self, "errors", bounded(self.errors))

    def __str__(self) -> str:
        return self.message

    def as_dict(self) -> dict[str, object]:
        return {
            "reason": self.reason.value,
            "message": self.message,
            "errors": [{"field": e.field, "message": e.message} for e in self.errors],
        }
