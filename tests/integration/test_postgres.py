"""PostgreSQL persistence against a real server: API keys, the relay lease, the eventsourcing store.

Each test works in a schema of its own (dropped afterwards), so the tests neither see each other's
rows nor those of earlier runs when ``SALESLEDGER_TEST_POSTGRES_URL`` names a long-lived server.
The eventsourcing smoke test runs on SQLite too: one write model, two stores, the same behaviour.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import psycopg
import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from psycopg import sql

from services.auth.keys import ApiKeys
from services.db import (
    DatabaseConfig,
    PostgresConfig,
    eventsourcing_env,
    parse_database_url,
    prepare_database,
)
from services.outbox.lease import PostgresLease, lease_for
from tests.postgres import with_schema
from tests.support import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
def pg(postgres_url: str) -> Iterator[PostgresConfig]:
    """A fresh schema on the test server, dropped (with everything in it) after the test."""
    config = parse_database_url(with_schema(postgres_url, f"t_{uuid.uuid4().hex[:12]}"))
    assert isinstance(config, PostgresConfig)
    prepare_database(config)
    try:
        yield config
    finally:
        with config.connect() as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(config.schema or "")))


# --- API keys ----------------------------------------------------------------------------------


def test_api_keys_on_postgres_create_verify_list_revoke(pg: PostgresConfig) -> None:
    keys = ApiKeys.from_url(pg.url(redact=False), cache_seconds=0)
    try:
        key = keys.create("/dialer/pg")
        other = keys.create("/crm/pg")
        assert keys.source_of(key) == "/dialer/pg"
        assert keys.source_of(other) == "/crm/pg"
        assert keys.source_of(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
        assert keys.source_of("sl_nope_nope") is None
        key_id = key.split("_")[1]
        assert keys.revoke(key_id)
        assert not keys.revoke(key_id)
        assert keys.source_of(key) is None
        assert keys.source_of(other) == "/crm/pg"
        assert [(k.source, k.revoked_at is None) for k in keys.list()] == [
            ("/dialer/pg", False),
            ("/crm/pg", True),
        ]
    finally:
        keys.close()


def test_api_keys_are_shared_by_every_process_on_the_same_database(pg: PostgresConfig) -> None:
    """What PostgreSQL is for: a key created by one worker (or the CLI) is valid on every other."""
    cli, worker = ApiKeys(pg), ApiKeys(pg, cache_seconds=0)
    try:
        key = cli.create("/dialer/shared")
        assert worker.source_of(key) == "/dialer/shared"
        cli.revoke(key.split("_")[1])
        assert worker.source_of(key) is None
    finally:
        cli.close()
        worker.close()


def test_only_a_hash_of_the_secret_is_stored_on_postgres(pg: PostgresConfig) -> None:
    keys = ApiKeys(pg)
    try:
        secret = keys.create("/crm").split("_", 2)[2]
    finally:
        keys.close()
    with pg.connect() as conn:
        stored = conn.execute("SELECT * FROM api_keys").fetchall()
    assert len(stored) == 1 and secret not in repr(stored)


def test_api_keys_survive_their_connections_being_killed(pg: PostgresConfig) -> None:
    """The pool replaces connections the server dropped (restart, failover, idle kill)."""
    keys = ApiKeys(pg, cache_seconds=0)
    try:
        key = keys.create("/dialer/pg")
        with pg.connect() as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'salesledger-api-keys' AND datname = %s",
                (pg.dbname,),
            )
        assert eventually(lambda: _source_or_none(keys, key), timeout=20) == "/dialer/pg"
    finally:
        keys.close()


def _source_or_none(keys: ApiKeys, key: str) -> str | None:
    try:
        return keys.source_of(key)
    except psycopg.OperationalError:
        return None  # the one checkout that found the dead connection; the pool replaces it


# --- Relay lease -------------------------------------------------------------------------------


def test_only_one_of_two_leases_on_the_same_name_leads(pg: PostgresConfig) -> None:
    first, second = lease_for(pg, "relay"), lease_for(pg, "relay")
    try:
        assert first.try_acquire()
        assert first.try_acquire()  # again while holding: still ours, not a second lock
        assert not second.try_acquire()
        assert first.held() and not second.held()
        first.release()
        assert not first.held()
        assert second.try_acquire()
        assert not first.try_acquire()
    finally:
        first.close()
        second.close()


def test_leases_on_different_names_or_schemas_are_independent(pg: PostgresConfig, postgres_url: str) -> None:
    other_schema = parse_database_url(with_schema(postgres_url, f"t_{uuid.uuid4().hex[:12]}"))
    leases = [lease_for(pg, "relay"), lease_for(pg, "projector"), lease_for(other_schema, "relay")]
    try:
        assert all(lease.try_acquire() for lease in leases)
    finally:
        for lease in leases:
            lease.close()


def test_closing_the_holder_frees_the_lease(pg: PostgresConfig) -> None:
    first, second = lease_for(pg, "relay"), lease_for(pg, "relay")
    try:
        assert first.try_acquire()
        first.close()  # without release(): the session's end drops the lock
        assert second.try_acquire()
    finally:
        second.close()


def test_a_lost_connection_frees_the_lease_and_the_old_holder_notices(pg: PostgresConfig) -> None:
    first, second = PostgresLease(pg, "relay"), PostgresLease(pg, "relay")
    try:
        assert first.try_acquire()
        pid = first.backend_pid
        with pg.connect() as admin:
            held = admin.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = %s", (pid,)
            ).fetchone()
            assert held == (1,)
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        assert eventually(second.try_acquire, timeout=20)
        assert not first.held()  # the old leader learns it lost the lease before doing more work
        assert not first.try_acquire()
    finally:
        first.close()
        second.close()


def test_a_lease_waits_out_a_database_outage(pg: PostgresConfig) -> None:
    down = PostgresConfig(host=pg.host, port=1, dbname=pg.dbname, user=pg.user, connect_timeout=1)
    lease = PostgresLease(down, "relay")
    assert not lease.try_acquire()  # no exception: the relay just keeps waiting
    lease.close()


# --- eventsourcing write model -----------------------------------------------------------------


class Deal(Aggregate):
    """A trivial aggregate: enough to see events stored, reloaded and listed in order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.stages: list[str] = []

    @event("Advanced")
    def advance(self, stage: str) -> None:
        self.stages.append(stage)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> DatabaseConfig:
    if request.param == "sqlite":
        config = parse_database_url(f"sqlite:///{tmp_path}/write-model/events.sqlite3")
        prepare_database(config)
        return config
    pg_config: PostgresConfig = request.getfixturevalue("pg")
    return pg_config


def test_an_eventsourcing_application_saves_reloads_and_lists_notifications(store: DatabaseConfig) -> None:
    app = Application[UUID](env=eventsourcing_env(store))
    try:
        deal = Deal("acme renewal")
        deal.advance("qualified")
        deal.advance("proposal")
        other = Deal("globex upsell")
        app.save(deal, other)
        deal.advance("won")
        app.save(deal)

        copy: Deal = app.repository.get(deal.id)
        assert (copy.name, copy.stages, copy.version) == ("acme renewal", ["qualified", "proposal", "won"], 4)

        notifications = app.recorder.select_notifications(start=1, limit=10)
        assert [(n.originator_id, n.originator_version) for n in notifications] == [
            (deal.id, 1),
            (deal.id, 2),
            (deal.id, 3),
            (other.id, 1),
            (deal.id, 4),
        ]
        ids = [n.id for n in notifications]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        assert notifications[0].topic.endswith(":Deal.Created")
    finally:
        app.close()

    reopened = Application[UUID](env=eventsourcing_env(store))
    try:
        assert reopened.repository.get(deal.id).stages == ["qualified", "proposal", "won"]
    finally:
        reopened.close()


def test_a_concurrent_write_to_the_same_version_is_refused(store: DatabaseConfig) -> None:
    """Optimistic concurrency, the guarantee the write model is built on, holds on both stores."""
    from eventsourcing.persistence import IntegrityError

    app = Application[UUID](env=eventsourcing_env(store))
    try:
        deal = Deal("initech")
        app.save(deal)
        one: Deal = app.repository.get(deal.id)
        two: Deal = app.repository.get(deal.id)
        one.advance("qualified")
        two.advance("lost")
        app.save(one)
        with pytest.raises(IntegrityError):
            app.save(two)
    finally:
        app.close()
