"""A little deterministic demo activity: a few reps capturing leads and logging calls."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

DEMO_SOURCE = "/salesledger/demo"
REPS = ("rep-ada", "rep-grace", "rep-alan")
OUTCOMES = ("connected", "connected", "voicemail", "no_answer", "busy")


def demo_events(count: int = 30, seed: int = 7, start: datetime | None = None) -> list[dict[str, Any]]:
    """`count` CloudEvents (structured mode) with stable ids, so a re-run is a repeat, not new facts."""
    rng = random.Random(seed)
    clock = start or datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    events: list[dict[str, Any]] = []
    for n in range(count):
        rep = REPS[n % len(REPS)]
        lead = f"lead-{n // 2:03d}"
        clock += timedelta(minutes=rng.randint(3, 40))
        if n % 2 == 0:
            events.append(
                _envelope(
                    f"demo-{seed}-{n}",
                    "LeadCaptured",
                    clock,
                    lead,
                    {
                        "lead_id": lead,
                        "rep_id": rep,
                        "source": rng.choice(["cold_call", "inbound", "referral"]),
                    },
                )
            )
        else:
            outcome = rng.choice(OUTCOMES)
            events.append(
                _envelope(
                    f"demo-{seed}-{n}",
                    "CallLogged",
                    clock,
                    lead,
                    {
                        "rep_id": rep,
                        "lead_id": lead,
                        "outcome": outcome,
                        "duration_seconds": rng.randint(60, 900) if outcome == "connected" else 0,
                    },
                )
            )
    return events


def _envelope(event_id: str, kind: str, at: datetime, subject: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": DEMO_SOURCE,
        "type": kind,
        "time": at.isoformat(),
        "subject": subject,
        "data": data,
    }


def as_bytes(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()
