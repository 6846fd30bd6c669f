"""Faust's own sensor numbers under Prometheus naming practice, served on ``/metrics``.

Faust ships a Prometheus sensor (`faust.sensors.prometheus`), but its names break the practice the
rest of ``/metrics`` follows (issue 16): latencies in milliseconds with no unit suffix
(``..._http_latency``), counters without ``_total``, a misspelt ``..._offset_commited``, a gauge named
``..._total_rebalances`` that goes up and down, and an unbounded ``metrics_by_name``. Its HTTP and
rebalance latencies also measure the wrong interval (the time since the request *ended*). This
sensor keeps Faust's hooks (the `Monitor` base class still keeps its in-memory statistics) and
records what an operator needs, in seconds and with bounded labels: the topic (ours, a handful),
the partition (``topic_partitions``), the HTTP status, the table name and an outcome.
"""

from __future__ import annotations

from typing import Any, cast

import faust
from aiohttp.web import Response
from faust import web
from faust.sensors.monitor import Monitor, TPOffsetMapping
from faust.types import TP, AppT, CollectionT, Message, PendingMessage, RecordMetadata
from faust.types.assignor import PartitionAssignorT
from faust.types.transports import ConsumerT, ProducerT
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

from services.metrics import REGISTRY

PREFIX = "salesledger_faust"
SECONDS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

MESSAGES_RECEIVED = Counter(
    f"{PREFIX}_messages_received_total",
    "Messages Faust's consumer delivered, per topic.",
    ["topic"],
    registry=REGISTRY,
)
MESSAGES_SENT = Counter(
    f"{PREFIX}_messages_sent_total",
    "Messages sent through Faust's producer, per topic.",
    ["topic"],
    registry=REGISTRY,
)
SEND_ERRORS = Counter(
    f"{PREFIX}_send_errors_total", "Sends through Faust's producer that failed.", registry=REGISTRY
)
SEND_LATENCY = Histogram(
    f"{PREFIX}_send_latency_seconds",
    "Time from a send to its acknowledgement.",
    registry=REGISTRY,
    buckets=SECONDS,
)
COMMIT_LATENCY = Histogram(
    f"{PREFIX}_commit_latency_seconds", "Time an offset commit took.", registry=REGISTRY, buckets=SECONDS
)
COMMITTED_OFFSET = Gauge(
    f"{PREFIX}_committed_offset",
    "Last offset Faust committed, per topic and partition.",
    ["topic", "partition"],
    registry=REGISTRY,
)
END_OFFSET = Gauge(
    f"{PREFIX}_end_offset",
    "End offset (high water) of a partition this worker reads, per topic and partition.",
    ["topic", "partition"],
    registry=REGISTRY,
)
REBALANCES = Counter(
    f"{PREFIX}_rebalances_total", "Consumer group rebalances this worker took part in.", registry=REGISTRY
)
REBALANCING = Gauge(
    f"{PREFIX}_rebalancing",
    "1 while a rebalance (including table recovery) is in progress, else 0.",
    registry=REGISTRY,
)
REBALANCE_DURATION = Histogram(
    f"{PREFIX}_rebalance_duration_seconds",
    "Time from a rebalance's start to its end, recovery included.",
    registry=REGISTRY,
    buckets=SECONDS,
)
ASSIGNMENTS = Counter(
    f"{PREFIX}_assignments_total",
    "Partition assignments by outcome (completed, error).",
    ["outcome"],
    registry=REGISTRY,
)
ASSIGNMENT_DURATION = Histogram(
    f"{PREFIX}_assignment_duration_seconds",
    "Time the partition assignor took.",
    registry=REGISTRY,
    buckets=SECONDS,
)
TABLE_OPERATIONS = Counter(
    f"{PREFIX}_table_operations_total",
    "Faust table operations by table and operation (get, set, delete).",
    ["table", "operation"],
    registry=REGISTRY,
)
HTTP_RESPONSES = Counter(
    f"{PREFIX}_http_responses_total", "HTTP responses by status code.", ["code"], registry=REGISTRY
)
HTTP_DURATION = Histogram(
    f"{PREFIX}_http_request_duration_seconds",
    "Time from a request's arrival to its response.",
    registry=REGISTRY,
    buckets=SECONDS,
)


class Sensor(Monitor):
    """Faust's monitor hooks, recorded into our registry (the base class keeps its own statistics)."""

    def on_message_in(self, tp: TP, offset: int, message: Message) -> None:
        super().on_message_in(tp, offset, message)
        MESSAGES_RECEIVED.labels(tp.topic).inc()

    def on_send_initiated(
        self, producer: ProducerT, topic: str, message: PendingMessage, keysize: int, valsize: int
    ) -> Any:
        MESSAGES_SENT.labels(topic).inc()
        return super().on_send_initiated(producer, topic, message, keysize, valsize)

    def on_send_completed(self, producer: ProducerT, state: Any, metadata: RecordMetadata) -> None:
        super().on_send_completed(producer, state, metadata)
        SEND_LATENCY.observe(self.secs_since(cast(float, state)))

    def on_send_error(self, producer: ProducerT, exc: BaseException, state: Any) -> None:
        super().on_send_error(producer, exc, state)
        SEND_ERRORS.inc()

    def on_commit_completed(self, consumer: ConsumerT, state: Any) -> None:
        super().on_commit_completed(consumer, state)
        COMMIT_LATENCY.observe(self.secs_since(cast(float, state)))

    def on_tp_commit(self, tp_offsets: TPOffsetMapping) -> None:
        super().on_tp_commit(tp_offsets)
        for tp, offset in tp_offsets.items():
            COMMITTED_OFFSET.labels(tp.topic, str(tp.partition)).set(offset)

    def track_tp_end_offset(self, tp: TP, offset: int) -> None:
        super().track_tp_end_offset(tp, offset)
        END_OFFSET.labels(tp.topic, str(tp.partition)).set(offset)

    def on_table_get(self, table: CollectionT, key: Any) -> None:
        super().on_table_get(table, key)
        TABLE_OPERATIONS.labels(table.name, "get").inc()

    def on_table_set(self, table: CollectionT, key: Any, value: Any) -> None:
        super().on_table_set(table, key, value)
        TABLE_OPERATIONS.labels(table.name, "set").inc()

    def on_table_del(self, table: CollectionT, key: Any) -> None:
        super().on_table_del(table, key)
        TABLE_OPERATIONS.labels(table.name, "delete").inc()

    def on_assignment_completed(self, assignor: PartitionAssignorT, state: dict[str, Any]) -> None:
        super().on_assignment_completed(assignor, state)
        ASSIGNMENTS.labels("completed").inc()
        ASSIGNMENT_DURATION.observe(self.secs_since(state["time_start"]))

    def on_assignment_error(
        self, assignor: PartitionAssignorT, state: dict[str, Any], exc: BaseException
    ) -> None:
        super().on_assignment_error(assignor, state, exc)
        ASSIGNMENTS.labels("error").inc()
        ASSIGNMENT_DURATION.observe(self.secs_since(state["time_start"]))

    def on_rebalance_start(self, app: AppT) -> dict[str, Any]:
        state = super().on_rebalance_start(app)
        REBALANCES.inc()
        REBALANCING.set(1)
        # A partition this worker no longer reads must not keep reporting its last offsets.
        COMMITTED_OFFSET.clear()
        END_OFFSET.clear()
        return state

    def on_rebalance_end(self, app: AppT, state: dict[str, Any]) -> None:
        super().on_rebalance_end(app, state)
        REBALANCING.set(0)
        REBALANCE_DURATION.observe(state["latency_end"])

    def on_web_request_end(
        self,
        app: AppT,
        request: web.Request,
        response: web.Response | None,
        state: dict[str, Any],
        *,
        view: web.View | None = None,
    ) -> None:
        super().on_web_request_end(app, request, response, state, view=view)
        HTTP_RESPONSES.labels(str(int(state["status_code"]))).inc()
        HTTP_DURATION.observe(state["latency_end"])


def install_sensor(app: faust.App, pattern: str = "/metrics") -> None:
    """Record Faust's numbers with `Sensor` and serve the whole registry on ``pattern``."""
    app.monitor = Sensor()
    REBALANCING.set(0)

    @app.page(pattern)
    async def metrics(self: web.View, request: web.Request) -> web.Response:
        body = generate_latest(REGISTRY)
        return cast(web.Response, Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST}))
