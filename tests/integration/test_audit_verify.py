"""`salesledger audit verify` against the real broker and SQLite store: a history written by a real
worker verifies; copies of its log and of its store, tampered with, fail and name each event. The
same reading of a store runs once on PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any, TypeAlias

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from psycopg import sql

from events import parse_event
from sales.process import load_process
from services import broker
from services.audit.findings import Kind, Position
from services.audit.verify import verify
from services.auth.keys import ApiKeys
from services.db import PostgresConfig, parse_database_url
from services.kafka_access import aiokafka_options
from services.settings import Settings
from services.topics import ensure_topics
from services.writemodel.aggregates import chain_hash
from services.writemodel.application import WriteModel
from services.writemodel.environment import write_model_env
from tests.conftest import worker_settings
from tests.postgres import with_schema
from tests.samples import call_logged
from tests.support import ROOT, WorkerProcess, eventually, read_topic_sync, settings_env, unique

pytestmark = pytest.mark.integration

SOURCE = "/dialer/test"
LEADS, PER_LEAD = 4, 3
Record: TypeAlias = ConsumerRecord[bytes, bytes]


@pytest.fixture(scope="module")
def ledger(kafka: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A worker of its own (topics and store no other test writes to) that recorded a few leads."""
    tmp = tmp_path_factory.mktemp("audit")
    settings = worker_settings(kafka, tmp, "audit").model_copy(
        update={"topic_prefix": unique("audit"), "database_url": f"sqlite:///{tmp / 'store.sqlite3'}"}
    )
    broker.up(settings)  # grants the worker principal this prefix's topics and groups (docs/security.md)
    asyncio.run(ensure_topics(settings))
    keys = {SOURCE: ApiKeys(settings.database_path).create(SOURCE)}
    worker = WorkerProcess(settings, tmp / "worker.log", keys).start()
    try:
        for lead in range(LEADS):
            for n in range(PER_LEAD):
                event = call_logged(event_id(lead, n), lead_id=f"{settings.topic_prefix}-lead-{lead}")
                assert worker.publish(event).status_code == 202
        eventually(lambda: log_of(settings), until=lambda records: len(records) == LEADS * PER_LEAD)
        yield settings
    finally:
        worker.stop()


def event_id(lead: int, n: int) -> str:
    return f"audit-evt-{lead}-{n}"


def named(lead: int, n: int) -> str:
    return f"{event_id(lead, n)} from {SOURCE}"


def log_of(settings: Settings, topic: str | None = None) -> list[Record]:
    records = read_topic_sync(settings, topic or settings.topic_events, count=LEADS * PER_LEAD, timeout=3)
    return sorted(records, key=lambda r: (r.partition, r.offset))


def audit(settings: Settings, *args: str, action: str = "verify") -> tuple[int, dict[str, Any]]:
    """The real CLI (the installed entry point) with `--json`: its exit code and its report."""
    script = Path(sys.executable).parent / "salesledger"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "services.cli"]
    done = subprocess.run(
        [*command, "audit", action, "--json", *args],
        env=settings_env(settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return done.returncode, json.loads(done.stdout)


def found(report: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(f["kind"], f["source"], f["event"]) for f in report["findings"]}


def test_the_untouched_log_and_store_verify(ledger: Settings) -> None:
    code, report = audit(ledger)
    assert code == 0, report
    assert report["ok"] is True
    assert [(s["source"], s["events"], s["aggregates"]) for s in report["examined"]] == [
        ("kafka", LEADS * PER_LEAD, LEADS),
        ("store", LEADS * PER_LEAD, LEADS),
    ]
    assert all(f["harmless"] for f in report["findings"])  # at most relay lag (pending)


def test_a_tampered_copy_of_the_log_fails_naming_each_event(ledger: Settings) -> None:
    records = log_of(ledger)
    of = {id_of(r): r for r in records}
    altered = replace_value(of[event_id(0, 1)], b'"duration_seconds":300', b'"duration_seconds":301')
    forged = forge(of[event_id(3, 0)], b'"duration_seconds":300', b'"duration_seconds":1')
    copy = [altered if r is of[event_id(0, 1)] else r for r in records if r is not of[event_id(1, 1)]]
    first, second = copy.index(of[event_id(2, 1)]), copy.index(of[event_id(2, 2)])
    copy[first], copy[second] = copy[second], copy[first]
    copy += [forged, of[event_id(3, 2)]]  # a different event in a taken place; an exact resend

    topic = ledger.model_copy(update={"topic_prefix": f"{ledger.topic_prefix}-copy"})
    asyncio.run(ensure_topics(topic))
    asyncio.run(produce(ledger, topic.topic_events, copy))

    code, report = audit(ledger, "--topic", topic.topic_events)
    assert code == 1
    assert found(report) == {
        ("altered", "kafka", named(0, 1)),
        ("altered", "both", named(0, 1)),  # the log's copy differs from the store's
        ("missing", "kafka", named(1, 2)),  # the gap is before the event after the dropped one
        ("missing", "both", named(1, 1)),  # relayed from the store, not on the log
        ("reordered", "kafka", named(2, 2)),
        ("duplicated", "kafka", named(3, 0)),
        ("republished", "kafka", named(3, 2)),
    }
    resent = next(f for f in report["findings"] if f["kind"] == "republished")
    assert resent["harmless"] is True and resent["position"]["partition"] == of[event_id(3, 2)].partition
    code, report = audit(ledger, "--topic", topic.topic_events, action="completeness")
    assert code == 1  # the store against the log only: what is missing or different on either side
    assert found(report) == {("altered", "both", named(0, 1)), ("missing", "both", named(1, 1))}


def test_a_tampered_copy_of_the_store_fails_naming_each_event(ledger: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "store-copy.sqlite3"
    with closing(sqlite3.connect(ledger.database_path)) as live, closing(sqlite3.connect(copy)) as target:
        live.backup(target)  # a consistent copy of the live store, its WAL included
    with closing(sqlite3.connect(copy)) as db, db:  # closed, and committed first
        rowid, state = row_of(db, event_id(2, 1))
        document = json.loads(state)
        document["envelope"] = document["envelope"].replace(
            '"duration_seconds":300', '"duration_seconds":299'
        )
        db.execute(
            "UPDATE stored_events SET state = ? WHERE rowid = ?", (json.dumps(document).encode(), rowid)
        )
        db.execute("DELETE FROM stored_events WHERE rowid = ?", (row_of(db, event_id(0, 0))[0],))

    code, report = audit(ledger, "--source", "store", "--database-url", f"sqlite:///{copy}")
    assert code == 1
    assert found(report) == {("altered", "store", named(2, 1)), ("missing", "store", named(0, 1))}


def test_a_source_that_cannot_be_read_is_an_error_not_a_verdict(ledger: Settings) -> None:
    script = [sys.executable, "-m", "services.cli", "audit", "verify", "--topic", unique("no-such-topic")]
    done = subprocess.run(
        script, env=settings_env(ledger), cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "does not exist" in done.stderr


def test_a_store_on_postgresql_verifies_and_its_tampered_row_fails(postgres_url: str) -> None:
    schema = f"audit_{uuid.uuid4().hex[:12]}"
    url = with_schema(postgres_url, schema)
    model = WriteModel(load_process(None), write_model_env(Settings(database_url=url)))
    lead = unique("lead")
    model.record([parse_event(json.dumps(call_logged(unique("evt"), lead_id=lead))) for _ in range(3)])
    model.close()
    config = parse_database_url(url)
    assert isinstance(config, PostgresConfig)
    try:
        untouched = verify("store", "", "", url)  # in process: the CLI is shown above, this is the store
        assert untouched.ok and untouched.examined[0].events == 3
        with config.connect() as db:
            rows = db.execute(
                "SELECT notification_id, state FROM writemodel_events WHERE topic LIKE '%Ledger.Recorded'"
                " ORDER BY notification_id"
            ).fetchall()
            seq, state = rows[1]
            document = json.loads(bytes(state))
            document["envelope"] = document["envelope"].replace(
                '"duration_seconds":300', '"duration_seconds":30'
            )
            db.execute(
                "UPDATE writemodel_events SET state = %s WHERE notification_id = %s",
                (json.dumps(document).encode(), seq),
            )
        tampered = verify("store", "", "", url)
        assert [(f.kind, f.position) for f in tampered.findings] == [(Kind.ALTERED, Position.seq(seq))]
    finally:
        with config.connect() as db:
            db.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


# --- tampering ----------------------------------------------------------------------------------


def id_of(record: Record) -> str:
    return str(json.loads(record.value)["id"])


def replace_value(record: Record, old: bytes, new: bytes) -> Record:
    assert old in record.value
    return dataclasses.replace(record, value=record.value.replace(old, new))


def forge(record: Record, old: bytes, new: bytes) -> Record:
    """Another event in `record`'s place, hashed as the write model would: only the chain betrays it."""
    changed = replace_value(record, old, new)
    headers = dict(record.headers)
    prev = headers["salesledger.prevhash"].decode()
    digest = chain_hash(prev, f"{SOURCE}\n{id_of(record)}", changed.value.decode())
    headers["salesledger.hash"] = digest.encode()
    return dataclasses.replace(changed, headers=list(headers.items()))


async def produce(settings: Settings, topic: str, records: list[Record]) -> None:
    """Write `records` to `topic` in this order, each to the partition it came from."""
    producer = AIOKafkaProducer(**aiokafka_options(settings))
    await producer.start()
    try:
        for r in records:
            await (
                await producer.send(topic, r.value, key=r.key, partition=r.partition, headers=list(r.headers))
            )
    finally:
        await producer.stop()


def row_of(db: sqlite3.Connection, event: str) -> tuple[int, str]:
    (row,) = db.execute(
        "SELECT rowid, CAST(state AS TEXT) FROM stored_events"
        " WHERE topic LIKE '%Ledger.Recorded' AND CAST(state AS TEXT) LIKE ?",
        (f'%\\"id\\":\\"{event}\\"%',),
    ).fetchall()
    return int(row[0]), str(row[1])


def test_a_replay_of_the_store_gives_the_states_a_replay_of_the_log_gives(
    ledger: Settings, tmp_path: Path
) -> None:
    script = Path(sys.executable).parent / "salesledger"
    outs = {}
    for source in ("store", "kafka"):
        out = tmp_path / source
        done = subprocess.run(
            [str(script), "replay", "--source", source, "--quiet", "--workers", "1", "--out", str(out)],
            env=settings_env(ledger),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"replayed {LEADS * PER_LEAD} events (0 skipped" in done.stdout
        outs[source] = out
    for name in ("rep-activity", "pipeline", "funnel", "org", "kpis", "development", "incentives"):
        states = [
            {
                (p, key): state
                for p, key, (_, state) in json.loads((outs[s] / f"{name}.json").read_text())["partials"]
            }
            for s in ("store", "kafka")
        ]
        assert states[0] == states[1], name
        assert states[0] or name not in ("rep-activity", "kpis"), name  # what the calls change
