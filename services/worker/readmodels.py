"""The read models the worker keeps, each a pure fold from `projections` behind one small adapter.

Every read model is stored as partials keyed by (source partition, aggregate key) with the offset
of the last event folded in (`projections.positions`), so the live agent, a replay and a query
across workers all treat them alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from events.envelope import Envelope
from projections import funnel, kpi_fold, org, pipeline, rep_activity
from projections.positions import Positioned, apply_once
from services.process.config import ProcessConfig


@dataclass(frozen=True)
class ReadModel:
    """How one read model keys, folds and stores events (all pure)."""

    name: str
    keys_of: Callable[[Envelope], tuple[str, ...]]
    """The partials an event changes (none for events this read model ignores)."""
    empty: Callable[[str], Any]
    evolve: Callable[[Any, Envelope, str], Any]
    to_dict: Callable[[Any], dict[str, Any]]
    from_dict: Callable[[str, dict[str, Any]], Any]

    def decode(self, key: str, stored: dict[str, Any] | None) -> Positioned[Any]:
        if stored is None:
            return Positioned(self.empty(key))
        return Positioned(self.from_dict(key, stored["state"]), int(stored["offset"]))

    def encode(self, partial: Positioned[Any]) -> dict[str, Any]:
        return {"state": self.to_dict(partial.state), "offset": partial.offset}

    def apply(
        self, key: str, stored: dict[str, Any] | None, offset: int, event: Envelope
    ) -> dict[str, Any] | None:
        """The new stored partial, or None when the event at `offset` was already folded in."""
        updated = apply_once(self.decode(key, stored), offset, event, lambda s, e: self.evolve(s, e, key))
        return None if updated is None else self.encode(updated)


def single(key_of: Callable[[Envelope], str | None]) -> Callable[[Envelope], tuple[str, ...]]:
    """For read models where an event changes at most one partial."""

    def keys_of(event: Envelope) -> tuple[str, ...]:
        key = key_of(event)
        return () if key is None else (key,)

    return keys_of


def read_models(process: ProcessConfig, timezone: str) -> tuple[ReadModel, ...]:
    """Every read model, bound to the organisation's process and time zone."""
    return (
        ReadModel(
            "rep-activity",
            single(rep_activity.rep_of),
            lambda _key: rep_activity.RepActivity(),
            lambda state, event, _key: rep_activity.evolve(state, event),
            lambda state: state.to_dict(),
            lambda _key, data: rep_activity.RepActivity.from_dict(data),
        ),
        ReadModel(
            "pipeline",
            single(pipeline.key_of),
            pipeline.empty,
            lambda part, event, _key: pipeline.evolve(part, event, process),
            lambda part: part.to_dict(),
            lambda _key, data: pipeline.part_from_dict(data),
        ),
        ReadModel(
            "funnel",
            single(funnel.key_of),
            funnel.empty,
            lambda track, event, _key: funnel.evolve(track, event, process),
            lambda track: track.to_dict(),
            lambda _key, data: funnel.track_from_dict(data),
        ),
        ReadModel(
            "org",
            single(org.key_of),
            lambda _key: org.OrgState(),
            lambda state, event, _key: org.evolve(state, event),
            lambda state: state.to_dict(),
            lambda _key, data: org.OrgState.from_dict(data),
        ),
        ReadModel(
            "kpis",
            lambda event: tuple(key for key, _ in kpi_fold.contributions(event, timezone)),
            lambda _key: None,
            lambda state, event, key: kpi_fold.evolve(state, key, event, timezone),
            kpi_fold.encode_partial,
            kpi_fold.decode_partial,
        ),
    )
