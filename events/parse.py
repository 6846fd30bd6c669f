"""Bytes in, a valid event or a `Rejection` out: the one gate every input passes through.

Pure and synchronous, so HTTP, the Kafka ingestor and the replay tool reject exactly alike.
A document of an older schema version is upcast to the latest before it is validated (see
`events.versions`), so everything past the gate has the latest shape.

JSON is decoded strictly, the same way on every path (`StrictJson`): numbers with a fraction or an
exponent become exact `Decimal`s (never binary floats, so an event has one fingerprint whichever
way it came in), ``NaN`` and ``Infinity`` are not JSON, a number too large to hold is refused, and
an object with the same key twice is refused (``{"id": "a", "id": "b"}`` has no one idempotency
key). The event's time must fall in `TIME_WINDOW` of the time it is recorded (`check_time`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from pydantic import ValidationError

from events.catalogue import EVENT_ADAPTER, EVENT_TYPES, LATEST_VERSION, UPCASTERS
from events.envelope import Envelope
from events.rejection import MAX_REPORTED_ERRORS, FieldError, Reason, Rejection, clip
from events.versions import UpcastError, version_of

DEFAULT_MAX_BYTES = 64 * 1024
_T = TypeVar("_T")


@dataclass(frozen=True)
class TimeWindow:
    """The event times the gate accepts, relative to the time an event is recorded.

    An event's ``time`` says when the fact happened: a sales fact from before `earliest` is a typo
    (``0001-01-01``) more likely than history, and one dated far beyond the moment we record it is
    a typo too (``9999``). Beyond these bounds the read models could not hold the event either: a
    time such as ``9999-12-31T23:59:59-01:00`` is past the last instant Python can convert to UTC,
    and its projection would fail after the event was accepted (docs/events.md, "Event times").
    """

    earliest: datetime = datetime(1970, 1, 1, tzinfo=UTC)
    """No event happened before this instant (inclusive bound)."""
    ahead: timedelta = timedelta(days=366)
    """How far after its recorded time an event may say it happened, inclusive. Generous: tools
    date some facts ahead (a plan or quota entered for the coming year, a story's sample events),
    and clocks and time zones slip; a tighter window is a `TimeWindow` away."""

    def latest(self, recorded_at: datetime) -> datetime:
        return recorded_at + self.ahead


TIME_WINDOW = TimeWindow()
"""The window `check_time` applies unless told otherwise; pass another `TimeWindow` to
`services.admission.admit` to configure it."""


def check_time(event: Envelope, recorded_at: datetime, window: TimeWindow = TIME_WINDOW) -> None:
    """Raise `Rejection` (``invalid``, naming ``time``) when the event's time is outside ``window``."""
    latest = window.latest(recorded_at)
    if window.earliest <= event.time <= latest:
        return
    if event.time < window.earliest:
        problem = f"is before {window.earliest.isoformat()}, the earliest event time accepted"
    else:
        problem = (
            f"is more than {_duration(window.ahead)} after the time it was recorded"
            f" ({recorded_at.isoformat()}); the latest accepted is {latest.isoformat()}"
        )
    message = f"time {event.time.isoformat()} {problem}"
    event_type: str = event.type  # type: ignore[attr-defined]
    errors = (FieldError("time", message),)
    raise Rejection(Reason.INVALID, f"invalid {event_type}: {message}", event_type, errors)


def _duration(span: timedelta) -> str:
    if span.seconds == 0 and span.microseconds == 0:
        return f"{span.days} day" + ("s" if span.days != 1 else "")
    return f"{span.total_seconds():g} seconds"


OUT_OF_RANGE = Decimal("NaN")
"""What `StrictJson` decodes a number too large for any `Decimal` to (it notes the number too):
never a valid value of any field, should it reach validation."""


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


class StrictJson:
    """Strict JSON decoding (see the module docstring), noting the problems it finds as it goes.

    A duplicate key or a number out of range (``1e99999999999999999999``) is well-formed JSON that
    the gate refuses as ``invalid``: it is noted rather than raised, so a batch refuses only the
    event that holds it (`services.gate.batch`). `take` returns what was noted since its last call.
    """

    def __init__(self) -> None:
        self._problems: list[FieldError] = []
        self.decoder = json.JSONDecoder(
            parse_float=self._decimal, parse_constant=_no_constant, object_pairs_hook=self._object
        )

    def _decimal(self, text: str) -> Decimal:
        try:
            return Decimal(text)
        except InvalidOperation:
            message = f"the number {clip(text, 40)} is out of range (its exponent is too large)"
            self._problems.append(FieldError("(number)", message))
            return OUT_OF_RANGE

    def _object(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        document = dict(pairs)
        if len(document) < len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    message = "this key appears more than once in one object, so its value is ambiguous"
                    self._problems.append(FieldError(clip(key), message))
                seen.add(key)
        return document

    def raw_decode(self, text: str, index: int) -> tuple[Any, int]:
        """The JSON value starting exactly at ``text[index]`` and the index just past it.

        Raises `Rejection` (``not_json``) when there is no well-formed JSON value there.
        """
        return _decoding(lambda: self.decoder.raw_decode(text, index))

    def decode(self, text: str) -> Any:
        """The one JSON value of ``text`` (whitespace around it allowed); raises `Rejection`."""
        return _decoding(lambda: self.decoder.decode(text))

    def take(self) -> tuple[FieldError, ...]:
        """The problems noted since the last call (duplicate keys, numbers out of range)."""
        found, self._problems = tuple(self._problems), []
        return found


def _decoding(decode: Callable[[], _T]) -> _T:
    try:
        return decode()
    except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than Python parses
        raise Rejection(Reason.NOT_JSON, f"body is not JSON: {clip(str(exc))}") from None


def json_text(raw: bytes | str) -> str:
    """The text of JSON bytes, in the encoding JSON allows (UTF-8, -16 or -32), as `json.loads` reads it."""
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode(json.detect_encoding(raw), "surrogatepass")
    except UnicodeDecodeError as exc:
        raise Rejection(Reason.NOT_JSON, f"body is not JSON: {exc}") from None


def refuse_problems(problems: tuple[FieldError, ...]) -> None:
    """Raise `Rejection` (``invalid``) for the problems `StrictJson.take` returned, if any."""
    if problems:
        summary = "; ".join(f"{e.field}: {e.message}" for e in problems[:MAX_REPORTED_ERRORS])
        raise Rejection(Reason.INVALID, f"ambiguous or unreadable JSON: {summary}", errors=problems)


def decode_event(raw: bytes | str, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """The JSON document of one event, decoded strictly; raises `Rejection` (size checked first)."""
    size = len(raw.encode(errors="surrogatepass") if isinstance(raw, str) else raw)
    if size > max_bytes:
        raise Rejection(Reason.TOO_LARGE, f"event is {size} bytes; the limit is {max_bytes}")
    strict = StrictJson()
    document = strict.decode(json_text(raw))
    refuse_problems(strict.take())
    return document


def parse_event(raw: bytes | str, max_bytes: int = DEFAULT_MAX_BYTES) -> Envelope:
    """Validate one structured-mode CloudEvent; raise `Rejection` naming every bad field."""
    return parse_document(decode_event(raw, max_bytes))


def parse_logged_event(raw: bytes) -> Envelope:
    """Parse an event read back from the canonical log: the fast path for projections and replays.

    Events on the log already passed `parse_event` and are stored at their latest version, so
    pydantic validates the bytes directly (no intermediate dicts: about a third of the cost).
    Anything that does not fit the latest schema exactly (an older version written before an
    upcaster existed, a corrupt record) falls back to `parse_event`, which upcasts or rejects it
    with its reason, so the result is always what `parse_event` would give.
    """
    try:
        event = EVENT_ADAPTER.validate_json(raw)
    except ValidationError:
        return parse_event(raw, max_bytes=len(raw))
    if event.schemaversion != LATEST_VERSION[event.type]:
        return parse_event(raw, max_bytes=len(raw))
    return event


def parse_document(document: Any) -> Envelope:
    """Validate an already-decoded JSON document (see `parse_event`); older versions are upcast first."""
    if not isinstance(document, dict):
        raise Rejection(Reason.NOT_AN_OBJECT, "an event must be a JSON object")
    event_type = _check_type(document)
    try:
        document = UPCASTERS.upcast(document)
    except UpcastError as exc:
        message = f"invalid {event_type} (schemaversion {version_of(document)}): {exc}"
        raise Rejection(Reason.INVALID, message, event_type, (FieldError(exc.field, exc.message),)) from None
    try:
        return EVENT_ADAPTER.validate_python(document)
    except ValidationError as exc:
        found = exc.errors(include_url=False, include_context=False, include_input=False)
        errors = tuple(FieldError(_field_path(e["loc"]), e["msg"]) for e in found)
        summary = "; ".join(f"{clip(e.field)}: {clip(e.message)}" for e in errors[:MAX_REPORTED_ERRORS])
        if len(errors) > MAX_REPORTED_ERRORS:
            summary += f"; and {len(errors) - MAX_REPORTED_ERRORS} more"
        raise Rejection(Reason.INVALID, f"invalid {event_type}: {summary}", event_type, errors) from None


def _check_type(document: dict[str, Any]) -> str:
    event_type = document.get("type")
    if "type" not in document:
        message = "the event has no type; known types: " + ", ".join(sorted(EVENT_TYPES))
        raise Rejection(Reason.UNKNOWN_TYPE, message, errors=(FieldError("type", "Field required"),))
    if not isinstance(event_type, str) or event_type not in EVENT_TYPES:
        known = ", ".join(sorted(EVENT_TYPES))
        raise Rejection(
            Reason.UNKNOWN_TYPE,
            f"unknown event type {clip(repr(event_type), 80)}; known types: {known}",
            errors=(FieldError("type", "unknown event type"),),
        )
    version = version_of(document)
    latest = LATEST_VERSION[event_type]
    if version is not None and version > latest:
        raise Rejection(
            Reason.UNSUPPORTED_VERSION,
            f"{event_type} schemaversion {version} is newer than the latest known ({latest})",
            event_type,
            (FieldError("schemaversion", f"latest supported is {latest}"),),
        )
    return event_type


def _field_path(loc: tuple[int | str, ...]) -> str:
    # The discriminated union prefixes locations with the tag ("CallLogged", ...): drop it.
    parts = [str(p) for p in loc]
    if parts and parts[0] in EVENT_TYPES:
        parts = parts[1:]
    return ".".join(parts) or "(event)"


def serialize_event(event: Envelope) -> bytes:
    """Canonical JSON bytes of an event, as written to the event log."""
    return event.model_dump_json(exclude_none=True).encode()
