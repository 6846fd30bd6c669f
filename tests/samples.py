"""Readable sample events for tests."""

from __future__ import annotations

import json
from typing import Any


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
