"""Routing of messages that cannot be processed to the dead-letter topic, with their reason.

The original key, bytes and headers are kept; ``salesledger.*`` headers say why and where from,
so an operator can fix and re-publish. Faust acks a message whose handler raised, so every agent
routes failures here instead of raising.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from faust.types import EventT, TopicT

from services.metrics import DEADLETTERED

Header = tuple[str, bytes]


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
    """The original headers plus ours: stage, reason, message, field errors, origin (topic/part/offset)."""
    original = list(headers.items()) if isinstance(headers, dict) else list(headers)
    return [
        *original,
        ("salesledger.stage", stage.encode()),
        ("salesledger.reason", reason.encode()),
        ("salesledger.message", message.encode()),
        ("salesledger.errors", json.dumps(list(errors)).encode()),
        ("salesledger.source", origin.encode()),
        *([("salesledger.rule", rule.encode())] if rule else []),
    ]


async def send_to_deadletter(
    topic: TopicT,
    source: EventT[Any],
    *,
    stage: str,
    reason: str,
    message: str,
    errors: Sequence[dict[str, str]] = (),
    rule: str | None = None,
) -> None:
    """Write the source message, untouched, to the dead-letter topic with its reason."""
    headers = deadletter_headers(
        stage=stage, reason=reason, message=message, errors=errors, source=source, rule=rule
    )
    await topic.send(key=source.message.key, value=source.message.value, headers=headers)
    DEADLETTERED.labels(stage, str(reason)).inc()
