"""What a worker knows about the road from its store to Kafka: the relay backlog and the broker.

Health and `/metrics` must not say "fine" while acknowledged events pile up in the store (issue 15,
items 2 and 7). The relay cannot report that itself: during a broker outage it is stuck inside a
send. So a separate loop, on every worker that holds the write model, leader or not, reads the
backlog from the store (the events after the relay's saved position, counted up to a cap),
asks the broker for its metadata, and writes a small file where the worker keeps its state, once a
second each, and keeps the answers for readiness (`problems`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from services.broker.probe import PROBE_TIMEOUT, tcp_open
from services.broker.properties import parse_servers
from services.kafka_access import KafkaAccess
from services.outbox.metrics import BROKER_CONNECTED, RELAY_BACKLOG
from services.outbox.relay import POSITION, Relay
from services.writemodel.outcomes import IntakeStore

if TYPE_CHECKING:
    from aiokafka.conn import AIOKafkaConnection

log = logging.getLogger(__name__)


@dataclass
class BrokerSeen:
    """When (monotonic) a broker last answered, and since when none has (None while one does)."""

    answered_at: float | None = None
    silent_since: float | None = None

    def answered(self, now: float) -> None:
        self.answered_at, self.silent_since = now, None

    def silent(self, now: float) -> None:
        if self.silent_since is None:
            self.silent_since = now

    def problem(self, now: float, grace: float) -> str | None:
        """Why the broker counts as unreachable (silent for over `grace` seconds), or None."""
        if self.silent_since is None or now - self.silent_since < grace:
            return None
        return f"no Kafka broker has answered for {now - self.silent_since:.0f} s"


class Watch:
    """Refreshes the backlog and broker gauges every ``every`` seconds until cancelled."""

    def __init__(
        self,
        store: IntakeStore | None,
        servers: str,
        kafka: KafkaAccess,
        directories: Sequence[Path] = (),
        every: float = 1.0,
    ) -> None:
        self.store, self.kafka, self.directories, self.every = store, kafka, directories, every
        self.servers = parse_servers(servers)
        self.broker = BrokerSeen(silent_since=time.monotonic())  # unknown until a probe answers
        self.backlog: int | None = None
        self.disk: str | None = None
        """Why a directory of the worker's state takes no write, or None."""
        self._conn: AIOKafkaConnection | None = None
        self._counted_at = 0.0

    def problems(self, grace: float = 5.0) -> list[str]:
        """What readiness must report: a broker silent past `grace`, a disk that takes no write."""
        found = [self.broker.problem(time.monotonic(), grace), self.disk]
        return [problem for problem in found if problem is not None]

    async def run(self) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(self.every)

    async def refresh(self) -> None:
        try:
            if self.store is not None and self._count_due(time.monotonic()):
                backlog = await asyncio.to_thread(backlog_of, self.store)
                self.backlog, self._counted_at = backlog, time.monotonic()
                RELAY_BACKLOG.set(backlog)
            self.disk = await asyncio.to_thread(unwritable, self.directories)
            await self._probe()
        except asyncio.CancelledError:
            raise
        except Exception:  # a gauge must never take the worker down; the next pass tries again
            log.exception("watching the relay backlog and the broker failed")

    def _count_due(self, now: float) -> bool:
        """Every pass, but only every `CAPPED_EVERY` seconds while the backlog is at its cap: a
        count of the cap reads that many events, which a worker on a broker outage can spare
        once in a while, not each second."""
        return self.backlog != BACKLOG_CAP or now - self._counted_at >= CAPPED_EVERY

    async def _probe(self) -> None:
        if await self._metadata_answered():
            self.broker.answered(time.monotonic())
            BROKER_CONNECTED.set(1)
        else:
            self.broker.silent(time.monotonic())
            BROKER_CONNECTED.set(0)

    async def _metadata_answered(self) -> bool:
        """One metadata request on a connection kept open between probes (a new one each second
        would authenticate, and log it, each second); reconnected when it breaks."""
        from aiokafka.protocol.metadata import MetadataRequest

        if self._conn is None or not self._conn.connected():
            self._close()
            self._conn = await self._connect()
        if self._conn is None:
            return False
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                response = await self._conn.send(MetadataRequest([]))
        except Exception:  # refused, timed out, closed: no broker answered
            self._close()
            return False
        return bool(response.brokers)

    async def _connect(self) -> AIOKafkaConnection | None:
        from aiokafka.conn import create_conn

        security = self.kafka.security_options()
        for host, port in self.servers:
            if not await asyncio.to_thread(tcp_open, host, port, PROBE_TIMEOUT):
                continue  # nothing listens: asking would only log aiokafka's connection errors
            try:
                async with asyncio.timeout(PROBE_TIMEOUT):
                    return await create_conn(
                        host,
                        port,
                        request_timeout_ms=int(PROBE_TIMEOUT * 1000),
                        client_id="salesledger-watch",
                        **security,
                    )
            except Exception:  # not a broker that answers us: try the next
                continue
        return None

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


BACKLOG_CAP = 10_000
"""The backlog is counted up to this many events (a larger one shows as this): counting means
reading them, and an alert needs "many", not how many."""
CAPPED_EVERY = 15.0
"""Seconds between counts while the backlog is at its cap."""


def backlog_of(store: IntakeStore, cap: int = BACKLOG_CAP) -> int:
    """Events recorded and not yet relayed (after the relay's position), up to `cap`.

    Counted, not subtracted: sequence numbers are the store's notification ids, which other records
    (each event's key, for one) share with the events, so their difference is no count of events."""
    position = store.position(POSITION)
    if store.last_seq() <= position:
        return 0
    return len(store.read_after(position, cap))


def road_problems(relay: Relay | None, watch: Watch | None) -> list[str]:
    """Readiness's share of the road to Kafka: a broker that answers, a disk that takes writes, and
    (on a worker that runs a relay) a relay leading here or known to lead on another worker."""
    problems = watch.problems() if watch is not None else []
    if relay is not None and not relay.leading and not relay.lease.held_elsewhere:
        problems.append("no relay leads: this worker could not take the lease and no other holds it")
    return problems


PROBE_BYTES = 4096


def unwritable(directories: Sequence[Path]) -> str | None:
    """The first of `directories` where a small file cannot be written and synced, and why; None
    when all take it (a full disk, a read-only remount, a lost volume)."""
    for directory in directories:
        probe = directory / ".salesledger-write-probe"
        try:
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, b"\0" * PROBE_BYTES)
                os.fsync(fd)
            finally:
                os.close(fd)
                probe.unlink(missing_ok=True)
        except OSError as exc:
            return f"{directory} takes no write ({exc.strerror or exc})"
    return None
