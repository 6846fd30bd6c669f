"""The write model's tests, run again on a real PostgreSQL server (one fresh schema per test)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from psycopg import sql

from services.db import PostgresConfig, parse_database_url, prepare_database
from tests.postgres import with_schema
from tests.unit.test_write_model import *  # noqa: F403  (the same behaviour, another database)

pytestmark = pytest.mark.integration


def fresh_schema(postgres_url: str) -> Iterator[str]:
    url = with_schema(postgres_url, f"wm_{uuid.uuid4().hex[:12]}")
    config = parse_database_url(url)
    assert isinstance(config, PostgresConfig)
    prepare_database(config)
    try:
        yield url
    finally:
        with config.connect() as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(config.schema or "")))


@pytest.fixture
def db(postgres_url: str) -> Iterator[str]:  # type: ignore[no-redef]
    yield from fresh_schema(postgres_url)


@pytest.fixture
def other_db(postgres_url: str) -> Iterator[str]:  # type: ignore[no-redef]
    yield from fresh_schema(postgres_url)
