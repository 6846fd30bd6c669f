"""Every reason Salesledger refuses an input or a request: one closed set, one HTTP status each.

The same names appear in HTTP bodies (``"reason"``), in dead-letter headers
(``salesledger.reason``) and as the ``reason`` label of the rejection and dead-letter metrics, so
a publisher, an operator and a dashboard all speak of one refusal by one name. The first six are
the parse gate's own (`events.Reason`); the rest are decided by the shells around it.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType

from events import Reason


class Refusal(StrEnum):
    """Why an input was not taken, or a request not answered."""

    # The parse gate (`events.parse`): the bytes are not a valid event.
    TOO_LARGE = "too_large"
    NOT_JSON = "not_json"
    NOT_AN_OBJECT = "not_an_object"
    UNKNOWN_TYPE = "unknown_type"
    UNSUPPORTED_VERSION = "unsupported_version"
    INVALID = "invalid"
    # The batch around the events.
    NOT_AN_ARRAY = "not_an_array"
    TOO_MANY_EVENTS = "too_many_events"
    # Who is asking.
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    SOURCE_MISMATCH = "source_mismatch"
    # The write model: a valid event the record cannot take.
    ID_CONFLICT = "id_conflict"
    RULE_VIOLATION = "rule_violation"
    # Queries.
    BAD_QUERY = "bad_query"
    NOT_FOUND = "not_found"
    NOT_READY = "not_ready"
    # A failure of ours, never of the input (dead-letter topic only, so nothing is lost).
    INTERNAL_ERROR = "internal_error"


HTTP_STATUS = MappingProxyType(
    {
        Refusal.TOO_LARGE: 413,
        Refusal.NOT_JSON: 400,
        Refusal.NOT_AN_OBJECT: 400,
        Refusal.UNKNOWN_TYPE: 422,
        Refusal.UNSUPPORTED_VERSION: 422,
        Refusal.INVALID: 422,
        Refusal.NOT_AN_ARRAY: 400,
        Refusal.TOO_MANY_EVENTS: 413,
        Refusal.UNAUTHORIZED: 401,
        Refusal.FORBIDDEN: 403,
        Refusal.SOURCE_MISMATCH: 403,
        Refusal.ID_CONFLICT: 409,
        Refusal.RULE_VIOLATION: 422,
        Refusal.BAD_QUERY: 400,
        Refusal.NOT_FOUND: 404,
        Refusal.NOT_READY: 503,
        Refusal.INTERNAL_ERROR: 500,
    }
)
"""The HTTP status each refusal is answered with (`docs/api.md`, and the OpenAPI document)."""


def of_reason(reason: Reason) -> Refusal:
    """The refusal for a parse-gate reason (the same name)."""
    return Refusal(reason.value)


def refused(reason: Refusal, message: str, errors: list[dict[str, str]] | None = None) -> dict[str, object]:
    """The JSON body of a refusal: the reason, a message a person can act on, every bad field."""
    return {"status": "rejected", "reason": reason.value, "message": message, "errors": errors or []}
