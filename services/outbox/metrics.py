"""The gauges that say whether accepted events are reaching Kafka (issue 15, item 7).

Declared here, beside the relay that sets them, in the one registry `/metrics` serves
(`services.metrics.REGISTRY`). A campaign of faults found the trouble invisible: 150 s of broker
outage with nothing on `/metrics` saying that events were piling up in the store or that the
broker was gone. These three say it:

* ``salesledger_relay_backlog``: events recorded (answered 202) and not yet on the canonical log,
  refreshed every second by every worker that holds the write model, leader or not, so it keeps
  moving while the relay itself is stuck waiting on a broker;
* ``salesledger_relay_leading``: 1 on the worker whose relay holds the lease;
* ``salesledger_broker_connected``: 1 while a Kafka broker answers this worker's metadata probe.
"""

from __future__ import annotations

from prometheus_client import Gauge

from services.metrics import REGISTRY

RELAY_BACKLOG = Gauge(
    "salesledger_relay_backlog",
    "Events recorded in the event store (acknowledged) and not yet on the canonical log "
    "(counted up to 10000).",
    registry=REGISTRY,
)
RELAY_LEADING = Gauge(
    "salesledger_relay_leading",
    "1 when this worker's relay holds the lease and copies the store onto the log, else 0.",
    registry=REGISTRY,
)
BROKER_CONNECTED = Gauge(
    "salesledger_broker_connected",
    "1 when a Kafka broker answered this worker's last metadata probe, else 0.",
    registry=REGISTRY,
)
