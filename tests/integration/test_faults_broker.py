"""Issue 15, items 2 and 7, and the campaign's broker kill: the broker SIGKILLed under HTTP load.

While the broker is gone the gate keeps accepting (the event store is the record), and the worker
says what is wrong instead of "200": ready is 503 with ``Retry-After`` naming the broker, live stays
200, ``salesledger_broker_connected`` is 0 and ``salesledger_relay_backlog`` counts the events
accepted and not yet on Kafka. Once the broker is back the worker heals on its own (the time it took
is printed): every acknowledged event on the log exactly once, the read model equal to the fold of
the log, and no process left behind.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import pytest

from services import broker
from services.auth.keys import ApiKeys
from services.settings import Settings
from tests.conftest import PEER_SECRET
from tests.faults import (
    folded_activity,
    ids_on_log,
    kill_broker,
    metric,
    no_orphans,
    private_broker,
    readiness,
    report,
    seconds_until,
    served_activity,
    status,
)
from tests.integration.test_crash_safety import Progress, publish_with_retries
from tests.samples import call_logged
from tests.support import WorkerProcess, eventually

pytestmark = pytest.mark.integration
BATCHES, BATCH_SIZE = 30, 20


def test_issue_15_a_broker_killed_under_load_is_reported_then_healed_losing_and_doubling_nothing(
    kafka: Settings, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:6]
    with private_broker(kafka, tmp_path, f"faults-broker-{run}") as settings:
        settings = settings.model_copy(update={"peer_secret": PEER_SECRET})
        key = ApiKeys(settings.database_path).create("/dialer/test")
        rep = f"rep-faults-broker-{run}"
        batches = [
            [
                call_logged(f"fb-{run}-{b}-{i}", lead_id=f"lead-fb-{i % 7}", rep_id=rep)
                for i in range(BATCH_SIZE)
            ]
            for b in range(BATCHES)
        ]
        expected = {event["id"] for batch in batches for event in batch}
        worker = WorkerProcess(settings, tmp_path / "worker.log").start()
        try:
            done, progress = threading.Event(), Progress()
            publisher = threading.Thread(
                target=publish_with_retries, args=(worker.url, key, batches, progress, done), daemon=True
            )
            publisher.start()
            progress.wait_for(BATCHES // 3)
            eventually(lambda: metric(worker, "salesledger_relay_events_total"), until=lambda n: n and n > 0)
            kill_broker(settings)  # with the relay sending, the projector folding, the gate accepting

            progress.wait_for(2 * BATCHES // 3)  # the gate accepts while the broker is gone
            unready = eventually(
                lambda: readiness(worker),
                until=lambda answer: (
                    answer[0] == 503 and any("no Kafka broker has answered" in p for p in answer[2])
                ),
            )
            assert unready[1] is not None and int(unready[1]) >= 1, "a 503 says when to retry"
            assert status(worker, "/v1/health/live") == 200
            assert metric(worker, "salesledger_broker_connected") == 0.0
            backlog = eventually(
                lambda: metric(worker, "salesledger_relay_backlog"), until=lambda v: v is not None and v > 0
            )

            restarting = time.monotonic()
            broker.up(settings)
            broker_back = time.monotonic() - restarting
            healed = broker_back + seconds_until(lambda: status(worker, "/v1/health/ready") == 200)
            assert done.wait(timeout=180), "the publisher never got every batch stored"
            drained = seconds_until(lambda: metric(worker, "salesledger_relay_backlog") == 0.0)
            report(
                "broker SIGKILL under load",
                broker_start=broker_back,
                ready_after_restart=healed,
                backlog_drained_after_all_stored=drained,
            )
            print(f"[faults] backlog while the broker was down: {backlog:.0f} events")
            assert metric(worker, "salesledger_broker_connected") == 1.0

            ids = ids_on_log(settings, len(expected))
            assert len(ids) == len(set(ids)), "an acknowledged event reached the log twice"
            assert set(ids) == expected, f"missing from the log: {len(expected - set(ids))}"
            folded = folded_activity(settings, rep)
            assert eventually(lambda: served_activity(worker, rep), until=lambda got: got == folded) == folded
        finally:
            worker.stop()
        no_orphans(settings.app_id)
