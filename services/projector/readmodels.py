"""The read models the worker keeps, each a pure fold from `projections` behind one small adapter.

Every read model is stored as partials keyed by (source partition, aggregate key) with the offset
of the last event folded in (`projections.positions`), so the live projector, a replay and a
query across workers all treat them alike. An adapter says which partials an event changes and
how (`changes`), and how a partial is written down (`encode`/`decode`: compact JSON bytes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson

from events.envelope import Envelope
from projections import development, funnel, kpi_fold, org, pipeline, rep_activity
from projections.incentives import ledger
from projections.positions import Positioned
from sales.process import ProcessConfig
from services.projector import kpi_codec

Update = Callable[[Any], Any]
"""From the partial's current state to its state after one event."""
Changes = Sequence[tuple[str, Update]]


def _json_default(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


@dataclass(frozen=True)
class ReadModel:
    """How one read model keys, folds and stores events (all pure)."""

    name: str
    changes: Callable[[Envelope], Changes]
    """The partials an event changes, each with its update (none for events this model ignores)."""
    empty: Callable[[str], Any]
    to_dict: Callable[[Any], dict[str, Any]]
    from_dict: Callable[[str, dict[str, Any]], Any]

    def decode(self, key: str, stored: bytes | None) -> Positioned[Any]:
        """A stored partial (``[offset, state]`` as JSON), or the empty one."""
        if stored is None:
            return Positioned(self.empty(key))
        return self.loaded(key, orjson.loads(stored))

    def loaded(self, key: str, document: Any) -> Positioned[Any]:
        """A stored partial already parsed from JSON (as a peer worker sends it)."""
        offset, state = document
        return Positioned(self.from_dict(key, state), int(offset))

    def encode(self, partial: Positioned[Any]) -> bytes:
        return orjson.dumps([partial.offset, self.to_dict(partial.state)], default=_json_default)


def single(
    key_of: Callable[[Envelope], str | None], evolve: Callable[[Any, Envelope], Any]
) -> Callable[[Envelope], Changes]:
    """For read models where an event changes at most one partial."""

    def changes(event: Envelope) -> Changes:
        key = key_of(event)
        return () if key is None else ((key, lambda state: evolve(state, event)),)

    return changes


def kpi_changes(timezone: str) -> Callable[[Envelope], Changes]:
    """Each KPI contribution merges into the partial under its key (`projections.kpi_fold`)."""

    def changes(event: Envelope) -> Changes:
        return tuple(
            (key, lambda state, part=part: part if state is None else kpi_fold.merge(state, part))
            for key, part in kpi_fold.contributions(event, timezone)
        )

    return changes


def read_models(process: ProcessConfig, timezone: str) -> tuple[ReadModel, ...]:
    """Every read model, bound to the organisation's process and time zone."""
    return (
        ReadModel(
            "rep-activity",
            single(rep_activity.rep_of, rep_activity.evolve),
            lambda _key: rep_activity.RepActivity(),
            lambda state: state.to_dict(),
            lambda _key, data: rep_activity.RepActivity.from_dict(data),
        ),
        ReadModel(
            "pipeline",
            single(pipeline.key_of, lambda part, event: pipeline.evolve(part, event, process)),
            pipeline.empty,
            lambda part: part.to_dict(),
            lambda _key, data: pipeline.part_from_dict(data),
        ),
        ReadModel(
            "funnel",
            single(funnel.key_of, lambda track, event: funnel.evolve(track, event, process)),
            funnel.empty,
            lambda track: track.to_dict(),
            lambda _key, data: funnel.track_from_dict(data),
        ),
        ReadModel(
            "org",
            single(org.key_of, org.evolve),
            lambda _key: org.OrgState(),
            lambda state: state.to_dict(),
            lambda _key, data: org.OrgState.from_dict(data),
        ),
        ReadModel(
            "kpis",
            kpi_changes(timezone),
            lambda _key: None,
            kpi_codec.encode_partial,
            kpi_codec.decode_partial,
        ),
        ReadModel(
            "development",
            single(development.key_of, development.evolve),
            lambda _key: development.Development(),
            lambda state: state.to_dict(),
            lambda _key, data: development.Development.from_dict(data),
        ),
        ReadModel(
            "incentives",
            single(ledger.key_of, ledger.evolve),
            lambda _key: ledger.Entries(),
            _entries_to_dict,
            lambda _key, data: _entries_from_dict(data),
        ),
    )


def _entries_to_dict(entries: ledger.Entries) -> dict[str, Any]:
    """``{"entries": [[event id, type, UTC time, data JSON, UTC recorded time], ...]}`` in event-id order."""
    return {"entries": [[e.event_id, e.type, e.at, e.data, e.recorded] for e in entries.items]}


def _entries_from_dict(data: dict[str, Any]) -> ledger.Entries:
    return ledger.Entries(tuple(ledger.Entry(*item) for item in data.get("entries", ())))
