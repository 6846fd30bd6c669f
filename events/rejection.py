"""Why an input was not accepted, in terms a publisher can act on."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


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


@dataclass(frozen=True)
class Rejection(Exception):
    """An input that is not a valid event, with every reason found."""

    reason: Reason
    message: str
    event_type: str = "unknown"
    errors: tuple[FieldError, ...] = field(default_factory=tuple)

    def __str__(self) -> str:
        return self.message

    def as_dict(self) -> dict[str, object]:
        return {
            "reason": self.reason.value,
            "message": self.message,
            "errors": [{"field": e.field, "message": e.message} for e in self.errors],
        }
