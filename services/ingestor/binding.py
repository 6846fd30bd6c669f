"""The CloudEvents Kafka protocol binding: binary mode to the structured document we validate.

Structured mode: the value is the whole JSON event (content type ``application/cloudevents+json``,
or no ``ce_`` headers at all). Binary mode: attributes travel as ``ce_<name>`` headers, the value
is the ``data`` alone, and ``content-type`` is the data's media type. Header values are strings on
the wire, so integer attributes (our ``schemaversion`` extension) are converted back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from events import Reason, Rejection

Headers = Iterable[tuple[str, bytes]]
INTEGER_ATTRIBUTES = frozenset({"schemaversion"})


def is_binary_mode(headers: Headers) -> bool:
    return any(name.lower() == "ce_specversion" for name, _ in headers)


def binary_to_structured(value: bytes | None, headers: Headers) -> bytes:
    """A binary-mode message as the equivalent structured-mode JSON bytes."""
    document: dict[str, Any] = {}
    for name, raw in headers:
        lowered = name.lower()
        if lowered.startswith("ce_"):
            document[lowered[3:]] = _attribute(lowered[3:], raw)
        elif lowered == "content-type":
            document["datacontenttype"] = _text(lowered, raw).split(";")[0].strip()
    if value is not None:
        try:
            document["data"] = json.loads(value)
        except (ValueError, UnicodeDecodeError) as exc:
            raise Rejection(Reason.NOT_JSON, f"binary-mode data is not JSON: {exc}") from None
    return json.dumps(document).encode()


def _attribute(name: str, raw: bytes) -> object:
    text = _text(name, raw)
    if name in INTEGER_ATTRIBUTES and text.lstrip("-").isdigit():
        return int(text)
    return text


def _text(name: str, raw: bytes) -> str:
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise Rejection(Reason.INVALID, f"header {name} is not UTF-8") from None


def as_structured(value: bytes | None, headers: Headers | None) -> bytes:
    """The structured-mode bytes of a Kafka message in either mode."""
    header_list = list(headers or [])
    if is_binary_mode(header_list):
        return binary_to_structured(value, header_list)
    return value or b""
