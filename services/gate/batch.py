"""A batch body taken apart one event at a time, before any event is validated.

`POST /v1/events:batch` takes a JSON array of events, or ``{"events": [...]}``. The body's size is
checked before this runs (`services.gate.http.post_batch`); here the array is decoded item by item
with the gate's strict JSON (`events.parse.StrictJson`: exact decimals, duplicate keys noted), so

- counting stops at ``max_events + 1``: a batch with too many events is refused without decoding
  the rest;
- each event's size is that of its own JSON text, exactly as if it had been sent alone;
- a duplicate key or a number out of range refuses only the event that holds it.

Pure and synchronous: the handler runs it off the event loop (`asyncio.to_thread`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from events import FieldError, Rejection
from events.parse import StrictJson, json_text
from events.rejection import clip
from services.refusals import Refusal

_WHITESPACE = re.compile(r"[ \t\n\r]*")


@dataclass(frozen=True, slots=True)
class Item:
    """One event of a batch, decoded: its document, the bytes of its JSON text, what was noted."""

    document: Any
    size: int
    problems: tuple[FieldError, ...]


class BatchRefused(Exception):
    """The batch as a whole is refused (the events in it are not looked at)."""

    def __init__(self, reason: Refusal, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def split_batch(raw: bytes, max_events: int) -> list[Item]:
    """The events of a batch body, in order; raises `BatchRefused`."""
    try:
        return _Reader(json_text(raw), max_events).batch()
    except Rejection as rejection:
        raise BatchRefused(Refusal.NOT_JSON, rejection.message) from None


class _Reader:
    def __init__(self, text: str, max_events: int) -> None:
        self.text, self.max_events, self.pos = text, max_events, 0
        self.ascii = text.isascii()
        self.strict = StrictJson()

    def batch(self) -> list[Item]:
        opening = self._next()
        if opening == "[":
            items = self._array()
        elif opening == "{":
            items = self._wrapped()
        else:
            self.strict.decode(self.text)  # not JSON at all: say why
            raise BatchRefused(Refusal.NOT_AN_ARRAY, "a batch is a JSON array of events")
        if self._next() != "":
            raise BatchRefused(Refusal.NOT_JSON, f"body is not JSON: extra data at character {self.pos}")
        return items

    def _next(self) -> str:
        """The next character that is not whitespace ("" at the end), without consuming it."""
        match = _WHITESPACE.match(self.text, self.pos)
        self.pos = match.end() if match else self.pos
        return self.text[self.pos : self.pos + 1]

    def _expect(self, *allowed: str) -> str:
        found = self._next()
        if found not in allowed:
            wanted = " or ".join(repr(a) for a in allowed)
            message = f"body is not JSON: expected {wanted} at character {self.pos}"
            raise BatchRefused(Refusal.NOT_JSON, message)
        self.pos += 1
        return found

    def _value(self) -> Any:
        self._next()
        value, self.pos = self.strict.raw_decode(self.text, self.pos)
        return value

    def _array(self) -> list[Item]:
        self._expect("[")
        items: list[Item] = []
        if self._next() == "]":
            self.pos += 1
            return items
        while True:
            if len(items) == self.max_events:
                message = f"more than {self.max_events} events; a batch holds at most {self.max_events}"
                raise BatchRefused(Refusal.TOO_MANY_EVENTS, message)
            self._next()
            start = self.pos
            document = self._value()
            span = self.text[start : self.pos]
            size = len(span) if self.ascii else len(span.encode("utf-8", "surrogatepass"))
            items.append(Item(document, size, self.strict.take()))
            if self._expect(",", "]") == "]":
                return items

    def _wrapped(self) -> list[Item]:
        """``{"events": [...]}``: other members are skipped; "events" must be there once, an array."""
        self._expect("{")
        items: list[Item] | None = None
        named: set[str] = set()
        if self._next() == "}":
            self.pos += 1
        else:
            while True:
                if self._next() != '"':
                    raise BatchRefused(Refusal.NOT_JSON, f"body is not JSON: expected a key at {self.pos}")
                key = self._value()
                self._expect(":")
                if key in named:
                    message = f"the batch object names {clip(repr(key), 80)} twice"
                    raise BatchRefused(Refusal.NOT_AN_ARRAY, message)
                named.add(key)
                if key == "events" and self._next() == "[":
                    items = self._array()
                else:
                    self._value()
                    self.strict.take()
                if self._expect(",", "}") == "}":
                    break
        if items is None:
            message = 'a batch is a JSON array of events, or {"events": [...]}'
            raise BatchRefused(Refusal.NOT_AN_ARRAY, message)
        return items
