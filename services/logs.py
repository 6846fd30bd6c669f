"""Logs that tell an event's story: one line per accept, reject, duplicate and dead letter.

An operator asked "what happened to event X from source Y?" greps the log for its id. So every
outcome of admission is one record on the ``salesledger.events`` logger with the same fields:
``event_id``, ``source``, ``type``, ``aggregate`` (the event's subject: the lead, deal or rep it
is about), ``outcome`` (accepted, rejected, duplicate, deadletter), ``transport`` and, when refused,
``reason`` (a bounded `events.Reason` or refusal). Never the payload, never a key or a password:
only these envelope fields, which publishers send in the clear anyway.

With ``SALESLEDGER_LOG_FORMAT=json`` (workers' default) each record is a JSON object
(python-json-logger) with those fields at the top level; with ``text`` (``make run``) the same line
reads ``event accepted id=... source=... type=... aggregate=...``. Outcomes are logged at INFO, so
the repeat limiter (`services.log_limits`, WARNING and above) never hides one: a flood of refusals
is still one line each, and counted by ``salesledger_events_rejected_total``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any, Literal

import orjson
from pythonjsonlogger.json import JsonFormatter

LogFormat = Literal["json", "text"]
EVENTS = logging.getLogger("salesledger.events")
REFUSALS = {"conflict": "id_conflict", "violation": "rule_violation"}
"""The write model's refusals under the names answers and metrics give them (`services.refusals`)."""
TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def formatter(log_format: LogFormat) -> logging.Formatter:
    """The formatter of ``log_format``: JSON objects, or the human line ``make run`` shows."""
    if log_format == "text":
        return logging.Formatter(TEXT)
    return JsonFormatter(
        "{asctime}{levelname}{name}{message}",
        style="{",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        json_serializer=_dumps,
    )


def _dumps(data: Any, **_: Any) -> str:
    """orjson (a dependency already) rather than the standard encoder: a line per accepted event is
    on the intake's path, and orjson cuts the line's cost by about a third (bench/event_logs.py)."""
    return orjson.dumps(data, default=str).decode()


def use_format(logger: logging.Logger, log_format: LogFormat) -> None:
    """Give every handler of ``logger`` (the root logger, once configured) the ``log_format``
    formatter; the handlers' filters (the repeat limiter) stay as they are."""
    for handler in logger.handlers:
        handler.setFormatter(formatter(log_format))


def log_event(
    outcome: str,
    *,
    event_id: str | None,
    source: str | None,
    event_type: str | None,
    aggregate: str | None,
    transport: str,
    reason: str | None = None,
    stage: str | None = None,
    rule: str | None = None,
) -> None:
    """One line for one outcome of one event (see the module)."""
    if not EVENTS.isEnabledFor(logging.INFO):
        return
    fields = {
        "event_id": event_id,
        "source": source,
        "type": event_type,
        "aggregate": aggregate,
        "outcome": outcome,
        "transport": transport,
        "reason": reason,
        "stage": stage,
        "rule": rule,
    }
    given = {name: value for name, value in fields.items() if value is not None}
    said = " ".join(f"{name}={value}" for name, value in given.items() if name != "outcome")
    EVENTS.info("event %s %s", outcome, said, extra=given)


def log_outcomes(events: Sequence[Any], results: Sequence[Any], transport: str) -> None:
    """The write model's decisions (`services.writemodel.outcomes.Appended`) for ``events``:
    accepted, duplicate, or rejected with the id conflict or the rule it broke."""
    for event, result in zip(events, results, strict=True):
        outcome = str(result.outcome.value)
        refused = outcome not in ("accepted", "duplicate")
        log_event(
            "rejected" if refused else outcome,
            event_id=event.id,
            source=event.source,
            event_type=event.type,
            aggregate=event.partition_key,
            transport=transport,
            reason=REFUSALS.get(outcome, outcome) if refused else None,
            rule=result.rule,
        )


def log_rejected(rejection: Any, transport: str, document: Any = None) -> None:
    """An input refused at admission (`events.Rejection`), before any event was made of it: the
    envelope fields are taken from ``document`` (decoded, or the body's bytes) when it has them."""
    fields = _envelope_fields(_decoded(document))
    log_event(
        "rejected",
        event_id=fields.get("id"),
        source=fields.get("source"),
        event_type=fields.get("type") or getattr(rejection, "event_type", None),
        aggregate=fields.get("subject") or fields.get("id"),
        transport=transport,
        reason=str(getattr(rejection.reason, "value", rejection.reason)),
    )


def log_deadletter(stage: str, reason: str, value: bytes | None, transport: str = "kafka") -> None:
    """A message sent to the dead-letter topic; its envelope fields read from its bytes if they are
    a JSON object (best effort: a dead letter is often not)."""
    fields = _envelope_fields(_decoded(value))
    log_event(
        "deadletter",
        event_id=fields.get("id"),
        source=fields.get("source"),
        event_type=fields.get("type"),
        aggregate=fields.get("subject") or fields.get("id"),
        transport=transport,
        reason=reason,
        stage=stage,
    )


def _decoded(document: Any) -> Any:
    """``document`` itself, or the JSON its bytes hold (None when they hold none): only refused
    inputs come here, so decoding them again costs nothing on the accepted path."""
    if not isinstance(document, bytes | bytearray | str):
        return document
    try:
        return json.loads(document)
    except (ValueError, RecursionError):  # not JSON, or nested too deep to decode: no fields
        return None


def _envelope_fields(document: Any) -> dict[str, str]:
    """The string envelope fields (id, source, type, subject) of a decoded document, cut short."""
    if not isinstance(document, dict):
        return {}
    return {
        name: document[name][:200]
        for name in ("id", "source", "type", "subject")
        if isinstance(document.get(name), str)
    }


def log_refused(event: Any, reason: str, transport: str) -> None:
    """An admitted event refused before the write model saw it (its source is not the key's)."""
    log_event(
        "rejected",
        event_id=event.id,
        source=event.source,
        event_type=event.type,
        aggregate=event.partition_key,
        transport=transport,
        reason=str(reason),
    )
