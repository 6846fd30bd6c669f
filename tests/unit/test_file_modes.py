"""Issue 12, "Files": what a worker writes on disk is its user's alone (files 0600, folders 0700).

Each file is made by the real code, under a umask of 0 (the most permissive a user could have), so
the modes come from the code and not from the environment.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from events import parse_event
from sales.process import load_process
from services.auth.keys import ApiKeys
from services.db import parse_database_url
from services.outbox.lease import lease_for
from services.projector.store import store_factory
from services.settings import Settings
from services.writemodel.application import WriteModel
from services.writemodel.environment import write_model_env
from tests.samples import call_logged


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_relay_lock_and_data_dir_are_not_world_readable(tmp_path: Path) -> None:
    data = tmp_path / ".data"
    settings = Settings(database_url=f"sqlite:///{data / 'salesledger.sqlite3'}", data_dir=data)
    database = settings.database_path

    model = WriteModel(load_process(None), write_model_env(settings))
    model.record([parse_event(json.dumps(call_logged("mode-1")))])
    assert mode(data) == 0o700
    assert mode(database) == 0o600
    side_files = [Path(f"{database}{suffix}") for suffix in ("-wal", "-shm", "-journal")]
    assert all(mode(side) == 0o600 for side in side_files if side.exists())

    ApiKeys(settings.database_path).create("/dialer/test")
    assert mode(database) == 0o600

    lease = lease_for(parse_database_url(settings.database_url), "relay")
    assert lease.try_acquire()
    try:
        assert mode(Path(f"{database}.relay.lock")) == 0o600
    finally:
        lease.close()


def test_an_api_key_database_made_first_is_private_too(tmp_path: Path) -> None:
    database = tmp_path / "new" / "keys.sqlite3"
    ApiKeys(database).create("/crm/test")
    assert mode(database.parent) == 0o700 and mode(database) == 0o600


def test_files_left_world_readable_by_an_older_version_are_made_private(tmp_path: Path) -> None:
    database = tmp_path / "old.sqlite3"
    lock = Path(f"{database}.relay.lock")
    for path in (database, lock):
        path.touch(mode=0o644)
        path.chmod(0o644)
    ApiKeys(database).create("/crm/test")
    lease = lease_for(parse_database_url(f"sqlite:///{database}"), "relay")
    assert lease.try_acquire()
    lease.close()
    assert mode(database) == 0o600 and mode(lock) == 0o600


def test_the_worker_data_dir_and_its_rocksdb_stores_are_private(tmp_path: Path) -> None:
    from services.bootstrap import faust_app

    data = tmp_path / "state" / ".data"
    settings = Settings(data_dir=data, app_id="modes")
    faust_app(settings)
    assert mode(data) == 0o700 and mode(data.parent) == 0o700

    store = store_factory("rocksdb://", data, "modes")(3)
    try:
        for folder in (
            data / "modes",
            data / "modes" / "projections",
            data / "modes" / "projections" / "partition-3",
        ):
            assert mode(folder) == 0o700, folder
    finally:
        store.close()


def test_an_existing_data_dir_is_tightened(tmp_path: Path) -> None:
    from services.bootstrap import faust_app

    data = tmp_path / ".data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    faust_app(Settings(data_dir=data, app_id="modes-old"))
    assert mode(data) == 0o700


def test_an_existing_database_is_made_private_without_being_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closing any descriptor of a SQLite file drops the process's POSIX locks on it, SQLite's own
    included (another process may then discard a write-ahead log in use): never open it to chmod."""
    from services.db import SqliteConfig, prepare_database

    database = tmp_path / "live.sqlite3"
    prepare_database(SqliteConfig(database))
    database.chmod(0o644)
    real_open = os.open

    def guarded(path: object, *args: object, **kwargs: object) -> int:
        assert Path(str(path)) != database, "the database file was opened outside SQLite"
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", guarded)
    prepare_database(SqliteConfig(database))
    ApiKeys(database).create("/crm/test")
    assert mode(database) == 0o600
