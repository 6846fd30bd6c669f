"""The live read models against a replay: every (read model, source partition, key) whose partial
differs, is missing on one side, or is only on the other. Pure: no Kafka, no HTTP."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

Partials = Mapping[tuple[int, str], Any]
"""(source partition, key) to the stored partial parsed from JSON: ``[offset, state]``."""
WIDTH = 160


@dataclass(frozen=True)
class Difference:
    model: str
    partition: int
    key: str
    live: Any
    """The live partial (parsed JSON), None when the live side has none."""
    replay: Any
    """The replayed partial (parsed JSON), None when the replay has none."""

    def describe(self, width: int = WIDTH) -> str:
        live, replay = shown(self.live), shown(self.replay)
        live, replay = shortened(live, replay, width)
        return (
            f"{self.model} partition {self.partition} key {self.key!r}\n  live:   {live}\n  replay: {replay}"
        )


def compare(live: Mapping[str, Partials], replay: Mapping[str, Partials]) -> list[Difference]:
    """Every partial that is not the same on both sides, by (model, partition, key).

    Partials compare as JSON values (the offset of the last event folded and the state), so the
    bytes a worker stored and those a replay encoded are equal whenever they say the same thing.
    """
    found: list[Difference] = []
    for model in sorted(set(live) | set(replay)):
        ours, theirs = live.get(model, {}), replay.get(model, {})
        for partition, key in sorted(set(ours) | set(theirs)):
            a, b = ours.get((partition, key)), theirs.get((partition, key))
            if a != b:
                found.append(Difference(model, partition, key, a, b))
    return found


def last_offsets(live: Mapping[str, Partials]) -> dict[int, int]:
    """Per source partition, the largest offset any live partial has folded in (-1: none)."""
    offsets: dict[int, int] = {}
    for partials in live.values():
        for (partition, _key), partial in partials.items():
            offsets[partition] = max(offsets.get(partition, -1), int(partial[0]))
    return offsets


def shown(partial: Any) -> str:
    return "(none)" if partial is None else orjson.dumps(partial, option=orjson.OPT_SORT_KEYS).decode()


def shortened(a: str, b: str, width: int = WIDTH) -> tuple[str, str]:
    """Both texts cut to about ``width`` characters around where they first differ."""
    if len(a) <= width and len(b) <= width:
        return a, b
    first = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    start = max(first - width // 4, 0)

    def cut(text: str) -> str:
        piece = text[start : start + width]
        return ("…" if start else "") + piece + ("…" if start + width < len(text) else "")

    return cut(a), cut(b)
