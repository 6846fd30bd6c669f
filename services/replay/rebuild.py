"""Folding the log into fresh read models with the live projector's own code, in memory.

Each source partition gets a `PartitionProjection` (the class the projector runs) over a
`MemoryStore`, and every record is decoded and folded exactly as `Projector._fold` does: parsed
with `events.parse.parse_logged_event`, folded into every read model at its offset, or skipped
(the live projector dead-letters it) when it cannot be parsed or folded. So a replay's partials
are the live ones by construction, not by a second implementation agreeing with the first.

Folded states stay decoded in the projection until `FLUSH_EVENTS` events of a partition have been
folded; then they are encoded into the memory store, as the projector writes its changelog: the
replay's memory is bounded by the encoded read models plus the projection's decoded cache.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

import orjson

from services.projector.partition import POSITION, Logged, PartitionProjection
from services.projector.readmodels import ReadModel
from services.projector.store import MemoryStore

FLUSH_EVENTS = 200_000
"""Events of one partition folded before its touched partials are encoded into the memory store."""

REPLAY_GC_THRESHOLDS = (200_000, 50, 100)
"""A replay allocates millions of short-lived, acyclic objects (parsed events, states replaced by
their successors): with Python's thresholds (700, 10, 10) the cyclic collector's full passes over
the growing read models took about half a replay's time (21,350 events/s; 37,633 with these,
41,365 with the collector off, same log, same run)."""


@contextmanager
def collecting_rarely() -> Iterator[None]:
    """Freeze what is alive now and collect cycles rarely while a replay folds; restore after."""
    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*REPLAY_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


class Named(Protocol):
    @property
    def name(self) -> str: ...


class Folds(Protocol):
    """A finished fold: `Rebuild` in this process, `Folded` from another."""

    @property
    def models(self) -> Sequence[Named]: ...

    @property
    def events(self) -> int: ...

    @property
    def skipped(self) -> Counter[str]: ...

    def partials(self, model: str) -> dict[tuple[int, str], bytes]: ...

    def positions(self) -> dict[int, int]: ...


@dataclass
class Rebuild:
    """The read models ``models`` of every source partition, folded from records given in order."""

    models: Sequence[ReadModel]
    cache_size: int = 100_000
    projections: dict[int, PartitionProjection] = field(default_factory=dict)
    events: int = 0
    """Records folded or skipped."""
    skipped: Counter[str] = field(default_factory=Counter)
    """Records the live projector would dead-letter, by reason."""
    _since_flush: Counter[int] = field(default_factory=Counter)

    def fold(self, partition: int, records: Iterable[Logged]) -> None:
        """Fold one partition's next records (offsets ascending), as `Projector._fold` does."""
        projection = self.projections.get(partition)
        if projection is None:
            projection = PartitionProjection(partition, self.models, MemoryStore(), self.cache_size)
            self.projections[partition] = projection
        count, skipped = projection.fold_logged(records)
        self.skipped.update(skipped)
        self.events += count
        self._since_flush[partition] += count
        if self._since_flush[partition] >= FLUSH_EVENTS:
            self._flush(projection)

    def _flush(self, projection: PartitionProjection) -> None:
        projection.written(len(projection.pending()))
        self._since_flush[projection.partition] = 0

    def finish(self) -> None:
        """Encode everything still decoded (call once, after the last record)."""
        for projection in self.projections.values():
            self._flush(projection)
            projection.take_outcomes()

    def columns(self) -> dict[str, list[Columns]]:
        """Every model's partials as `Columns`, read in one pass over each partition's store (call
        after `finish`: everything folded is in the stores then)."""
        out: dict[str, list[Columns]] = {model.name: [] for model in self.models}
        for partition, projection in sorted(self.projections.items()):
            found: dict[str, Columns] = {}
            for stored, value in projection.store.items():
                if stored == POSITION:
                    continue
                model, _, key = stored.partition(b"|")
                name = model.decode()
                if name not in found:
                    found[name] = Columns(partition, [], [])
                found[name].keys.append(key.decode())
                found[name].values.append(value)
            for name, columns in found.items():
                out[name].append(columns)
        return out

    def partials(self, model: str) -> dict[tuple[int, str], bytes]:
        """(source partition, key) to the partial's stored bytes (the model's `encode`)."""
        return {
            (partition, key): value
            for partition, projection in sorted(self.projections.items())
            for key, value in projection.partials(model)
        }

    def positions(self) -> dict[int, int]:
        """Each source partition's next offset to fold."""
        return {partition: p.position for partition, p in sorted(self.projections.items())}


@dataclass(frozen=True)
class ModelName:
    name: str


@dataclass(frozen=True)
class Columns:
    """One partition's partials of one model as two parallel lists: what crosses a process
    boundary. A dict keyed by (partition, key) tuples took ten times as long to send and read back
    (0.52 s to build and 0.43 s to unpickle per 100,000 events, against 0.10 s and 0.04 s)."""

    partition: int
    keys: list[str]
    values: list[bytes]


@dataclass(frozen=True)
class Folded:
    """A finished rebuild as plain data: it crosses process boundaries, and the folds of disjoint
    sets of partitions merge into the fold of them all (a partial belongs to one partition)."""

    models: tuple[ModelName, ...]
    events: int
    skipped: Counter[str]
    by_model: Mapping[str, list[Columns]]
    at: Mapping[int, int]

    @classmethod
    def of(cls, rebuild: Rebuild) -> Folded:
        """The rebuild's result (``rebuild.finish()`` called)."""
        names = tuple(ModelName(model.name) for model in rebuild.models)
        return cls(names, rebuild.events, Counter(rebuild.skipped), rebuild.columns(), rebuild.positions())

    @classmethod
    def merged(cls, parts: Sequence[Folded]) -> Folded:
        if not parts:
            raise ValueError("nothing to merge")
        skipped: Counter[str] = Counter()
        for part in parts:
            skipped.update(part.skipped)
        names = parts[0].models
        by_model = {m.name: [columns for part in parts for columns in part.by_model[m.name]] for m in names}
        at = {p: offset for part in parts for p, offset in part.at.items()}
        return cls(names, sum(part.events for part in parts), skipped, by_model, at)

    def partials(self, model: str) -> dict[tuple[int, str], bytes]:
        return dict(
            sorted(
                ((columns.partition, key), value)
                for columns in self.by_model[model]
                for key, value in zip(columns.keys, columns.values, strict=True)
            )
        )

    def positions(self) -> dict[int, int]:
        return dict(sorted(self.at.items()))


def document(model: str, partials: Mapping[tuple[int, str], bytes]) -> bytes:
    """A read model's partials as one deterministic JSON file: sorted by (partition, key), each
    partial embedded exactly as the model encodes it (`[offset, state]`)."""
    dumps = orjson.dumps
    rows = b",\n".join(
        b"[%d,%b,%b]" % (partition, dumps(key), partials[partition, key])
        for partition, key in sorted(partials)
    )
    return b'{"model":%b,"partials":[\n%b\n]}\n' % (dumps(model), rows)


def summary(rebuild: Folds) -> bytes:
    """The replay's positions and counts (deterministic: no times)."""
    data = {
        "events": rebuild.events,
        "positions": {str(p): offset for p, offset in rebuild.positions().items()},
        "skipped": dict(sorted(rebuild.skipped.items())),
        "models": [model.name for model in rebuild.models],
    }
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
