"""Issue 12: the PostgreSQL password never reaches a worker's log, from start-up to its first events."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from services.auth.keys import ApiKeys
from services.settings import Settings
from tests.conftest import worker_settings
from tests.postgres import with_schema
from tests.samples import call_logged
from tests.support import WorkerProcess

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("log_format", ["json", "text"])  # issue 16: JSON lines (the default) too
def test_a_worker_on_postgresql_never_logs_the_database_password(
    kafka: Settings, postgres_url: str, tmp_path: Path, log_format: str
) -> None:
    password = unquote(urlsplit(postgres_url).password or "")
    assert password, "the test database has a password login"
    url = with_schema(postgres_url, f"secrets_{uuid.uuid4().hex[:8]}")
    settings = worker_settings(kafka, tmp_path, "secrets").model_copy(
        update={"database_url": url, "log_level": "debug", "log_format": log_format}
    )
    keys = ApiKeys.from_url(url)
    try:
        key = keys.create("/dialer/test")
    finally:
        keys.close()
    log = tmp_path / "worker.log"
    worker = WorkerProcess(settings, log, {"/dialer/test": key}).start()
    try:
        assert worker.publish(call_logged(f"secret-{uuid.uuid4().hex[:6]}")).status_code == 202
        time.sleep(2)  # the relay relays it, the projector folds it: more lines to check
    finally:
        worker.stop()
    text = log.read_text(errors="replace")
    assert "relay leading" in text, "the worker logged its start-up"
    assert password not in text
    assert key not in text  # the publisher's API key neither
    ours = [line for line in text.splitlines() if line.startswith("{") and "salesledger.events" in line]
    assert bool(ours) == (log_format == "json"), "event lines are JSON in the JSON format only"
