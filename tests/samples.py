"""Readable sample events for tests."""

from __future__ import annotations

import copy
import itertools
import json
from functools import cache
from pathlib import Path
from typing import Any

from events.envelope import Envelope
from events.parse import parse_document

SAMPLES = Path(__file__).resolve().parent / "data" / "events"
_ids = itertools.count(1)


@cache
def latest_sample(type_name: str) -> dict[str, Any]:
    latest = max(SAMPLES.glob(f"{type_name}.v*.json"), key=lambda path: int(path.stem.rsplit(".v", 1)[1]))
    document: dict[str, Any] = json.loads(latest.read_text(encoding="utf-8"))
    return document


def sample_event(type_name: str, at: str, event_id: str | None = None, **data: Any) -> Envelope:
    """The latest sample of ``type_name`` at ``at`` with ``data`` fields replaced (None removes one)."""
    return _event(latest_sample(type_name), at, event_id, data)


def older_sample_event(
    type_name: str, version: int, at: str, event_id: str | None = None, **data: Any
) -> Envelope:
    """Like `sample_event`, from the sample of an older schema ``version``: the gate upcasts it."""
    path = SAMPLES / f"{type_name}.v{version}.json"
    return _event(json.loads(path.read_text(encoding="utf-8")), at, event_id, data)


def _event(sample: dict[str, Any], at: str, event_id: str | None, data: dict[str, Any]) -> Envelope:
    document = copy.deepcopy(sample)
    document["id"] = event_id or f"evt-sample-{next(_ids)}"
    document["time"] = at
    document.pop("subject", None)
    for name, value in data.items():
        if value is None:
            document["data"].pop(name, None)
        else:
            document["data"][name] = value
    return parse_document(document)


def money(amount: int | str, currency: str = "EUR") -> dict[str, str]:
    return {"amount": str(amount), "currency": currency}


def call_logged(
    event_id: str = "evt-call-1",
    rep_id: str = "rep-ada",
    lead_id: str = "lead-001",
    outcome: str = "connected",
    duration_seconds: int = 300,
    time: str = "2026-11-02T10:15:00+01:00",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": "/dialer/test",
        "type": "CallLogged",
        "time": time,
        "subject": lead_id,
        "data": {
            "rep_id": rep_id,
            "lead_id": lead_id,
            "outcome": outcome,
            "duration_seconds": duration_seconds,
        },
        **extra,
    }


def lead_captured(
    event_id: str = "evt-lead-1", rep_id: str = "rep-ada", lead_id: str = "lead-001", source: str = "referral"
) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": "/crm/test",
        "type": "LeadCaptured",
        "time": "2026-11-02T09:00:00Z",
        "subject": lead_id,
        "data": {"lead_id": lead_id, "rep_id": rep_id, "source": source},
    }


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()
