"""Routing of messages that cannot be processed to the dead-letter topic, with their reason.

The original key and bytes are kept, and the original headers except reserved ones; our
``salesledger.*`` headers say why and where from, so an operator can fix and re-publish. Reserved
headers (`RESERVED_PREFIXES`: every ``salesledger.*`` name, any case) are stripped from the incoming
record first: a publisher cannot put its own reason, stage or origin ahead of ours, and on the events
topic the relay's headers are found again from the origin (topic/partition/offset). Faust acks a
message whose handler raised, so nothing hosted by Faust raises on bad input: the ingestor and the
projector (batch consumers) route it here, with these headers, and count it in
``salesledger_deadletter_total``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from faust.types import EventT

Header = tuple[str, bytes]
RESERVED_PREFIXES = ("salesledger.",)
"""Header names only we set (the relay on the events topic, dead-lettering here), compared in lower case."""


def is_reserved(name: str | bytes) -> bool:
    text = name.decode(errors="replace") if isinstance(name, bytes) else str(name)
    return text.strip().lower().startswith(RESERVED_PREFIXES)


def foreign_headers(headers: Any) -> list[Header]:
    """The headers of an incoming record without the reserved ones (a dict or (name, value) pairs)."""
    pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    return [(name, value) for name, value in pairs if not is_reserved(name)]


def deadletter_headers(
    *,
    stage: str,
    reason: str,
    message: str,
    errors: Sequence[dict[str, str]],
    source: EventT[Any],
    rule: str | None = None,
) -> list[Header]:
    msg = source.message
    return reason_headers(
        stage=stage,
        reason=reason,
        message=message,
        errors=errors,
        origin=f"{msg.topic}/{msg.partition}/{msg.offset}",
        headers=msg.headers or [],
        rule=rule,
    )


def reason_headers(
    *,
    stage: str,
    reason: str,
    message: str,
    errors: Sequence[dict[str, str]],
    origin: str,
    headers: Any,
    rule: str | None = None,
) -> list[Header]:
    """The original headers, reserved ones stripped, plus ours: stage, reason, message, field errors,
    origin (topic/partition/offset)."""
    return [
        *foreign_headers(headers),
        ("salesledger.stage", stage.encode()),
        ("salesledger.reason", reason.encode()),
        ("salesledger.message", message.encode()),
        ("salesledger.errors", json.dumps(list(errors)).encode()),
        ("salesledger.source", origin.encode()),
        *([("salesledger.rule", rule.encode())] if rule else []),
    ]
