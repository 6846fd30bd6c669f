"""The CloudEvents Kafka protocol binding: binary mode to the structured document we validate.

Structured mode: the value is the whole JSON event (content type ``application/cloudevents+json``,
or no ``ce_`` headers at all). Binary mode: attributes travel as ``ce_<name>`` headers, the value
is the ``data`` alone, and ``content-type`` is the data's media type. Header values are strings on
the wire, so integer attributes (our ``schemaversion`` extension) are converted back. The data's
JSON text goes through unchanged, so the gate decodes it exactly as over HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from events import FieldError, Reason, Rejection
from events.parse import StrictJson

Headers = Iterable[tuple[str, bytes]]
INTEGER_ATTRIBUTES = frozenset({"schemaversion"})


def is_binary_mode(headers: Headers) -> bool:
    return any(name.lower() == "ce_specversion" for name, _ in headers)


def binary_to_structured(value: bytes | None, headers: Headers) -> bytes:
    """A binary-mode message as the equivalent structured-mode JSON bytes.

    The data's JSON text is kept as the publisher wrote it (once checked to be one well-formed
    JSON value), never decoded and encoded again: ``12345678901234.5678`` stays exact, and duplicate
    keys in it reach the gate, which refuses them as over every other path.
    """
    attributes: dict[str, Any] = {}
    for name, raw in headers:
        lowered = name.lower()
        if lowered.startswith("ce_"):
            if lowered[3:] in attributes:
                message = f"header {_shown(lowered)} appears more than once, so its value is ambiguous"
                raise Rejection(Reason.INVALID, message, errors=(FieldError(_shown(lowered), message),))
            attributes[lowered[3:]] = _attribute(lowered[3:], raw)
        elif lowered == "content-type":
            attributes["datacontenttype"] = _text(lowered, raw).split(";")[0].strip()
    if "type" not in attributes:
        message = "binary-mode message has no ce_type header (the event type)"
        raise Rejection(Reason.UNKNOWN_TYPE, message, errors=(FieldError("ce_type", "header required"),))
    attributes.pop("data", None)  # a ce_data header is no attribute: the value is the data
    head = json.dumps(attributes, ensure_ascii=False)
    if value is None:
        return head.encode()
    try:
        data = value.decode()
        StrictJson().decode(data)  # one JSON value, so splicing it in below cannot add attributes
    except (UnicodeDecodeError, Rejection) as exc:
        raise Rejection(Reason.NOT_JSON, f"binary-mode data is not JSON: {exc}") from None
    separator = ", " if attributes else ""
    return f'{head[:-1]}{separator}"data": {data}}}'.encode(errors="surrogatepass")


def _shown(name: str) -> str:
    return name if len(name) <= 80 else name[:79] + "…"


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
