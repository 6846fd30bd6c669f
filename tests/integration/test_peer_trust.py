"""Issue 12, "Trust between the parts": strangers join the projector's consumer group and announce
peer URLs; a real worker's answers take nothing from them.

Five rogue members join the group with the workers' own assignor, each announcing a URL:

- ``forged``: partials of ``rep-mallory`` (999,999 calls) for every partition, unsigned;
- ``huge``: an endless body (the worker reads at most ``SALESLEDGER_PEER_BODY_MAX``);
- ``redirect``: a redirect to a server that *does* sign its forged answer (so following it would merge);
- ``malformed``: signed with the shared secret (a broken or compromised worker), but partitions
  beyond the topic's and states that do not decode;
- an address outside ``SALESLEDGER_PEER_URLS`` (never asked, logged once).

The worker keeps answering from its own partitions only (the rogues do take partitions from it,
which only Kafka ACLs on the group can prevent), ``rep-mallory`` never appears, its memory stays
bounded, and the whole answer comes back once the rogues leave.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiokafka import AIOKafkaConsumer

from services.kafka_access import aiokafka_options
from services.projector.assignor import DirectoryAssignor
from services.queries.peers import REQUEST_HEADER, RESPONSE_HEADER, PeerAuth
from services.settings import Settings
from tests.conftest import PEER_SECRET, private_system
from tests.samples import call_logged, lead_captured
from tests.support import WorkerProcess, eventually, free_port

pytestmark = pytest.mark.integration

PARTITIONS = 12  # the worker and five rogues: two partitions each, round-robin
CAP = 8 * 1024 * 1024
OUTSIDE = "http://203.0.113.7:6066"  # TEST-NET-3: not in the default (loopback) allowlist
MALLORY = {"calls": 999_999, "connected_calls": 999_999, "talk_seconds": 999_999, "leads_captured": 0}


def forged(partitions: Any, state: Any = MALLORY) -> bytes:
    partials = [[p, "rep-mallory", [10**9, state]] for p in partitions]
    return orjson.dumps({"partials": partials, "partitions": list(partitions)})


class Strangers:
    """Fake peers (one aiohttp server, a port per behaviour) and the rogue group members announcing
    them, on an event loop in a thread of the test."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.auth = PeerAuth(PEER_SECRET.get_secret_value().encode())
        self.ports = {mode: free_port() for mode in ("forged", "huge", "redirect", "signed", "malformed")}
        self.asked: dict[str, int] = dict.fromkeys(self.ports, 0)
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def urls(self) -> list[str]:
        announced = ("forged", "huge", "redirect", "malformed")
        return [f"http://127.0.0.1:{self.ports[mode]}" for mode in announced] + [OUTSIDE]

    def __enter__(self) -> Strangers:
        self._thread.start()
        assert self._ready.wait(30), "the strangers did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        mode = next(m for m, port in self.ports.items() if port == request.url.port)
        self.asked[mode] += 1
        nonce = self.auth.check_request("GET", request.path, request.headers.get(REQUEST_HEADER, ""))
        if mode == "forged":
            return web.Response(body=forged(range(PARTITIONS)), headers={RESPONSE_HEADER: "0" * 64})
        if mode == "huge":
            response = web.StreamResponse()
            await response.prepare(request)
            chunk = b" " * (1 << 20)
            try:
                for _ in range(4096):  # 4 GiB, unless the worker hangs up first
                    await response.write(chunk)
            except ConnectionError:
                pass  # it did
            return response
        if mode == "redirect":
            raise web.HTTPFound(f"http://127.0.0.1:{self.ports['signed']}{request.path_qs}")
        assert nonce is not None, "the worker signs its requests"
        if mode == "signed":  # what a redirect would lead to: correctly signed forgeries
            body = forged(range(PARTITIONS))
        else:  # malformed, though signed
            body = (
                forged([PARTITIONS + 5]) if self.asked[mode] % 2 else forged(range(PARTITIONS), "not a state")
            )
        return web.Response(body=body, headers={RESPONSE_HEADER: self.auth.sign_answer(nonce, body)})

    async def _main(self) -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._answer)
        runner = web.AppRunner(app)
        await runner.setup()
        for port in self.ports.values():
            await web.TCPSite(runner, "127.0.0.1", port).start()
        settings = self.settings
        rogues = [
            AIOKafkaConsumer(
                settings.topic_events,
                **aiokafka_options(settings),
                group_id=f"{settings.app_id}-projector",
                partition_assignment_strategy=(DirectoryAssignor(url),),
                enable_auto_commit=False,
                session_timeout_ms=int(settings.consumer_session_timeout * 1000),
                heartbeat_interval_ms=1000,
            )
            for url in self.urls()
        ]
        try:
            for rogue in rogues:
                await rogue.start()
            self._ready.set()
            while not self._stop.is_set():
                await asyncio.gather(*(rogue.getmany(timeout_ms=200) for rogue in rogues))
        finally:
            for rogue in rogues:
                await rogue.stop()  # leaves the group
            await runner.cleanup()


def peak_rss_mib(worker: WorkerProcess) -> float:
    assert worker.process is not None
    status = Path(f"/proc/{worker.process.pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1]) / 1024


def own_partitions(worker: WorkerProcess) -> set[str]:
    return {p for p in worker.get("/v1/health").json()["assigned"] if ".events/" in p}


@pytest.fixture
def lone(kafka: Settings, api_keys: dict[str, str], tmp_path: Path) -> Iterator[WorkerProcess]:
    settings = private_system(
        kafka,
        tmp_path,
        "trust",
        require_api_keys=False,
        topic_partitions=PARTITIONS,
        peer_body_max=CAP,
        peer_timeout=5.0,
        gauge_refresh_seconds=1.0,  # the relay leader's gauges ask the peers too
        consumer_session_timeout=10.0,
    )
    worker = WorkerProcess(settings, tmp_path / "worker.log", api_keys).start()
    try:
        yield worker
    finally:
        worker.stop()


def test_peers_announced_by_strangers_add_nothing_to_a_workers_answers(lone: WorkerProcess) -> None:
    worker, secret = lone, PEER_SECRET.get_secret_value()
    for n in range(24):
        rep, lead = f"rep-trust-{n % 6}", f"lead-trust-{n}"
        assert worker.publish(lead_captured(f"trust-lead-{n}", rep_id=rep, lead_id=lead)).status_code == 202
        assert worker.publish(call_logged(f"trust-call-{n}", rep_id=rep, lead_id=lead)).status_code == 202

    def activity() -> dict[str, Any]:
        return dict(worker.get("/v1/reps/activity").json())

    whole = eventually(
        activity,
        until=lambda a: (
            a["partitions_covered"] == PARTITIONS and sum(r["calls"] for r in a["reps"].values()) == 24
        ),
    )
    before = peak_rss_mib(worker)

    with Strangers(worker.settings) as strangers:
        eventually(lambda: len(own_partitions(worker)), until=lambda n: n == 2, timeout=30)
        for _ in range(6):  # every query asks the peers again
            answer = activity()
            assert "rep-mallory" not in answer["reps"]
            assert answer["partitions_covered"] <= 2 and answer["partitions_total"] == PARTITIONS
            for rep, got in answer["reps"].items():  # a rep's partials of the worker's partitions
                assert all(got[k] <= whole["reps"][rep][k] for k in got), (rep, got)
        asked = dict(strangers.asked)
    assert asked["forged"] and asked["huge"] and asked["redirect"] and asked["malformed"], asked
    assert asked["signed"] == 0, "a redirect was followed"

    # Once the strangers left, the worker answers for everything again, exactly as before.
    assert eventually(activity, until=lambda a: a["partitions_covered"] == PARTITIONS, timeout=30) == whole
    assert peak_rss_mib(worker) - before < 200, "reading the endless answer was not bounded"

    log = worker.log_path.read_text(errors="replace")
    assert log.count(f"ignoring peer {OUTSIDE!r}") == 1
    assert "SALESLEDGER_PEER_BODY_MAX" in log and "answered 302" in log
    assert "without a valid signature" in log and "dropped the rep-activity partials" in log
    refused = worker.get("/v1/internal/partials/rep-activity")
    assert refused.status_code == 401 and refused.json()["reason"] == "unauthorized"
    for text in (log, refused.text, worker.get("/metrics").text):
        assert secret not in text
