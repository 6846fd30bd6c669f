"""Database URLs: the accepted forms, their errors, and the eventsourcing environment they give."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from services.db import (
    PostgresConfig,
    SqliteConfig,
    advisory_key,
    eventsourcing_env,
    parse_database_url,
    prepare_database,
)
from services.outbox.lease import PostgresLease, RelayLease, lease_for
from services.settings import Settings


def test_sqlite_urls_name_relative_and_absolute_files() -> None:
    assert parse_database_url("sqlite:///.data/x.sqlite3") == SqliteConfig(Path(".data/x.sqlite3"))
    assert parse_database_url("sqlite:////var/lib/x.sqlite3") == SqliteConfig(Path("/var/lib/x.sqlite3"))


def test_the_sqlite_path_agrees_with_settings_database_path() -> None:
    for url in ("sqlite:///.data/salesledger.sqlite3", "sqlite:////tmp/a b/x.sqlite3"):
        config = parse_database_url(url)
        assert isinstance(config, SqliteConfig)
        assert config.path == Settings(database_url=url).database_path
        assert config.url() == url


def test_a_postgresql_url_gives_every_part() -> None:
    config = parse_database_url("postgresql://sales:s3cret@db.example:6543/ledger")
    assert config == PostgresConfig(
        host="db.example", port=6543, dbname="ledger", user="sales", password="s3cret"
    )
    assert config.kind == "postgresql"


def test_postgres_defaults_alias_and_percent_encoding() -> None:
    config = parse_database_url("postgres://us%40er:p%40ss%3Aw%2Frd%20x@localhost/my%2Ddb")
    assert isinstance(config, PostgresConfig)
    assert (config.user, config.password, config.port, config.dbname) == (
        "us@er",
        "p@ss:w/rd x",
        5432,
        "my-db",
    )


def test_query_parameters_schema_and_connect_timeout() -> None:
    config = parse_database_url("postgresql://u:p@h/d?schema=tenant_1&connect_timeout=3")
    assert isinstance(config, PostgresConfig)
    assert (config.schema, config.connect_timeout) == ("tenant_1", 3)
    kwargs = config.connect_kwargs()
    assert kwargs["options"] == "-c search_path=tenant_1"
    assert kwargs["connect_timeout"] == 3


def test_the_password_never_shows_in_repr_or_the_redacted_url() -> None:
    config = parse_database_url("postgresql://u:hunter2@h:5432/d?schema=s")
    assert isinstance(config, PostgresConfig)
    assert "hunter2" not in repr(config)
    assert config.url() == "postgresql://u:***@h:5432/d?schema=s"
    assert parse_database_url(config.url(redact=False)) == config


def test_a_password_with_special_characters_round_trips() -> None:
    config = PostgresConfig(host="h", port=1, dbname="d b", user="u:x", password="p@ss/:%?&= ")
    assert parse_database_url(config.url(redact=False)) == config


@pytest.mark.parametrize(
    "url",
    [
        "",
        "sqlite:///",
        "sqlite://relative.db",
        "mysql://u:p@h/d",
        "postgresql://h/d",  # no user
        "postgresql://u:p@/d",  # no host
        "postgresql://u:p@h",  # no database
        "postgresql://u:p@h/",
        "postgresql://u:p@h/a/b",
        "postgresql://u:p@h:99999/d",
        "postgresql://u:p@h:port/d",
        "postgresql://u:p@h/d?sslmode=require",
        "postgresql://u:p@h/d?schema=Bad-Name",
        "postgresql://u:p@h/d?connect_timeout=0",
        "postgresql://u:p@h/d?connect_timeout=soon",
    ],
)
def test_malformed_or_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        parse_database_url(url)


def test_errors_never_show_the_password() -> None:
    with pytest.raises(ValueError) as error:
        parse_database_url("postgresql://u:hunter2@h/d?sslmode=require")
    assert "hunter2" not in str(error.value)


def test_eventsourcing_env_for_sqlite() -> None:
    env = eventsourcing_env(SqliteConfig(Path("/x/y.sqlite3")))
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"
    assert env["SQLITE_DBNAME"] == "/x/y.sqlite3"
    assert env["CREATE_TABLE"] == "true"
    assert not any(key.startswith("POSTGRES_") for key in env)


def test_eventsourcing_env_for_postgres_and_extra_overrides() -> None:
    config = parse_database_url("postgresql://u:p%40@h:7/d?schema=s&connect_timeout=4")
    env = eventsourcing_env(config, {"POSTGRES_POOL_SIZE": "2", "IS_SNAPSHOTTING_ENABLED": "y"})
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert {k: env[k] for k in ("POSTGRES_DBNAME", "POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER")} == {
        "POSTGRES_DBNAME": "d",
        "POSTGRES_HOST": "h",
        "POSTGRES_PORT": "7",
        "POSTGRES_USER": "u",
    }
    assert env["POSTGRES_PASSWORD"] == "p@"
    assert env["POSTGRES_SCHEMA"] == "s"
    assert env["POSTGRES_CONNECT_TIMEOUT"] == "4"
    assert env["POSTGRES_POOL_SIZE"] == "2"
    assert env["IS_SNAPSHOTTING_ENABLED"] == "y"
    assert int(env["POSTGRES_LOCK_TIMEOUT"]) > 0  # eventsourcing's 0 would wait forever
    assert not any(key.startswith("SQLITE_") for key in env)


def test_eventsourcing_accepts_the_postgres_env_without_connecting() -> None:
    """Every value parses: eventsourcing checks them all when building its factory (it connects lazily)."""
    from eventsourcing.postgres import PostgresFactory

    env = eventsourcing_env(parse_database_url("postgresql://u:p@127.0.0.1:1/d?schema=s"))
    factory = PostgresFactory(env)
    try:
        assert factory.datastore.schema == "s"
        assert factory.datastore.lock_timeout == 5
        assert factory.datastore.pre_ping
    finally:
        factory.close()


class Counter(Aggregate):
    def __init__(self) -> None:
        self.count = 0

    @event("Incremented")
    def increment(self) -> None:
        self.count += 1


def test_an_application_on_a_sqlite_url_creates_its_folder_and_tables(tmp_path: Path) -> None:
    config = parse_database_url(f"sqlite:///{tmp_path}/new/folder/es.sqlite3")
    prepare_database(config)
    app = Application[UUID](env=eventsourcing_env(config))
    counter = Counter()
    counter.increment()
    app.save(counter)
    app.close()
    again = Application[UUID](env=eventsourcing_env(config))
    assert again.repository.get(counter.id).count == 1
    again.close()


def test_advisory_keys_are_stable_signed_64_bit_and_distinct() -> None:
    key = advisory_key("lease:public:relay")
    assert key == advisory_key("lease:public:relay")
    assert -(2**63) <= key < 2**63
    assert key != advisory_key("lease:other:relay")


def test_lease_for_picks_the_file_lock_on_sqlite_and_keeps_its_old_path(tmp_path: Path) -> None:
    lease = lease_for(SqliteConfig(tmp_path / "db.sqlite3"), "relay")
    assert isinstance(lease, RelayLease)
    assert lease.path == Path(f"{tmp_path / 'db.sqlite3'}.relay.lock")
    other = lease_for(SqliteConfig(tmp_path / "db.sqlite3"), "relay")
    assert lease.try_acquire() and lease.held()
    assert not other.try_acquire()
    lease.close()
    assert not lease.held()
    assert other.try_acquire()
    other.close()


def test_lease_for_picks_an_advisory_lock_on_postgres_scoped_by_schema() -> None:
    a = lease_for(parse_database_url("postgresql://u:p@h/d?schema=a"), "relay")
    b = lease_for(parse_database_url("postgresql://u:p@h/d?schema=b"), "relay")
    assert isinstance(a, PostgresLease) and isinstance(b, PostgresLease)
    assert a.key != b.key
    assert not a.held()


def test_a_postgres_lease_on_an_unreachable_server_is_simply_not_acquired() -> None:
    lease = PostgresLease(
        PostgresConfig(host="127.0.0.1", port=1, dbname="d", user="u", connect_timeout=2), "relay"
    )
    assert not lease.try_acquire()
    assert not lease.held()
    lease.close()
