"""``up``, ``down`` and ``status``: the rules of the local broker, put together from the parts.

* ``up`` never starts anything when a broker already answers at ``kafka_bootstrap_servers``: that
  broker (a developer's own, CI's, or one started earlier) is used as is and reported as such.
* It only ever starts a broker for a loopback bootstrap address.
* ``down`` only stops the broker *we* started, known by the pid file in ``kafka_data_dir``;
  an external broker is never touched.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from services.broker.base import PID_FILE, POLL_INTERVAL, SERVER_PROPERTIES, BrokerError, data_dir, locked
from services.broker.grants import admin_access, grant
from services.broker.jars import ensure_jars
from services.broker.jvm import find_java
from services.broker.logs import failure_report
from services.broker.probe import check_ports_free, probe
from services.broker.process import pid_alive, read_pid, spawn, stop_pid
from services.broker.properties import local_listener_host, server_properties
from services.broker.storage import format_storage, prepare_credentials, write_properties
from services.db import private_dir
from services.kafka_access import KafkaAccess, kafka_access
from services.settings import Settings


@dataclass(frozen=True)
class BrokerStatus:
    """What answers at the bootstrap servers, and whether it is the broker this module started.

    ``reachable`` means a metadata request was answered with at least one live broker.
    ``pid`` is set only when our pid file names a live broker process (ours); a reachable broker
    without it is someone else's and is never stopped by ``down``.
    """

    bootstrap_servers: str
    reachable: bool
    pid: int | None = None
    cluster_id: str | None = None
    #: True only in the value returned by the ``up`` call that started the broker.
    started: bool = False
    #: Seconds from spawning the JVM to the first answered metadata request (when ``started``).
    start_seconds: float | None = None

    @property
    def ours(self) -> bool:
        """Whether the broker process was started by this module (pid file, process alive)."""
        return self.pid is not None

    @property
    def state(self) -> str:
        """One word for people and logs: ``local``, ``external``, ``unhealthy`` or ``down``."""
        if self.reachable:
            return "local" if self.ours else "external"
        return "unhealthy" if self.ours else "down"

    def describe(self) -> str:
        """A one-line summary for the CLI."""
        text = f"kafka at {self.bootstrap_servers}: {self.state}"
        if self.state == "external":
            text += " (existing broker, not managed here)"
        if self.pid is not None:
            text += f", pid {self.pid}"
        if self.cluster_id:
            text += f", cluster {self.cluster_id}"
        if self.start_seconds is not None:
            text += f", started in {self.start_seconds:.1f}s"
        return text


def probe_access(settings: Settings) -> KafkaAccess:
    """Who probes the broker: our local broker's admin when this machine holds its password (it
    exists from the format on, where a newly configured worker user may not yet), else this
    process's own principal."""
    return admin_access(settings) or kafka_access(settings)


def status(settings: Settings) -> BrokerStatus:
    """Whether a broker answers at the bootstrap servers, and whether it is ours. Takes at most
    a few seconds (short probe timeouts), and changes nothing but a stale pid file."""
    cluster_id = probe(settings.kafka_bootstrap_servers, access=probe_access(settings))
    return BrokerStatus(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        reachable=cluster_id is not None,
        pid=read_pid(data_dir(settings)),
        cluster_id=cluster_id,
    )


def _wait_ready(settings: Settings, pid: int, started_at: float) -> str:
    """Poll until the broker answers a metadata request; return its cluster id.

    Raises (after stopping it) if the process dies or ``kafka_start_timeout`` passes, with the
    tail of its log, which is where the reason is (port in use, bad config, ...).
    """
    deadline = started_at + settings.kafka_start_timeout
    while True:
        if not pid_alive(pid):
            (data_dir(settings) / PID_FILE).unlink(missing_ok=True)
            raise BrokerError(f"kafka broker exited during start-up:\n{failure_report(settings)}")
        cluster_id = probe(settings.kafka_bootstrap_servers, timeout=1.0, access=probe_access(settings))
        if cluster_id is not None:
            return cluster_id
        if time.monotonic() > deadline:
            stop_pid(pid, data_dir(settings))
            raise BrokerError(
                f"kafka broker did not answer at {settings.kafka_bootstrap_servers} within "
                f"{settings.kafka_start_timeout:.0f}s (stopped it):\n{failure_report(settings)}"
            )
        time.sleep(POLL_INTERVAL)


def up(settings: Settings) -> BrokerStatus:
    """Make sure a broker answers at ``kafka_bootstrap_servers``, starting a local one if needed.

    If one already answers (external, or ours from an earlier call) nothing is started. If ours
    is still starting (pid alive, not answering yet), it is waited for rather than doubled.
    Otherwise, for a loopback address only: fetch jars, write server.properties, format storage
    on first use, spawn the JVM, and wait until it answers (raising ``BrokerError`` with the
    tail of its log if it dies or times out).
    """
    current = status(settings)
    if current.reachable:
        grant(settings)  # our secured broker: the users and ACLs of these settings (else nothing)
        return current
    host, port = local_listener_host(settings)
    data = data_dir(settings)
    with locked(data / ".up.lock"):
        pid = read_pid(data)
        spawned = pid is None
        if spawned:
            current = status(settings)  # someone may have started one while we waited
            if current.reachable:
                grant(settings)
                return current
            check_ports_free(host, port, settings.kafka_controller_port)
            java = find_java()
            lib = ensure_jars(settings)
            private_dir(data, tighten=True)  # server.properties and credentials.json are secrets
            (data / "logs").mkdir(exist_ok=True)
            props = server_properties(settings, host, port, prepare_credentials(settings))
            write_properties(data / SERVER_PROPERTIES, props)
            format_storage(settings, java, lib)
            started_at = time.monotonic()
            pid = spawn(java, lib, settings).pid
        else:  # ours, still starting (another `up` spawned it): wait for it, do not double it
            started_at = time.monotonic()
        assert pid is not None
        cluster_id = _wait_ready(settings, pid, started_at)
        grant(settings)
        return BrokerStatus(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            reachable=True,
            pid=pid,
            cluster_id=cluster_id,
            started=spawned,
            start_seconds=round(time.monotonic() - started_at, 2) if spawned else None,
        )


def down(settings: Settings) -> bool:
    """Stop the broker this module started (known by its pid file); return whether one was
    stopped. An external broker, or nothing at all, is left alone (returns False)."""
    data = data_dir(settings)
    pid = read_pid(data)
    if pid is None:
        return False
    stop_pid(pid, data)
    return True
