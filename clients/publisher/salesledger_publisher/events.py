"""Building events: ids fixed before the first attempt, and bytes that never change between attempts."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

EVENT_ID_NAMESPACE = uuid.UUID("ecbfbf94-f78c-4850-89a6-a1c226342082")
"""Namespace of ids derived from natural keys. Never change it: every derived id would change."""

EVENTS_PATH = "/v1/events"
BATCH_PATH = "/v1/events:batch"
DEFAULT_MAX_BATCH_SIZE = 1000
"""The server's default `SALESLEDGER_MAX_BATCH_EVENTS`; lower it to match a stricter server."""

Status = Literal["accepted", "duplicate", "rejected"]


def stable_id(source: str, type: str, natural_key: str) -> str:
    """The id of the fact `natural_key` (the tool's own id for it) of `type` from `source`."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{source}|{type}|{natural_key}"))


def new_event(
    type: str,
    data: Mapping[str, Any],
    *,
    source: str,
    time: datetime,
    subject: str | None = None,
    id: str | None = None,
    natural_key: str | None = None,
    actor: str | None = None,
    correlationid: str | None = None,
    causationid: str | None = None,
    schemaversion: int = 1,
) -> dict[str, Any]:
    """A CloudEvents 1.0 structured-mode event whose id is fixed now, before any attempt.

    Prefer `natural_key`: the same fact published again (say by a dialer restarted mid-upload)
    gets the same id and is recognised as a duplicate. Without one, a random id is drawn here,
    once, so retries of this event reuse it. `time` is when the fact happened and must carry a
    timezone: a naive time means different instants on differently configured machines.
    """
    if time.tzinfo is None or time.utcoffset() is None:
        raise ValueError(f"time must be timezone-aware, got naive {time.isoformat()}")
    if id is not None and natural_key is not None:
        raise ValueError("give id or natural_key, not both")
    if id is None:
        id = stable_id(source, type, natural_key) if natural_key is not None else str(uuid.uuid4())
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": id,
        "source": source,
        "type": type,
        "time": time.isoformat(),
        "datacontenttype": "application/json",
        "schemaversion": schemaversion,
        "data": dict(data),
    }
    optional = {
        "subject": subject,
        "actor": actor,
        "correlationid": correlationid,
        "causationid": causationid,
    }
    event.update({name: value for name, value in optional.items() if value is not None})
    return event


def _json_default(value: object) -> object:
    # Money is Decimal: a string keeps every digit, where a float would round it.
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__} {value!r} as JSON")


def encode(document: object) -> bytes:
    """JSON bytes of an event or a batch, made once per publish so that every retry is identical."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False, default=_json_default).encode()
