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
from projections import funnel, org, pipeline, rep_activity
from projections.positions import Positioned, apply_once
from services.process.config import ProcessConfig


@dataclass(frozen=True)
class ReadModel:
    """How one read model keys, folds and stores events (all pure)."""

    name: str
    key_of: Callable[[Envelope], str | None]
    empty: Callable[[str], Any]
    evolve: Callable[[Any, Envelope], Any]
    to_dict: Callable[[Any], dict[str, Any]]
    from_dict: Callable[[dict[str, Any]], Any]

    def decode(self, key: str, stored: dict[str, Any] | None) -> Positioned[Any]:
        if stored is None:
            return Positioned(self.empty(key))
        return Positioned(self.from_dict(stored["state"]), int(stored["offset"]))

    def encode(self, partial: Positioned[Any]) -> dict[str, Any]:
        return {"state": self.to_dict(partial.state), "offset": partial.offset}

    def apply(
        self, key: str, stored: dict[str, Any] | None, offset: int, event: Envelope
    ) -> dict[str, Any] | None:
        """The new stored partial, or None when the event at `offset` was already folded in."""
        updated = apply_once(self.decode(key, stored), offset, event, self.evolve)
        return None if updated is None else self.encode(updated)


def read_models(process: ProcessConfig) -> tuple[ReadModel, ...]:
    return (
        ReadModel(
            "rep-activity",
            rep_activity.rep_of,
            lambda _key: rep_activity.RepActivity(),
            rep_activity.evolve,
            lambda state: state.to_dict(),
            rep_activity.RepActivity.from_dict,
        ),
        ReadModel(
            "pipeline",
            pipeline.key_of,
            pipeline.empty,
            lambda part, event: pipeline.evolve(part, event, process),
            lambda part: part.to_dict(),
            pipeline.part_from_dict,
        ),
        ReadModel(
            "funnel",
            funnel.key_of,
            funnel.empty,
            lambda track, event: funnel.evolve(track, event, process),
            lambda track: track.to_dict(),
            funnel.track_from_dict,
        ),
        ReadModel(
            "org",
            org.key_of,
            lambda _key: org.OrgState(),
            org.evolve,
            lambda state: state.to_dict(),
            org.OrgState.from_dict,
        ),
    )
