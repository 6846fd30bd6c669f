"""Publisher API keys: stored hashed, bound to one source, revocable."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from services.auth.keys import ApiKeys
from services.db import SqliteConfig


def test_a_key_authenticates_as_its_source_until_revoked(tmp_path: Path) -> None:
    keys = ApiKeys(tmp_path / "db.sqlite3")
    key = keys.create("/dialer/eu-1")
    assert keys.source_of(key) == "/dialer/eu-1"
    key_id = key.split("_")[1]
    assert keys.revoke(key_id)
    assert keys.source_of(key) is None
    assert not keys.revoke(key_id)


def test_only_a_hash_of_the_secret_is_stored(tmp_path: Path) -> None:
    keys = ApiKeys(tmp_path / "db.sqlite3")
    key = keys.create("/crm")
    secret = key.split("_", 2)[2]
    stored = sqlite3.connect(tmp_path / "db.sqlite3").execute("SELECT * FROM api_keys").fetchall()
    assert secret not in repr(stored)


def test_wrong_malformed_and_unknown_keys_are_refused(tmp_path: Path) -> None:
    keys = ApiKeys(tmp_path / "db.sqlite3")
    key = keys.create("/crm")
    assert keys.source_of(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert keys.source_of("sl_nope_nope") is None
    assert keys.source_of("garbage") is None
    assert keys.source_of("") is None


def test_keys_are_listed_with_their_state(tmp_path: Path) -> None:
    keys = ApiKeys(tmp_path / "db.sqlite3")
    keys.create("/a")
    keys.revoke(keys.create("/b").split("_")[1])
    assert [(k.source, k.revoked_at is None) for k in keys.list()] == [("/a", True), ("/b", False)]


def test_a_sqlite_url_a_config_and_a_path_open_the_same_keys(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "db.sqlite3"
    key = ApiKeys.from_url(f"sqlite:///{path}").create("/crm")
    assert ApiKeys(SqliteConfig(path)).source_of(key) == "/crm"
    assert ApiKeys(path).source_of(key) == "/crm"


def test_an_unsupported_database_url_is_refused_before_anything_is_opened(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unsupported database URL"):
        ApiKeys.from_url(f"mysql://u:p@h/{tmp_path}")


def test_a_revocation_by_another_process_is_seen_once_the_cache_expires(tmp_path: Path) -> None:
    worker, cli = ApiKeys(tmp_path / "db.sqlite3", cache_seconds=0), ApiKeys(tmp_path / "db.sqlite3")
    key = cli.create("/crm")
    assert worker.source_of(key) == "/crm"
    cli.revoke(key.split("_")[1])
    assert worker.source_of(key) is None
