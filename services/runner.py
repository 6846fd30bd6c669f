"""`salesledger run`: the whole system on one machine, with demo data, until Ctrl-C.

Starts (or reuses) the broker, creates the topics, starts a worker process, feeds demo activity
over both entry points (HTTP and the inbound Kafka topic), prints where to look, and on Ctrl-C or
SIGTERM stops the worker and then the broker it started, leaving no process behind.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from datetime import date
from types import FrameType
from typing import Any

import aiohttp
from aiokafka import AIOKafkaProducer

from services import broker
from services.auth.keys import ApiKeys
from services.auth.roles import Role
from services.demo import DEMO_SOURCE, as_bytes, demo_events
from services.ingestor.principals import publisher_for
from services.kafka_access import KafkaAccess, credentials_path, kafka_access
from services.settings import Settings
from services.simulator import simulate
from services.topics import ensure_topics


def base_url(settings: Settings) -> str:
    return f"http://{settings.web_host}:{settings.web_port}"


async def wait_until_ready(settings: Settings, timeout: float = 120.0) -> None:
    """Wait until the worker's HTTP API answers and its consumer has partitions assigned."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                async with http.get(f"{base_url(settings)}/v1/health") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)
    raise TimeoutError(f"worker at {base_url(settings)} not ready after {timeout:.0f}s")


DEMO_KEY_LABEL = "demo"
"""The label of the keys the demo mints for itself (`salesledger keys list` shows it)."""


def demo_keys(settings: Settings, sources: Iterable[str]) -> dict[str, str]:
    """A fresh demo key per source, replacing the previous run's (so the key store does not grow
    with every `make run`). Keys created with `salesledger keys create` are never touched."""
    keys = ApiKeys.from_url(settings.database_url)
    try:
        return keys.rotate(DEMO_KEY_LABEL, sources)
    finally:
        keys.close()


def demo_readers(settings: Settings, documents: Iterable[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """Demo keys that read (replacing the previous run's): an auditor's, and a manager's and a
    rep's of the simulated organisation (the first team formed with a manager, and its first rep).
    Role -> (whose, key); printed by `run` so the access rules can be tried at once."""
    documents = list(documents)
    teams = [d["data"] for d in documents if d["type"] == "TeamFormed" and d["data"].get("manager_id")]
    keys = ApiKeys.from_url(settings.database_url)
    try:
        readers = {"auditor": ("everything", keys.rotate_role(DEMO_KEY_LABEL, Role.AUDITOR))}
        team = next((t for t in teams if t.get("parent_team_id")), teams[0] if teams else None)
        if team is not None:
            manager = str(team["manager_id"])
            readers["manager"] = (manager, keys.rotate_role(DEMO_KEY_LABEL, Role.MANAGER, manager))
            members = [
                d["data"]["rep_id"]
                for d in documents
                if d["type"] == "RepOnboarded" and d["data"].get("team_id") == team["team_id"]
            ]
            if members:
                rep = str(members[0])
                readers["rep"] = (rep, keys.rotate_role(DEMO_KEY_LABEL, Role.REP, rep))
        return readers
    finally:
        keys.close()


def demo_key(settings: Settings) -> str:
    """The API key for the demo source (printed by `run`, so users can publish too)."""
    return demo_keys(settings, [DEMO_SOURCE])[DEMO_SOURCE]


def simulated_history(reps: int = 8, leads: int = 60) -> list[dict[str, Any]]:
    """The seeded quarter `run` feeds (services.simulator), as CloudEvents documents in time order."""
    return list(simulate(seed=2026, reps=reps, leads=leads, start=date(2026, 7, 6), weeks=13))


def history_keys(settings: Settings, documents: Iterable[dict[str, Any]]) -> dict[str, str]:
    """A demo key for each source of the simulated history (replacing the previous run's)."""
    return demo_keys(settings, {document["source"] for document in documents})


def kafka_summary(settings: Settings) -> str:
    """Where a publisher writes, and with which credentials (never the password itself)."""
    if not settings.kafka_secured:
        return f"inbound topic {settings.topic_inbound}, no authentication"
    topics = ", ".join(f"{p} -> {t}" for p, t in settings.publisher_topics.items()) or "no publishers"
    protocol = f"{settings.kafka_security_protocol} {settings.kafka_sasl_mechanism}"
    return f"{protocol}; {topics}; local passwords in {credentials_path(settings)}"


def demo_publisher(settings: Settings) -> tuple[KafkaAccess, str]:
    """Who publishes the demo's Kafka half, and where: with SASL, the publisher principal bound to
    the demo source, on its own topic (with the local broker's generated password); on PLAINTEXT,
    anyone on the shared inbound topic."""
    if not settings.kafka_secured:
        return kafka_access(settings), settings.topic_inbound
    principal = publisher_for(settings, DEMO_SOURCE)
    if principal is None:
        raise RuntimeError(
            f"no Kafka publisher is bound to the demo source {DEMO_SOURCE}: "
            "add one to SALESLEDGER_KAFKA_PUBLISHERS"
        )
    return kafka_access(settings, principal), settings.topic_inbound_of(principal)


async def feed_demo(settings: Settings, count: int = 30, key: str | None = None) -> None:
    """Publish demo events: the first half over HTTP, the rest straight to the inbound topic."""
    events = demo_events(count)
    half = len(events) // 2
    headers = {"Authorization": f"Bearer {key or demo_key(settings)}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        for event in events[:half]:
            async with http.post(f"{base_url(settings)}/v1/events", data=as_bytes(event)) as response:
                if response.status not in (200, 202):
                    raise RuntimeError(f"demo event rejected: {await response.text()}")
    kafka, topic = demo_publisher(settings)
    producer = AIOKafkaProducer(**kafka.options(), enable_idempotence=True)
    await producer.start()
    try:
        for event in events[half:]:
            await producer.send_and_wait(topic, as_bytes(event), key=event["subject"].encode())
    finally:
        await producer.stop()
    print(f"fed {half} demo events over HTTP and {len(events) - half} over Kafka")


async def feed_simulated_history(settings: Settings, reps: int = 8, leads: int = 60) -> int:
    """A seeded quarter of a small sales org (services.simulator) over HTTP batches, in time order,
    each source with its own API key, so the pipeline, funnel and KPIs have something to show."""
    documents = simulated_history(reps, leads)
    auth = {source: f"Bearer {key}" for source, key in history_keys(settings, documents).items()}
    async with aiohttp.ClientSession() as http:
        for document in documents:  # one at a time: sources interleave and the story's order matters
            headers = {"Authorization": auth[document["source"]]}
            url = f"{base_url(settings)}/v1/events"
            async with http.post(url, data=json.dumps(document).encode(), headers=headers) as response:
                if response.status not in (200, 202):
                    raise RuntimeError(f"simulated event rejected: {await response.text()}")
    print(f"fed a simulated quarter: {len(documents)} events from {reps} reps and {leads} leads")
    return len(documents)


async def show_activity(
    settings: Settings, expected: int, reader: str, timeout: float = 60.0
) -> dict[str, object]:
    """The per-rep activity read model, once all `expected` demo events have reached it (read with
    the auditor key ``reader``)."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {reader}"}) as http:
        while True:
            async with http.get(f"{base_url(settings)}/v1/reps/activity") as response:
                body: dict[str, dict[str, dict[str, int]]] = await response.json()
            seen = sum(rep["calls"] + rep["leads_captured"] for rep in body["reps"].values())
            if seen >= expected or time.monotonic() > deadline:
                return body  # type: ignore[return-value]
            await asyncio.sleep(0.5)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run_system(settings: Settings, demo_count: int = 30, simulate_history: bool = True) -> int:
    signal.signal(signal.SIGTERM, _raise_interrupt)
    started = broker.up(settings)
    print(started.describe())
    worker: subprocess.Popen[bytes] | None = None
    try:
        asyncio.run(ensure_topics(settings))
        worker = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "worker"], env=os.environ.copy(), start_new_session=True
        )
        asyncio.run(wait_until_ready(settings))
        key = demo_key(settings)
        asyncio.run(feed_demo(settings, count=demo_count, key=key))
        if simulate_history:
            asyncio.run(feed_simulated_history(settings))
        readers = demo_readers(settings, simulated_history())
        auditor = readers["auditor"][1]
        print(json.dumps(asyncio.run(show_activity(settings, demo_count, auditor)), indent=2))
        url = base_url(settings)
        read_keys = "".join(
            f"  {role + ':':<9}{key} (reads {whose})\n" for role, (whose, key) in readers.items()
        )
        print(
            f"\nSalesledger is running.\n  API:     {url}/v1/events (POST)\n"
            f"  API key: {key} (send 'Authorization: Bearer <key>', source {DEMO_SOURCE})\n"
            f"Keys that read (docs/api.md, Access):\n{read_keys}"
            f"  Query:   {url}/v1/reps/activity\n"
            f"           {url}/v1/pipeline?group_by=team\n"
            f"           {url}/v1/kpis?scope=org&period=2026-Q3\n"
            f"           {url}/v1/leaderboards?kpi=won_revenue.EUR&period=2026-Q3\n"
            f"  Metrics: {url}/metrics\n"
            f"  Kafka:   {settings.kafka_bootstrap_servers} ({kafka_summary(settings)})\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )
        return worker.wait()
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if worker is not None:
            stop_process(worker)
        if started.started:
            broker.down(settings)
        print("stopped", flush=True)


def stop_process(process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """SIGTERM the process group, then SIGKILL if it has not exited in time."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
