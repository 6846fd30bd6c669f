"""API keys: stored hashed, with a role, bound to their sources or subject, revocable, expiring."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.auth.keys import ApiKeys
from services.auth.roles import Role
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


# --- roles (issue 12) ----------------------------------------------------------------------------


def test_each_role_key_verifies_as_its_principal(tmp_path: Path) -> None:
    keys = ApiKeys(tmp_path / "db.sqlite3")
    rep = keys.principal_of(keys.create(role=Role.REP, subject="rep-a"))
    manager = keys.principal_of(keys.create(role=Role.MANAGER, subject="mgr-1"))
    auditor = keys.principal_of(keys.create(role=Role.AUDITOR))
    admin = keys.principal_of(keys.create(["/crm/plans", "/crm/payouts"], role=Role.ADMIN))
    assert rep is not None and (rep.role, rep.subject, rep.sources) == (Role.REP, "rep-a", frozenset())
    assert manager is not None and (manager.role, manager.subject) == (Role.MANAGER, "mgr-1")
    assert auditor is not None and auditor.role is Role.AUDITOR and not auditor.sources
    assert admin is not None and admin.sources == {"/crm/plans", "/crm/payouts"}
    assert admin.may_publish_as("/crm/plans") and not auditor.may_publish_as("/crm/plans")


@pytest.mark.parametrize(
    ("sources", "role", "subject"),
    [
        ((), Role.PUBLISHER, None),  # a publisher without a source
        (("/crm",), Role.REP, "rep-a"),  # a rep that would publish
        ((), Role.REP, None),  # a rep key for nobody
        ((), Role.MANAGER, None),
        ((), Role.AUDITOR, "rep-a"),  # an auditor narrowed to someone
        (("/has space",), Role.PUBLISHER, None),
    ],
)
def test_a_key_that_could_not_be_used_as_its_role_says_is_refused(
    tmp_path: Path, sources: tuple[str, ...], role: Role, subject: str | None
) -> None:
    keys = ApiKeys(tmp_path / "db.sqlite3")
    with pytest.raises(ValueError):
        keys.create(sources, role=role, subject=subject)
    assert keys.list() == []


def test_an_expired_key_verifies_as_nothing_even_when_cached(tmp_path: Path) -> None:
    keys = ApiKeys(tmp_path / "db.sqlite3", cache_seconds=3600)
    soon = datetime.now(UTC) + timedelta(seconds=1)
    key = keys.create(role=Role.AUDITOR, expires_at=soon)
    assert keys.principal_of(key) is not None  # now cached for an hour
    past = keys.create(role=Role.AUDITOR, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert keys.principal_of(past) is None
    time.sleep(1.1)
    assert keys.principal_of(key) is None
    assert [k.state().split()[0] for k in keys.list()] == ["expired", "expired"]


def test_rows_written_before_roles_are_publisher_keys_of_their_source(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE api_keys (key_id TEXT PRIMARY KEY, source TEXT NOT NULL, secret_sha256 TEXT NOT NULL,"
        " created_at TEXT NOT NULL, revoked_at TEXT);"
        "INSERT INTO api_keys VALUES ('abc', '/legacy', "
        f"'{hashlib.sha256(b'secret').hexdigest()}', '2026-01-01T00:00:00+00:00', NULL);"
    )
    old.close()
    keys = ApiKeys(path)
    principal = keys.principal_of("sl_abc_secret")
    assert principal is not None and principal.role is Role.PUBLISHER
    assert principal.sources == {"/legacy"} and keys.source_of("sl_abc_secret") == "/legacy"
    assert [(k.role, k.expires_at) for k in keys.list()] == [("publisher", None)]


def test_a_key_of_a_role_this_version_does_not_know_grants_nothing(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    keys = ApiKeys(path)
    key = keys.create(role=Role.AUDITOR)
    sqlite3.connect(path, isolation_level=None).execute("UPDATE api_keys SET role = 'superuser'")
    assert ApiKeys(path).principal_of(key) is None


def test_rotating_a_role_key_replaces_only_that_role_and_subjects_key(tmp_path: Path) -> None:
    keys = ApiKeys(tmp_path / "db.sqlite3", cache_seconds=0)
    first = keys.rotate_role("demo", Role.REP, "rep-a")
    other = keys.rotate_role("demo", Role.REP, "rep-b")
    second = keys.rotate_role("demo", Role.REP, "rep-a")
    publisher = keys.rotate("demo", ["/crm"])["/crm"]
    assert keys.principal_of(first) is None
    assert keys.principal_of(second) is not None and keys.principal_of(other) is not None
    assert keys.principal_of(publisher) is not None
    assert sorted((k.role, k.subject or k.source) for k in keys.list()) == [
        ("publisher", "/crm"),
        ("rep", "rep-a"),
        ("rep", "rep-b"),
    ]
