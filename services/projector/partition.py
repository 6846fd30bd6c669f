"""The read models of one source partition, folded a batch at a time (no Kafka in here).

The projector folds a batch of events into the partials they touch, keeping decoded states in
memory, and then writes each touched partial **once** (`pending`), however many events of the
batch changed it: that is where a batch consumer wins over a per-message stream. The batch also
records the source position (the next offset to read) under a reserved key, in the same
changelog write as the partials, so the state and the position it reflects can never disagree.

Exactly once in effect: each partial carries the offset of the last event folded into it
(`projections.positions`), so an event delivered again after a crash changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from events import Rejection
from events.envelope import Envelope
from events.parse import parse_logged_event
from projections.positions import Positioned
from services.projector.readmodels import ReadModel
from services.projector.store import PartitionStore

POSITION = b"\x00position"
"""Reserved store and changelog key: the next source offset to fold (never a partial's key)."""


class Logged(Protocol):
    """What is read of one log record: its offset and value (aiokafka's `ConsumerRecord` fits)."""

    @property
    def offset(self) -> int: ...

    @property
    def value(self) -> bytes | None: ...


def storage_key(model: str, key: str) -> bytes:
    return f"{model}|{key}".encode()


def split_storage_key(stored: bytes) -> tuple[str, str]:
    model, _, key = stored.decode().partition("|")
    return model, key


@dataclass
class PartitionProjection:
    """Every read model's partials fed by one source partition, with a cache of decoded states."""

    partition: int
    models: Sequence[ReadModel]
    store: PartitionStore
    cache_size: int = 10_000
    position: int = 0
    """The next source offset to fold: every event before it has been folded in."""
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(read model, applied | duplicate | ignored) since the last `take_outcomes`."""
    _dirty: dict[tuple[int, str], Positioned[Any]] = field(default_factory=dict)
    _cache: dict[tuple[int, str], Positioned[Any]] = field(default_factory=dict)
    _pending: dict[bytes, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._plan = tuple(
            (
                index,
                model.changes,
                (model.name, "ignored"),
                (model.name, "duplicate"),
                (model.name, "applied"),
            )
            for index, model in enumerate(self.models)
        )
        stored = self.store.get(POSITION)
        self.position = int(stored) if stored is not None else 0

    def fold(self, offset: int, event: Envelope) -> None:
        """Fold the event at ``offset`` into every read model, all or nothing.

        Raises whatever a fold raises, with no partial changed: the caller dead-letters the
        event and moves on, exactly as a replay would.
        """
        updates: list[tuple[tuple[int, str], Positioned[Any]]] = []
        outcomes: list[tuple[str, str]] = []
        dirty, cache = self._dirty, self._cache
        for index, changes_of, ignored, duplicate, applied in self._plan:
            changes = changes_of(event)
            if not changes:
                outcomes.append(ignored)
                continue
            for key, update in changes:
                slot = (index, key)
                current = dirty.get(slot) or cache.get(slot) or self._load(slot)
                if offset <= current.offset:
                    outcomes.append(duplicate)
                    continue
                updates.append((slot, Positioned(update(current.state), offset)))
                outcomes.append(applied)
        dirty.update(updates)
        self.outcomes.update(outcomes)
        self.position = offset + 1

    def fold_logged(self, records: Iterable[Logged]) -> tuple[int, Counter[str]]:
        """Fold records read back from the log (offsets ascending; those before `position` are
        passed over), skipping what cannot be parsed or folded as the live projector does; the
        skipped by reason. For folds whose unfoldable records the live projector has already
        dead-lettered: a replay, and a namespace catching up before it goes live. Returns the
        records taken (folded or skipped) and the skipped by reason."""
        skipped: Counter[str] = Counter()
        fold, taken = self.fold, 0
        for record in records:
            if record.offset < self.position:
                continue
            taken += 1
            try:
                fold(record.offset, parse_logged_event(record.value or b""))
            except Rejection as rejection:
                self.skip(record.offset)
                skipped[rejection.reason.value] += 1
            except Exception:
                self.skip(record.offset)
                skipped["internal_error"] += 1
        return taken, skipped

    def skip(self, offset: int) -> None:
        """Move past an event that cannot be folded (it went to the dead-letter topic)."""
        self.position = offset + 1

    def _load(self, slot: tuple[int, str]) -> Positioned[Any]:
        model = self.models[slot[0]]
        stored = self.store.get(storage_key(model.name, slot[1]))
        return model.decode(slot[1], stored)

    def pending(self) -> Mapping[bytes, bytes]:
        """The changelog records of the batch so far: each touched partial once, and the position.

        Encoding moves the decoded states into the cache, so the next batch starts from them.
        """
        for (index, key), partial in self._dirty.items():
            model = self.models[index]
            self._pending[storage_key(model.name, key)] = model.encode(partial)
            self._remember((index, key), partial)
        self._dirty.clear()
        self._pending[POSITION] = str(self.position).encode()
        return self._pending

    def written(self, changelog_offset: int) -> None:
        """The pending records are on the changelog up to ``changelog_offset``: store them."""
        self.store.write(self._pending, changelog_offset)
        self._pending = {}

    def _remember(self, slot: tuple[int, str], partial: Positioned[Any]) -> None:
        cache = self._cache
        if cache.pop(slot, None) is None and len(cache) >= self.cache_size:
            del cache[next(iter(cache))]  # the least recently written: hot partials stay decoded
        cache[slot] = partial

    def partials(self, model: str) -> Iterator[tuple[str, bytes]]:
        """(key, stored partial) of one read model, including a batch not yet on the changelog."""
        return self.snapshot(model)()

    def snapshot(self, model: str) -> Callable[[], Iterator[tuple[str, bytes]]]:
        """`partials` as of now, to be read later or in another thread while folding goes on.

        Only dict copies happen here (C speed, on the caller's thread); the filtering, encoding
        and store reads happen when the returned function runs.
        """
        index = next(i for i, m in enumerate(self.models) if m.name == model)
        prefix = storage_key(model, "")
        dirty, pending, read = self._dirty.copy(), self._pending.copy(), self.store.reader()
        encode = self.models[index].encode

        def partials() -> Iterator[tuple[str, bytes]]:
            unwritten = {key: partial for (i, key), partial in dirty.items() if i == index}
            seen: set[str] = set(unwritten)
            for stored_key, value in pending.items():
                if stored_key.startswith(prefix):
                    key = stored_key[len(prefix) :].decode()
                    if key not in seen:
                        seen.add(key)
                        yield key, value
            for stored_key, value in read(prefix):
                key = stored_key[len(prefix) :].decode()
                if key not in seen:
                    yield key, value
            for key, partial in unwritten.items():
                yield key, encode(partial)

        return partials

    def take_outcomes(self) -> Counter[tuple[str, str]]:
        taken, self.outcomes = self.outcomes, Counter()
        return taken
