"""Helpers of the fault suite (tests/integration/test_faults_*.py): watching a worker come back.

Each fault test breaks something real, then measures how long the system takes to be well again
on its own and prints it (a figure to report, never a threshold: the machine is shared and slow).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from events import parse_event
from projections import rep_activity
from services import broker
from services.broker.process import pid_alive, read_pid
from services.settings import Settings
from services.topics import ensure_topics
from tests.support import WorkerProcess, free_port, processes_with_env, read_topic_sync


def metric(worker: WorkerProcess, name: str) -> float | None:
    """The value of an unlabelled series on the worker's `/metrics`, or None (not served, or down)."""
    try:
        text = httpx.get(f"{worker.url}/metrics", timeout=5).text
    except httpx.HTTPError:
        return None
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else None


def status(worker: WorkerProcess, path: str) -> int | None:
    """The HTTP status of a GET on the worker, or None while it does not answer."""
    try:
        return httpx.get(f"{worker.url}{path}", timeout=5).status_code
    except httpx.HTTPError:
        return None


def readiness(worker: WorkerProcess) -> tuple[int, str | None, list[str]]:
    """Status, ``Retry-After`` and problems of the worker's `/v1/health/ready` (0 while it is down)."""
    try:
        answer = httpx.get(f"{worker.url}/v1/health/ready", timeout=5)
    except httpx.HTTPError:
        return 0, None, []
    return answer.status_code, answer.headers.get("Retry-After"), answer.json().get("problems", [])


def seconds_until(condition: Callable[[], bool], limit: float = 300.0, interval: float = 0.2) -> float:
    """Seconds from now until `condition()` holds (failing after `limit`: something is wedged)."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > limit:
            raise AssertionError(f"not recovered within {limit:.0f} s")
        time.sleep(interval)
    return time.monotonic() - start


def report(test: str, **figures: float) -> None:
    """Print the figures a fault test measured (pytest -s shows them; the suite's log keeps them)."""
    shown = ", ".join(f"{name}={value:.1f}s" for name, value in figures.items())
    print(f"\n[faults] {test}: {shown}")


@contextlib.contextmanager
def private_broker(kafka: Settings, tmp: Path, name: str) -> Iterator[Settings]:
    """A broker of this test's own (free ports, fresh data dir), to be killed without harming the
    session's; `kafka`'s settings otherwise, with the topics created. Stopped at the end."""
    settings = kafka.model_copy(
        update={
            "kafka_bootstrap_servers": f"127.0.0.1:{free_port()}",
            "kafka_controller_port": free_port(),
            "kafka_data_dir": tmp / f"{name}-kafka",
            "topic_prefix": name,
            "app_id": name,
            "database_url": f"sqlite:///{tmp / f'{name}.sqlite3'}",
            "data_dir": tmp / f"{name}-faust",
            "web_port": free_port(),
            "log_level": "info",
        }
    )
    broker.up(settings)
    try:
        asyncio.run(ensure_topics(settings))
        yield settings
    finally:
        broker.down(settings)


def kill_broker(settings: Settings) -> None:
    """SIGKILL the broker `settings` started (its pid file) and wait for it to be gone."""
    pid = read_pid(settings.kafka_data_dir)
    assert pid is not None, "no broker of ours to kill"
    os.kill(pid, signal.SIGKILL)
    seconds_until(lambda: not pid_alive(pid), limit=30)


def ids_on_log(settings: Settings, at_least: int) -> list[str]:
    """Every event id on the canonical log once it holds `at_least` records (re-read while the relay
    catches up), in log order, repeats included: the caller asserts exactly once."""
    records: list[Any] = []
    deadline = time.monotonic() + 180
    while len(records) < at_least and time.monotonic() < deadline:
        records = read_topic_sync(settings, settings.topic_events, count=at_least, timeout=5)
    time.sleep(1)  # then once more: anything past `at_least` (a duplicate) shows too
    records = read_topic_sync(settings, settings.topic_events, count=at_least + 10**6, timeout=5)
    return [parse_event(record.value).id for record in records]


def folded_activity(settings: Settings, rep_id: str) -> dict[str, int]:
    """Rep `rep_id`'s activity as the pure fold of the canonical log says it."""
    records = read_topic_sync(settings, settings.topic_events, count=10**6, timeout=5)
    state = rep_activity.fold([parse_event(record.value) for record in records]).get(rep_id)
    assert state is not None, f"{rep_id} is not on the log"
    return {name: int(getattr(state, name)) for name in ACTIVITY_FIELDS}


ACTIVITY_FIELDS = ("calls", "connected_calls", "talk_seconds", "leads_captured")


def served_activity(worker: WorkerProcess, rep_id: str) -> dict[str, int]:
    """Rep `rep_id`'s activity as the worker answers it, the fields the fold has."""
    body = worker.get(f"/v1/reps/{rep_id}/activity").json()
    return {name: int(body.get(name, -1)) for name in ACTIVITY_FIELDS}


def no_orphans(app_id: str, limit: float = 30.0) -> None:
    """No process of app `app_id` is left once its worker is gone (waited for up to `limit` s)."""
    marker = f"SALESLEDGER_APP_ID={app_id}"
    seconds_until(lambda: not processes_with_env(marker), limit=limit)
