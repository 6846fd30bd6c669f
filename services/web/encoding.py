"""JSON as every endpoint writes it: decimals as exact strings, durations in seconds, ISO 8601 times
and days.

Our own encoding, not the web framework's (which rounds floats), so a live answer and a replay of
the same log match byte for byte.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any


def jsonable(value: Any) -> Any:
    """``value`` with decimals, durations and times turned into JSON's own types."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def json_bytes(value: Any) -> bytes:
    return json.dumps(jsonable(value)).encode()
