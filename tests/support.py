"""Helpers for integration tests: free ports, worker processes, reading topics back."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord
from pydantic import SecretStr

from events import Envelope
from projections import funnel, org, pipeline
from sales.process import ProcessConfig
from services.auth.keys import ApiKeys
from services.auth.roles import Role
from services.kafka_access import aiokafka_options, kafka_access
from services.settings import Settings
from services.web.encoding import jsonable

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that hands `settings` to a child process (SALESLEDGER_* variables)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALESLEDGER_")}
    for name, value in settings.model_dump().items():
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if value is not None:
            env[f"SALESLEDGER_{name.upper()}"] = str(value)
    env["PYTHONPATH"] = str(ROOT)
    return env


def eventually(
    probe: Callable[[], T], until: Callable[[T], object] = bool, timeout: float = 60.0, interval: float = 0.3
) -> T:
    """Poll `probe` until `until(value)` holds; return that value, or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if until(last):
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last value: {last!r}")


@functools.cache
def auditor_key(database_url: str) -> str:
    """An auditor key in the database ``database_url`` names, minted on first use."""
    keys = ApiKeys.from_url(database_url)
    try:
        return keys.create(role=Role.AUDITOR, label="tests")
    finally:
        keys.close()


class WorkerProcess:
    """A real `salesledger worker` subprocess with its own app id, port and data dir."""

    def __init__(self, settings: Settings, log_path: Path, api_keys: dict[str, str] | None = None) -> None:
        self.settings = settings
        self.api_keys = api_keys or {}
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.settings.web_host}:{self.settings.web_port}"

    def start(self, timeout: float = 120.0, wait: bool = True) -> WorkerProcess:
        """Launch the worker; with ``wait``, return once its health check answers 200."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "worker"],
            env=settings_env(self.settings),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if not wait:
            return self
        try:
            eventually(self.ready, timeout=timeout, interval=0.5)
        except AssertionError:
            self.stop()
            raise AssertionError(f"worker not ready; log tail:\n{self.log_tail()}") from None
        return self

    def ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"worker exited with {self.process.returncode}:\n{self.log_tail()}")
        try:
            return httpx.get(f"{self.url}/v1/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, sig: int = 15, timeout: float = 30.0) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        os.killpg(self.process.pid, sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            return self.process.wait()

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """GET with an auditor's key unless the caller passes its own ``headers`` (``{}``: none).

        A ``503 not_ready`` (the answer would cover no partition of the log yet: the worker has just
        started, or its group is rebalancing) is asked again for up to 60 s, as a client should."""
        headers = kwargs.pop("headers", None)
        headers = self.reader() if headers is None else headers
        deadline = time.monotonic() + 60
        while True:
            response = httpx.get(f"{self.url}{path}", timeout=10, headers=headers, **kwargs)
            if response.status_code != 503 or time.monotonic() > deadline:
                return response
            if "not_ready" not in response.text:
                return response
            time.sleep(0.3)

    def reader(self) -> dict[str, str]:
        """An auditor key's header (minted once per database): reads everything, writes nothing."""
        return {"Authorization": f"Bearer {auditor_key(self.settings.database_url)}"}

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.post(f"{self.url}{path}", timeout=30, **kwargs)

    def auth(self, source: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_keys[source]}"}

    def publish(self, event: dict[str, Any], **kwargs: Any) -> httpx.Response:
        """POST one event with the API key of its source."""
        return self.post(
            "/v1/events", content=json.dumps(event).encode(), headers=self.auth(event["source"]), **kwargs
        )


async def read_topic(
    settings: Settings, topic: str, count: int, timeout: float = 60.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """The first `count` records of `topic` (all partitions, from the beginning)."""
    consumer = AIOKafkaConsumer(
        topic,
        **aiokafka_options(settings),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        deadline = time.monotonic() + timeout
        while len(records) < count and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for partition_records in batch.values():
                records.extend(partition_records)
    finally:
        await consumer.stop()
    return records


def read_topic_sync(
    settings: Settings, topic: str, count: int, timeout: float = 60.0
) -> list[ConsumerRecord[bytes, bytes]]:
    return asyncio.run(read_topic(settings, topic, count, timeout))


def processes_with_env(marker: str) -> list[int]:
    """Pids of live processes whose environment contains `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                state = (entry / "stat").read_text().split(")")[-1].split()[0]
                if state != "Z":
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


def unique(prefix: str) -> str:
    """A readable id no other test (or run) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def kcat(
    settings: Settings,
    value: bytes,
    key: str,
    headers: dict[str, str] | None = None,
    principal: str | None = None,
) -> None:
    """Publish one message with kcat, a Kafka client that is not ours: as publisher ``principal``
    (default: the first configured) onto its own inbound topic, or, on PLAINTEXT, unauthenticated
    onto the shared one. (The password is on kcat's command line: loopback tests only.)"""
    binary = shutil.which("kcat")
    assert binary, "kcat must be installed (make test installs it)"
    principal = principal or next(iter(settings.publisher_sources), None)
    topic = settings.publisher_topics.get(principal or "", settings.topic_inbound)
    access = kafka_access(settings, principal) if principal else kafka_access(settings)
    # PLAIN, not SCRAM: kcat's packaged librdkafka (< 2.6.1) fails SCRAM with Kafka 4 (librdkafka#4895).
    args = [binary, "-P", *access.kcat_args(mechanism="PLAIN"), "-t", topic, "-k", key]
    for name, header in (headers or {}).items():
        args += ["-H", f"{name}={header}"]
    subprocess.run(args, input=value, check=True, timeout=30)


def replayed_pipeline_and_funnel(
    events: Sequence[Envelope], process: ProcessConfig, as_of: str, group_by: pipeline.GroupBy
) -> tuple[list[Any], dict[str, Any]]:
    """What `/v1/pipeline?as_of=...` (rows: the pipeline of what had happened by then) and
    `/v1/funnel` (everything so far) must answer, from the pure folds over ``events``."""
    at = datetime.fromisoformat(as_of)
    happened = [event for event in events if event.time <= at]
    deals = pipeline.deal_views(pipeline.fold(happened, process).values(), process).values()
    rows = pipeline.pipeline_summary(deals, org.fold(events), process, at, group_by, timedelta(days=14))
    report = funnel.funnel_report(funnel.total(funnel.fold(events, process).values(), process), process)
    return jsonable([asdict(row) for row in rows]), jsonable(asdict(report))
