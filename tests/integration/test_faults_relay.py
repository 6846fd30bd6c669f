"""Issue 15: a relay whose store fails under it (a full disk refusing its position save) leads again
after a pause instead of ending, so accepted events still reach the log without a restart.

The campaign's full disk made SQLite refuse the relay's position save ("database or disk is full");
the exception ended the relay's task, and with it every copy to the log until the worker restarted.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from eventsourcing.persistence import OperationalError

from events import parse_event
from sales.process import load_process
from services import broker
from services.settings import Settings
from services.topics import ensure_topics
from services.writemodel.application import WriteModel
from services.writemodel.environment import write_model_env
from tests.faults import ids_on_log
from tests.integration.test_relay_forged_tail import relay_until
from tests.samples import call_logged

pytestmark = pytest.mark.integration


class FullOnce(WriteModel):
    """The write model, whose first position save meets a full disk (the error SQLite raised)."""

    refused = 0

    def save_position(self, name: str, seq: int) -> None:
        if not self.refused:
            self.refused += 1
            raise OperationalError("database or disk is full")
        super().save_position(name, seq)


def test_issue_15_a_relay_refused_by_a_full_disk_leads_again_and_relays_every_event_once(
    kafka: Settings, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:6]
    settings = kafka.model_copy(
        update={
            "topic_prefix": f"faults-relay-{run}",
            "database_url": f"sqlite:///{tmp_path / 'intake.sqlite3'}",
        }
    )
    broker.up(settings)  # grants the worker principal this prefix's topics (docs/security.md)
    asyncio.run(ensure_topics(settings))
    model = FullOnce(load_process(None), write_model_env(settings))
    ids = [f"faults-relay-{run}-{n}" for n in range(12)]
    events = [parse_event(json.dumps(call_logged(i, lead_id=f"lead-{n % 5}"))) for n, i in enumerate(ids)]
    assert {r.outcome.value for r in model.record(events)} == {"accepted"}

    asyncio.run(relay_until(settings, model))

    assert model.refused == 1, "the full disk was met"
    on_log = ids_on_log(settings, len(ids))
    assert sorted(on_log) == sorted(ids), (
        "every accepted event once (a row sent before the failure is skipped)"
    )
