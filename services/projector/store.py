"""Where a worker keeps the read-model partials of one source partition: in memory or in RocksDB.

A store is a plain map of bytes to bytes plus one number: the offset, in the projection changelog,
of the last record the store reflects. Every write carries that offset and lands atomically with
it (a RocksDB write batch), so after a crash the store is never ahead of the changelog and
recovery only has to replay the changelog from that offset on (`Projector` restoring a partition).

Values are stored encoded (compact JSON: `services.projector.readmodels`, `kpi_codec`), never as
Python objects: a decoded partial costs 3 to 5 times its JSON size in memory. With RocksDB the
partials live on disk and a worker's memory is bounded by RocksDB's block cache and the
decoded-partials cache, whatever the number of open deals.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Protocol

from rocksdict import DbClosedError, Options, Rdict, WriteBatch

from services.db import private_dir

log = logging.getLogger(__name__)

CHANGELOG_OFFSET = b"\x00changelog-offset"
"""Reserved key (never a partial: partial keys start with a read-model name) of the store's offset."""


class StoreClosed(Exception):
    """The partition's store was closed while being read: the partition was revoked from this
    worker meanwhile (a rebalance), so its partials are no longer this worker's to answer."""


class PartitionStore(Protocol):
    """The partials fed by one source partition."""

    @property
    def changelog_offset(self) -> int:
        """Offset of the last changelog record reflected here (-1: none)."""
        ...

    def get(self, key: bytes) -> bytes | None: ...

    def items(self, prefix: bytes = b"") -> Iterator[tuple[bytes, bytes]]:
        """Every (key, value) whose key starts with ``prefix``."""
        ...

    def reader(self) -> Callable[[bytes], Iterator[tuple[bytes, bytes]]]:
        """``items`` as of now, safe to run in another thread while the store is written."""
        ...

    def write(self, items: Mapping[bytes, bytes], changelog_offset: int) -> None:
        """Store ``items`` and the changelog offset they bring the store to, atomically."""
        ...

    def close(self) -> None: ...

    def destroy(self) -> None:
        """Forget everything (the changelog no longer matches, say)."""
        ...


class MemoryStore:
    """A dict: lost with the process, rebuilt from the changelog on the next assignment."""

    def __init__(self) -> None:
        self._data: dict[bytes, bytes] = {}
        self._offset = -1

    @property
    def changelog_offset(self) -> int:
        return self._offset

    def get(self, key: bytes) -> bytes | None:
        return self._data.get(key)

    def items(self, prefix: bytes = b"") -> Iterator[tuple[bytes, bytes]]:
        return self.reader()(prefix)

    def reader(self) -> Callable[[bytes], Iterator[tuple[bytes, bytes]]]:
        frozen = self._data.copy()  # a C-level copy of references: cheap, then filtered elsewhere

        def items(prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
            return ((key, value) for key, value in frozen.items() if key.startswith(prefix))

        return items

    def write(self, items: Mapping[bytes, bytes], changelog_offset: int) -> None:
        # Copies of exactly their length: orjson returns bytes objects with their 4 KiB working
        # buffer still allocated, so keeping them as they are costs ~4 KiB per partial.
        self._data.update((key, bytes(memoryview(value))) for key, value in items.items())
        self._offset = max(self._offset, changelog_offset)

    def close(self) -> None:
        self._data = {}

    def destroy(self) -> None:
        self._data, self._offset = {}, -1


class RocksStore:
    """One RocksDB database per source partition under the worker's data directory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        private_dir(path)  # 0700, as are the missing folders above it under the data directory
        self._db = Rdict(str(path), options=_options())
        stored = self._db.get(CHANGELOG_OFFSET)
        self._offset = int(stored) if stored is not None else -1

    @property
    def changelog_offset(self) -> int:
        return self._offset

    def get(self, key: bytes) -> bytes | None:
        value = self._db.get(key)
        return None if value is None else bytes(value)

    def items(self, prefix: bytes = b"") -> Iterator[tuple[bytes, bytes]]:
        try:
            for key, value in self._db.items(from_key=prefix):
                assert isinstance(key, bytes) and isinstance(value, bytes)  # raw mode
                if not key.startswith(prefix):
                    return
                if key != CHANGELOG_OFFSET:
                    yield key, value
        except DbClosedError as closed:
            raise StoreClosed(str(self.path)) from closed

    def reader(self) -> Callable[[bytes], Iterator[tuple[bytes, bytes]]]:
        return self.items  # a RocksDB iterator reads a consistent view, from any thread

    def write(self, items: Mapping[bytes, bytes], changelog_offset: int) -> None:
        """One atomic batch. A failed write (a full disk) leaves RocksDB refusing every later write
        even once space is freed, until the database is reopened: so a failure reopens it and tries
        once more; if that fails too the error goes up, and the projector retries the whole batch
        later (its records are on the changelog already: nothing is lost)."""
        offset = max(self._offset, changelog_offset)

        def batch() -> WriteBatch:  # a batch is consumed by a write, failed or not
            made = WriteBatch(raw_mode=True)
            for key, value in items.items():
                made.put(key, value)
            made.put(CHANGELOG_OFFSET, str(offset).encode())
            return made

        try:
            self._db.write(batch())
        except Exception as error:
            log.warning("RocksDB write to %s failed (%s): reopening it", self.path, error)
            self._reopen()
            self._db.write(batch())
        self._offset = offset

    def _reopen(self) -> None:
        try:
            self._db.close()
        except Exception as error:  # closing a database in a failed state may fail too
            log.warning("closing %s failed (%s)", self.path, error)
        self._db = Rdict(str(self.path), options=_options())

    def close(self) -> None:
        self._db.close()

    def destroy(self) -> None:
        self._db.close()
        shutil.rmtree(self.path, ignore_errors=True)
        private_dir(self.path)
        self._db = Rdict(str(self.path), options=_options())
        self._offset = -1


def _options() -> Options:
    options = Options(raw_mode=True)
    options.create_if_missing(True)
    return options


class StoreFactory(Protocol):
    def __call__(self, partition: int) -> PartitionStore: ...


def store_factory(url: str, data_dir: Path, app_id: str, namespace: str = "") -> StoreFactory:
    """``memory://`` or ``rocksdb://`` (the `SALESLEDGER_STORE` setting), one store per partition,
    in a directory of the read models' namespace (`services.projector.namespaces`)."""
    if url.startswith("memory:"):
        return lambda partition: MemoryStore()
    if url.startswith("rocksdb:"):
        root = data_dir / app_id / ("projections" if not namespace else f"projections-{namespace}")
        return lambda partition: RocksStore(root / f"partition-{partition}")
    raise ValueError(f"unknown store {url!r}: use rocksdb:// or memory://")
