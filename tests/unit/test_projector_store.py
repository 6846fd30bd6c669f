"""Partition stores: what they keep, the changelog offset beside it, and what that costs."""

from __future__ import annotations

import os
import subprocess
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from services.projector.store import MemoryStore, RocksStore, StoreClosed, store_factory


def test_a_memory_store_keeps_exact_size_copies_not_orjson_buffers() -> None:
    """orjson's bytes keep their 4 KiB working buffer allocated; a store of a million partials
    that kept them as they are would hold gigabytes for megabytes of JSON."""
    store = MemoryStore()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(200):
            value = orjson.dumps([n, {"stage": "proposal", "owner": f"rep-{n}"}])
            store.write({f"pipeline|deal:{n}".encode(): value}, changelog_offset=n)
        del value
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert store.get(b"pipeline|deal:7") == orjson.dumps([7, {"stage": "proposal", "owner": "rep-7"}])
    assert held < 200 * 400  # about 150 bytes a partial (key, value, dict slot), not 4 KiB


@pytest.mark.parametrize("kind", ["memory", "rocksdb"])
def test_items_by_prefix_and_the_offset_never_going_back(kind: str, tmp_path: Path) -> None:
    store = MemoryStore() if kind == "memory" else RocksStore(tmp_path / "p0")
    store.write({b"kpis|lead|1": b"a", b"kpis|lead|2": b"b", b"org|rep:1": b"c"}, changelog_offset=10)
    store.write({b"kpis|lead|2": b"B"}, changelog_offset=4)  # an older offset cannot lower it
    assert store.changelog_offset == 10
    assert dict(store.items(b"kpis|")) == {b"kpis|lead|1": b"a", b"kpis|lead|2": b"B"}
    reader = store.reader()
    store.write({b"kpis|lead|3": b"d"}, changelog_offset=11)
    seen = dict(reader(b"kpis|"))
    assert b"kpis|lead|1" in seen and seen[b"kpis|lead|2"] == b"B"
    store.destroy()
    assert store.changelog_offset == -1 and not list(store.items())
    store.close()


def test_a_rocksdb_store_remembers_its_offset_across_reopening(tmp_path: Path) -> None:
    store = RocksStore(tmp_path / "p1")
    store.write({b"funnel|deal:9": b"x"}, changelog_offset=41)
    store.close()
    again = RocksStore(tmp_path / "p1")
    assert again.changelog_offset == 41 and again.get(b"funnel|deal:9") == b"x"
    assert list(again.items()) == [(b"funnel|deal:9", b"x")]  # the offset key is not a partial
    again.close()


def test_the_store_setting_picks_the_store(tmp_path: Path) -> None:
    assert isinstance(store_factory("memory://", tmp_path, "app")(0), MemoryStore)
    rocks = store_factory("rocksdb://", tmp_path, "app")(2)
    assert isinstance(rocks, RocksStore) and rocks.path == tmp_path / "app" / "projections" / "partition-2"
    rocks.close()
    with pytest.raises(ValueError, match="unknown store"):
        store_factory("redis://", tmp_path, "app")


def test_issue_15_reading_a_store_closed_by_a_revocation_says_so_instead_of_a_rocksdb_error(
    tmp_path: Path,
) -> None:
    """A query reading a partition while a rebalance closes its store got a 500 from
    `rocksdict.DbClosedError`; the store now says `StoreClosed`, which the projector's reader
    turns into one partition less in the answer's coverage."""
    store = RocksStore(tmp_path / "p0")
    store.write({b"k1": b"v1", b"k2": b"v2"}, 7)
    reading = store.reader()(b"k")
    assert next(reading) == (b"k1", b"v1")
    store.close()
    with pytest.raises(StoreClosed):
        list(store.reader()(b"k"))


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB file system of its own (tmpfs), filled and freed by the test: a real full disk."""
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"x" * 65536)
                out.flush()
        except OSError:
            pass
    return filler


def test_issue_15_a_store_that_hit_a_full_disk_writes_again_once_space_is_freed(small_disk: Path) -> None:
    """RocksDB refuses every write after one failed for want of space, even once space is freed,
    until it is reopened: the wedged projector of the fault campaign. The store reopens it."""
    store = RocksStore(small_disk / "p0")
    store.write({b"before": b"v"}, 1)
    filler = fill(small_disk)
    with pytest.raises(Exception, match="No space left"):
        store.write({b"during": os.urandom(256 * 1024)}, 2)
    filler.unlink()  # the operator frees space
    store.write({b"after": b"v"}, 3)
    assert (store.get(b"before"), store.get(b"after"), store.changelog_offset) == (b"v", b"v", 3)
    store.close()
    reopened = RocksStore(small_disk / "p0")
    assert reopened.get(b"after") == b"v" and reopened.changelog_offset == 3
    reopened.close()
