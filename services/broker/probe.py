"""Is a Kafka broker answering, and are the ports a local one needs free? Network checks only.

The probes are short and quiet on purpose: ``status`` must answer at once, ``up`` polls them
while the broker starts, and a refused connection is the normal answer, not an error to log.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Coroutine
from typing import Any, TypeVar

from services.broker.base import BrokerError
from services.broker.properties import parse_servers
from services.kafka_access import KafkaAccess

T = TypeVar("T")

#: How long one reachability probe may take. Short, because ``status`` must answer at once and
#: ``up`` polls it while the broker starts.
PROBE_TIMEOUT = 2.0


def tcp_open(host: str, port: int, timeout: float) -> bool:
    """Cheap pre-check: anything listening? Avoids aiokafka's connection-error log lines."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


async def _metadata_probe(host: str, port: int, timeout: float, security: dict[str, Any]) -> str | None:
    """Send one metadata request; return the cluster id if a live broker answered, else None.

    Uses aiokafka's connection directly (ApiVersions, then Metadata with no topics) rather than a
    full client: no background tasks, no retries, no error logging, and a hard time limit.
    """
    from aiokafka.conn import create_conn
    from aiokafka.protocol.metadata import MetadataRequest

    timeout_ms = int(timeout * 1000)
    try:
        async with asyncio.timeout(timeout):
            conn = await create_conn(host, port, request_timeout_ms=timeout_ms, client_id="probe", **security)
            try:
                response = await conn.send(MetadataRequest([]))
            finally:
                conn.close()
    except Exception:  # any failure (refused, timeout, protocol error) means "no"
        return None
    if not response.brokers:  # answering, but not yet registered and unfenced
        return None
    return getattr(response, "cluster_id", None) or "?"


def probe(servers: str, timeout: float = PROBE_TIMEOUT, access: KafkaAccess | None = None) -> str | None:
    """Whether a broker answers at any of ``servers``: its cluster id, or None.

    ``access`` authenticates the probe (a SASL listener answers nothing else); a broker that
    refuses those credentials counts as not answering.

    Synchronous (it runs its own event loop in a worker thread when called from async code),
    so the CLI, fixtures and ``up`` can all use it.
    """
    for host, port in parse_servers(servers):
        if not tcp_open(host, port, timeout):
            continue
        security = access.security_options() if access is not None else {}
        cluster_id = run_coro(_metadata_probe(host, port, timeout, security))
        if cluster_id is not None:
            return cluster_id
    return None


def run_coro(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion, also when the caller already has a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def check_ports_free(host: str, port: int, controller_port: int) -> None:
    """Fail early, and say which setting to change, when a port the broker needs is taken
    (otherwise the JVM starts, then dies with a BindException deep in its log)."""
    if tcp_open(host, port, PROBE_TIMEOUT):
        raise BrokerError(
            f"{host}:{port} is in use by something that does not answer as a Kafka broker (or "
            "refuses our credentials: SALESLEDGER_KAFKA_SECURITY_PROTOCOL, _USERNAME, _PASSWORD); "
            "stop it or set SALESLEDGER_KAFKA_BOOTSTRAP_SERVERS to a free loopback port"
        )
    if tcp_open(host, controller_port, PROBE_TIMEOUT):
        raise BrokerError(
            f"controller port {host}:{controller_port} is in use; stop what listens there "
            "or set SALESLEDGER_KAFKA_CONTROLLER_PORT to a free port"
        )
