"""Issue 12, "Load that one caller can impose": slow clients are timed out, connections capped.

A real worker with a 2 s header timeout (`SALESLEDGER_WEB_HEADER_TIMEOUT`) and a cap of 20
connections (`SALESLEDGER_WEB_MAX_CONNECTIONS`): a connection that never completes its request
head is closed within the timeout, a connection past the cap is answered 503 and closed, and the
worker answers again once connections are released.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.settings import Settings
from tests.conftest import worker_settings
from tests.support import WorkerProcess, eventually

pytestmark = pytest.mark.integration

HEADER_TIMEOUT = 2.0
CAP = 20


@pytest.fixture(scope="module")
def bounded(kafka: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    tmp: Path = tmp_path_factory.mktemp("bounded")
    settings = worker_settings(kafka, tmp, "slow-clients").model_copy(
        update={"web_header_timeout": HEADER_TIMEOUT, "web_max_connections": CAP}
    )
    process = WorkerProcess(settings, tmp / "worker.log")
    process.start()
    try:
        yield process
    finally:
        process.stop()


def connect(worker: WorkerProcess) -> socket.socket:
    return socket.create_connection((worker.settings.web_host, worker.settings.web_port), timeout=10)


def closed_after(sock: socket.socket, trickle: bool = False) -> float:
    """Seconds until the server closes ``sock`` (reads EOF or a reset); with ``trickle``, one byte
    of a never-ending header is sent every 0.2 s meanwhile."""
    started = time.monotonic()
    sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: worker\r\n")
    sock.settimeout(0.2)
    while time.monotonic() - started < 10:
        try:
            if sock.recv(4096) == b"":
                break
        except TimeoutError:
            if trickle:
                sock.sendall(b"X")
        except ConnectionResetError:
            break
    return time.monotonic() - started


def test_issue_12_a_connection_that_never_completes_its_headers_is_closed_within_the_header_timeout(
    bounded: WorkerProcess,
) -> None:
    with connect(bounded) as idle:
        waited = closed_after(idle)
    assert HEADER_TIMEOUT - 0.5 <= waited <= HEADER_TIMEOUT + 5, waited
    with connect(bounded) as slowloris:
        waited = closed_after(slowloris, trickle=True)
    assert waited <= HEADER_TIMEOUT + 5, f"a trickled header held the connection {waited:.1f} s"
    assert bounded.get("/v1/health").status_code == 200


def test_issue_12_connections_past_the_cap_are_answered_503_and_closed(bounded: WorkerProcess) -> None:
    held = [connect(bounded) for _ in range(CAP)]
    try:
        time.sleep(0.3)
        with connect(bounded) as extra:  # answered on connecting, before it sends anything
            answer = b""
            while chunk := extra.recv(4096):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 503"), answer[:200]
        assert b'"reason":"internal_error"' in answer.replace(b" ", b"")
    finally:
        for sock in held:
            sock.close()
    eventually(lambda: httpx.get(f"{bounded.url}/v1/health", timeout=2).status_code == 200, timeout=10)
