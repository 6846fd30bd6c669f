"""How a KPI partial (`projections.kpi_fold`) is stored: a JSON-ready dict, and back.

The projector writes ``[offset, form]`` with orjson (`readmodels.ReadModel.encode`) into every
RocksDB store and projection changelog, so these forms never change shape:

- `KpiCounters` (key ``activity|...``): ``{"calls": 3, ..., "research_minutes": 25}``, every
  field in field order; a field missing when read is 0.
- `Timeline` (every other key): ``{"records": [record, ...]}`` in timeline order, each record
  ``{"record": <class name>, <field>: <value>, ...}`` in field order: a Decimal as its ``str``, a
  date or datetime as its ``isoformat()`` (a datetime keeps its UTC offset), a tuple as a list;
  str, bool and None as they are. A field with a default may be missing from a stored record (one
  written before the field existed): it reads as its default. A timeline whose events' recorded
  instants are known adds ``"recorded": [[event_id, isoformat], ...]`` (sorted by event id);
  without it, every record counts as recorded when it happened.

Each record type has its encoder and decoder spelt out in `kpi_record_codec`; both run for every
partial read or written, and are as fast as the codecs generated per class they replace
(`bench/codecs.py`, docs/performance.md). `tests/unit/test_kpi_codec.py` checks them against the
definition above, field by field, and against fixed stored bytes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from projections.kpi_counters import KpiCounters
from projections.kpi_fold import ACTIVITY, Partial
from projections.kpi_records import (
    Record,
    Timeline,
)
from services.projector.kpi_record_codec import DECODERS, ENCODERS

_ACTIVITY_PREFIX = ACTIVITY + "|"


def encode_partial(partial: Partial) -> dict[str, Any]:
    """The stored form of a partial (JSON values only)."""
    if isinstance(partial, KpiCounters):
        return encode_counters(partial)
    return encode_timeline(partial)


def decode_partial(key: str, data: dict[str, Any]) -> Partial:
    """The partial stored under ``key`` (its kind follows from the key)."""
    if key.startswith(_ACTIVITY_PREFIX):
        return decode_counters(data)
    return decode_timeline(data)


# --- counters ------------------------------------------------------------------------------------


def encode_counters(counters: KpiCounters) -> dict[str, Any]:
    """The counters' own dict (`KpiCounters.to_dict`: every field, in field order)."""
    return counters.to_dict()


def decode_counters(data: dict[str, Any]) -> KpiCounters:
    get = data.get
    return KpiCounters(
        int(get("calls", 0)),
        int(get("connected_calls", 0)),
        int(get("talk_seconds", 0)),
        int(get("emails_sent", 0)),
        int(get("emails_replied", 0)),
        int(get("meetings", 0)),
        int(get("meeting_seconds", 0)),
        int(get("social_touches", 0)),
        int(get("research_minutes", 0)),
    )


# --- timelines -----------------------------------------------------------------------------------


def encode_timeline(timeline: Timeline) -> dict[str, Any]:
    encoders = ENCODERS
    encoded: dict[str, Any] = {"records": [encoders[type(record)](record) for record in timeline.records]}
    if timeline.recorded:  # absent when empty: states saved before recorded times read the same
        encoded["recorded"] = [[event_id, at.isoformat()] for event_id, at in timeline.recorded]
    return encoded


def decode_timeline(data: dict[str, Any]) -> Timeline:
    decoders = DECODERS
    records = tuple([decoders[item["record"]](item) for item in data.get("records", ())])
    recorded = tuple((str(event_id), datetime.fromisoformat(at)) for event_id, at in data.get("recorded", ()))
    return Timeline(records, recorded)


def encode_record(record: Record) -> dict[str, Any]:
    return ENCODERS[type(record)](record)


def decode_record(data: dict[str, Any]) -> Record:
    return DECODERS[data["record"]](data)
