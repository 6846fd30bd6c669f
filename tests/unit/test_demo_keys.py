"""Issue 12, item 8: `make run` replaces its own demo keys instead of minting ten more every run."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from services.auth.keys import ApiKeys
from services.demo import DEMO_SOURCE
from services.runner import DEMO_KEY_LABEL, demo_key, history_keys, simulated_history
from services.settings import Settings


def run_key_step(settings: Settings) -> dict[str, str]:
    """The keys `salesledger run` mints on each start: the demo source's and the history's."""
    return {DEMO_SOURCE: demo_key(settings)} | history_keys(settings, simulated_history())


def stored_rows(database: Path) -> list[tuple[str, str, str | None]]:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT key_id, source, label FROM api_keys ORDER BY source").fetchall()


def test_issue12_item8_make_run_twice_rotates_its_demo_keys_and_the_key_store_does_not_grow(
    tmp_path: Path,
) -> None:
    database = tmp_path / "salesledger.sqlite3"
    settings = Settings(database_url=f"sqlite:///{database}")
    own = ApiKeys(database, cache_seconds=0)
    operator_key = own.create(DEMO_SOURCE)  # made by hand with `salesledger keys create`: kept
    other_key = own.create("/dialer")

    first = run_key_step(settings)
    after_first = stored_rows(database)
    second = run_key_step(settings)
    after_second = stored_rows(database)

    assert len(first) == 10 and first.keys() == second.keys()  # the demo source + 9 simulated ones
    assert len(after_second) == len(after_first) == 12, "a second run must not add keys"
    assert sorted(source for _, source, label in after_second if label == DEMO_KEY_LABEL) == sorted(second)
    checker = ApiKeys(database, cache_seconds=0)
    for source in second:
        assert checker.source_of(second[source]) == source  # this run's keys work
        assert checker.source_of(first[source]) is None  # the previous run's no longer do
    assert checker.source_of(operator_key) == DEMO_SOURCE  # keys nobody labelled are untouched
    assert checker.source_of(other_key) == "/dialer"
    assert {k.label for k in checker.list()} == {None, DEMO_KEY_LABEL}  # `salesledger keys list` shows it


def test_issue12_item8_a_key_store_made_before_labels_gains_the_column_and_keeps_its_keys(
    tmp_path: Path,
) -> None:
    database = tmp_path / "old.sqlite3"
    with sqlite3.connect(database) as db:
        db.execute(
            "CREATE TABLE api_keys (key_id TEXT PRIMARY KEY, source TEXT NOT NULL,"
            " secret_sha256 TEXT NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT)"
        )
        db.execute("INSERT INTO api_keys VALUES ('old', '/crm', 'x', '2026-01-01T00:00:00+00:00', NULL)")
    keys = ApiKeys(database)
    keys.rotate(DEMO_KEY_LABEL, [DEMO_SOURCE])
    keys.rotate(DEMO_KEY_LABEL, [DEMO_SOURCE])
    assert [(k.key_id == "old", k.label) for k in keys.list()] == [(True, None), (False, DEMO_KEY_LABEL)]
