"""Who a worker is across its restarts: a stable default for ``SALESLEDGER_WORKER_INSTANCE_ID``.

A worker killed and started again used to come back as a stranger. Its consumer groups (Faust's,
the ingestor's, the projector's) waited for the dead member's session to time out
(``SALESLEDGER_CONSUMER_SESSION_TIMEOUT``, 20 s) before handing its partitions to anyone, the
restarted worker included: ~15 s after every restart with health 503, queries covering nothing and
events accepted but not yet folded (issue 15, item 3). With a static group instance id the group
recognises the same member at once and gives its partitions back without a rebalance; the relay's
own lease is a lock the kernel (SQLite) or the server (PostgreSQL) drops with its dead holder, so the
relay leads again as soon as the worker runs.

So every worker has an instance id: the one configured, or one derived from what makes it this
worker on this machine and nothing else: the host name, the HTTP port (two workers on one host
cannot share it) and the data directory (its RocksDB state). Derived again after a restart, it is
the same. Set the setting yourself where host names are not unique or ports are remapped (two
containers with one host name).

The price of static membership: a worker stopped for good (not restarted) keeps its partitions
until its session times out, as a killed one always did, because a static member does not leave
its group on a clean stop.
"""

from __future__ import annotations

import hashlib
import re
import socket
from pathlib import Path

from services.settings import Settings

_NOT_ALLOWED = re.compile(r"[^a-zA-Z0-9._-]+")
"""Kafka's group.instance.id allows what a topic name allows."""


def default_instance_id(host: str, port: int, data_dir: Path) -> str:
    """``<host>-<port>-<8 hex of the data directory's absolute path>``, Kafka-safe and short."""
    where = hashlib.sha256(str(data_dir.expanduser().absolute()).encode()).hexdigest()[:8]
    name = _NOT_ALLOWED.sub("-", host).strip("-")[:60] or "host"
    return f"{name}-{port}-{where}"


def with_instance_id(settings: Settings, host: str | None = None) -> Settings:
    """`settings` with ``worker_instance_id`` set: as configured, or `default_instance_id` here."""
    if settings.worker_instance_id:
        return settings
    derived = default_instance_id(host or socket.gethostname(), settings.web_port, settings.data_dir)
    return settings.model_copy(update={"worker_instance_id": derived})
