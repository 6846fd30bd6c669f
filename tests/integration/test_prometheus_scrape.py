"""A real Prometheus server scrapes two real workers through a simulated history (issue 16).

The workers and the server are started as an operator would run them (Debian's ``prometheus``
binary, our alert rules loaded); every question is asked over Prometheus's HTTP API. The Kafka
broker is not scraped: Apache Kafka exposes its metrics over JMX only, and this repository runs no
JMX exporter (docs/operations.md says so); its view of lag reaches Prometheus through
``salesledger_consumer_lag``.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from deploy import dashboards
from events import serialize_event
from events.parse import parse_document
from projections import org, pipeline
from projections.periods import period_key
from sales.process import load_process
from services.gauges.business import won_this_quarter
from services.kafka_access import aiokafka_options
from services.settings import Settings
from services.simulator import simulate
from services.topics import ensure_topics
from tests.conftest import worker_settings
from tests.prometheus import PrometheusServer, binary
from tests.samples import call_logged, sample_event
from tests.stories import won_deal
from tests.support import ROOT, WorkerProcess, eventually

pytestmark = pytest.mark.integration

Pair = tuple[WorkerProcess, WorkerProcess]
WEEKS = 9
"""The simulated history: nine weeks ending a week before today, so this quarter's business gauges
(deals won, commission) have something to show on most days of the year."""


def documented_metrics() -> list[str]:
    """Every metric docs/operations.md's metric tables name (rows that start with a metric name)."""
    text = (ROOT / "docs" / "operations.md").read_text()
    return re.findall(r"^\| `(salesledger_[a-z_]+)`", text, flags=re.MULTILINE)


def history() -> list[dict[str, object]]:
    """The simulator's weeks, then its last hour: rep-003 (an account executive on a plan) wins a
    deal, one step every five minutes, and a payout of this quarter's first month is approved (the
    simulator approves none), so this quarter's won and commission gauges have numbers."""
    start = date.today() - timedelta(weeks=WEEKS + 1)
    documents = list(simulate(seed=16, reps=10, leads=120, start=start, weeks=WEEKS))
    now = datetime.now(UTC).replace(microsecond=0)
    rep = "rep-003"
    steps = won_deal(rep, "lead-prom-hour", "deal-prom-hour", "5000")
    for n, (type_name, data) in enumerate(steps):
        at = (now - timedelta(minutes=60 - 5 * n)).isoformat()
        documents.append(json.loads(serialize_event(sample_event(type_name, at, f"prom-hour-{n}", **data))))
    first = date(now.year, 3 * ((now.month - 1) // 3) + 1, 1)
    end = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    payout = {
        "payout_id": "payout-prom-hour",
        "rep_id": rep,
        "period": {"kind": "month", "start": first.isoformat(), "end": end.isoformat()},
        "amount": {"amount": "250.00", "currency": "EUR"},
        "approved_by": "rep-001",
        "statement_id": "stmt-prom-hour",
    }
    approved = sample_event("PayoutApproved", now.isoformat(), "prom-hour-payout", **payout)
    documents.append(json.loads(serialize_event(approved)) | {"subject": rep})
    return documents


@pytest.fixture(scope="module")
def pair(
    kafka: Settings, api_keys: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    """Two workers of one group on their own topics and event store, gauges refreshed every second."""
    tmp = tmp_path_factory.mktemp("prometheus-pair")
    group = worker_settings(kafka, tmp, "prom").model_copy(
        update={
            "require_api_keys": False,
            "topic_prefix": f"{kafka.topic_prefix}-prom",
            "database_url": f"sqlite:///{tmp / 'prom.sqlite3'}",
            "gauge_refresh_seconds": 1.0,
        }
    )
    asyncio.run(ensure_topics(group))
    workers = []
    for name in ("a", "b"):
        folder: Path = tmp_path_factory.mktemp(f"prom-worker-{name}")
        settings = group.model_copy(
            update={"web_port": worker_settings(kafka, folder, name).web_port, "data_dir": folder / "faust"}
        )
        workers.append(WorkerProcess(settings, folder / "worker.log", api_keys).start())
    try:
        yield workers[0], workers[1]
    finally:
        for worker in workers:
            worker.stop()


@pytest.fixture(scope="module")
def prometheus(pair: Pair, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    targets = [w.url.removeprefix("http://") for w in pair]
    server = PrometheusServer(tmp_path_factory.mktemp("prometheus"), {"salesledger-worker": targets}).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def simulated(pair: Pair, prometheus: PrometheusServer) -> list[dict[str, object]]:
    """The simulated history published through the first worker, in time order, plus one message
    that is not JSON on the inbound topic (a dead letter), a duplicate and an invalid event;
    returned once the relay has it all."""
    first, _ = pair
    documents = history()
    for start in range(0, len(documents), 200):
        body = first.post("/v1/events:batch", content=json.dumps(documents[start : start + 200])).json()
        assert body["rejected"] == 0, [r for r in body["results"] if r["status"] == "rejected"][:3]
    asyncio.run(send_raw(first.settings, b"{not json"))
    assert first.post("/v1/events", content=json.dumps(documents[0])).json()["status"] == "duplicate"
    assert first.post("/v1/events", content=b'{"specversion": "1.0"}').status_code == 422
    eventually(
        lambda: prometheus.query("sum(salesledger_relay_events_total)"),
        until=lambda r: r and float(r[0]["value"][1]) >= len(documents),
        timeout=180,
    )
    return documents


async def send_raw(settings: Settings, value: bytes) -> None:
    """One message onto the publishers' inbound topic, as the worker principal (which owns every
    topic of the prefix; a publisher's ACL names the run's base prefix only)."""
    topic = next(iter(settings.publisher_topics.values()), settings.topic_inbound)
    producer = AIOKafkaProducer(**aiokafka_options(settings))
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=b"lead-garbled")
    finally:
        await producer.stop()


def total(server: PrometheusServer, promql: str) -> float:
    result = server.query(promql)
    return sum(float(sample["value"][1]) for sample in result)


def test_every_worker_metrics_page_passes_promtool(pair: Pair, simulated: list[dict[str, object]]) -> None:
    for worker in pair:
        text = eventually(lambda w=worker: w.get("/metrics").text, until=lambda t: "salesledger_faust_" in t)
        result = subprocess.run(
            [binary("promtool"), "check", "metrics"], input=text, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0 and not result.stdout.strip() and not result.stderr.strip(), (
            result.stdout + result.stderr
        )
        names = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
        assert not [n for n in names if n.endswith("_created") or "commited" in n or n.endswith("_ms")]


def test_prometheus_finds_every_documented_metric_with_sane_values(
    pair: Pair, prometheus: PrometheusServer, simulated: list[dict[str, object]]
) -> None:
    documented = documented_metrics()
    assert len(documented) >= 20, "docs/operations.md lists the metrics"

    def present(name: str) -> list[dict[str, object]]:
        return prometheus.query(f'{{__name__=~"{name}(_bucket|_count|_sum)?"}}')

    missing = eventually(
        lambda: [name for name in documented if not present(name)], until=lambda m: m == [], timeout=120
    )
    assert missing == []
    for name in documented:
        for sample in present(name):
            value = float(sample["value"][1])  # type: ignore[index]
            assert math.isfinite(value) and value >= 0, (name, sample)
            labels = set(sample["metric"]) - {"__name__", "instance", "job"}  # type: ignore[arg-type]
            assert not labels & {"rep_id", "rep", "deal_id", "deal", "lead_id", "id"}, (name, labels)

    assert total(prometheus, 'up{job="salesledger-worker"}') == 2
    assert total(prometheus, "sum(salesledger_events_accepted_total)") == len(simulated)
    letters = 'sum(salesledger_deadletter_total{stage="ingest", reason="not_json"})'
    assert eventually(lambda: total(prometheus, letters), until=lambda n: n > 0) == 1
    assert total(prometheus, "sum(salesledger_faust_http_responses_total)") > 0
    assert total(prometheus, "sum(salesledger_faust_rebalances_total)") >= 2  # one each, at least
    eventually(  # every worker has read the whole log: the lag settles at zero
        lambda: total(prometheus, "sum(salesledger_consumer_lag)"), until=lambda lag: lag == 0, timeout=120
    )


def test_the_business_gauges_are_exported_once_and_equal_the_pure_fold(
    pair: Pair, prometheus: PrometheusServer, simulated: list[dict[str, object]]
) -> None:
    first, _ = pair
    envelopes = [parse_document(d) for d in simulated]
    process = load_process(None)
    tz = first.settings.org_timezone
    state = org.fold(envelopes)
    deals = pipeline.deal_views(pipeline.fold(envelopes, process).values(), process)
    won = won_this_quarter(deals.values(), state, period_key("quarter", datetime.now(UTC), tz), tz)
    open_deals = sum(row["count"] for row in first.get("/v1/pipeline").json()["rows"])
    assert open_deals > 0

    def exported() -> tuple[float, float, float, dict[tuple[str, str], float]]:
        revenue = {
            (s["metric"]["currency"], s["metric"]["team"]): float(s["value"][1])
            for s in prometheus.query("salesledger_won_revenue")
        }
        return (
            total(prometheus, "count(count by (instance) (salesledger_pipeline_open_deals))"),
            total(prometheus, "sum(salesledger_pipeline_open_deals)"),
            total(prometheus, "sum(salesledger_deals_won)"),
            revenue,
        )

    expected_revenue = {key: float(amount) for key, (_, amount) in won.items()}
    answer = eventually(
        exported,
        until=lambda e: e == (1, open_deals, sum(n for n, _ in won.values()), expected_revenue),
        timeout=120,
    )
    assert answer[0] == 1  # one worker, the relay leader, exports them: a sum never counts twice
    assert sum(Decimal(str(v)) for v in answer[3].values()) >= 0
    assert answer[2] >= 1  # at least the last hour's deal
    assert total(prometheus, "sum(salesledger_attainment_reps)") > 0
    paid = eventually(lambda: total(prometheus, "sum(salesledger_commission_paid)"), until=lambda v: v > 0)
    assert paid == 250  # the one approved payout
    earned = eventually(
        lambda: total(prometheus, "sum(salesledger_commission_earned)"), until=lambda v: v > 0
    )
    assert earned > 0  # rep-003's plan pays on the deal won in the last hour


def test_the_alert_rules_are_loaded_and_none_fires_on_a_healthy_group(
    prometheus: PrometheusServer, simulated: list[dict[str, object]]
) -> None:
    groups = prometheus.api("rules")["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert len(rules) >= 6 and all(rule["health"] == "ok" for rule in rules), rules
    firing = [a for a in prometheus.api("alerts")["alerts"] if a["state"] == "firing"]
    assert firing == []


def test_a_late_event_is_counted_by_every_layer(pair: Pair, prometheus: PrometheusServer) -> None:
    """A live event after the history moves the accepted, relayed and projected counters."""
    first, _ = pair
    before = total(prometheus, "sum(salesledger_projection_events_total)")
    assert first.publish(call_logged("prom-late-1", rep_id="rep-prom")).status_code == 202
    eventually(
        lambda: total(prometheus, "sum(salesledger_projection_events_total)"),
        until=lambda after: after > before,
        timeout=60,
    )


def test_every_dashboard_panel_query_is_valid_promql_that_returns_data(
    prometheus: PrometheusServer, simulated: list[dict[str, object]]
) -> None:
    """Each query of the Grafana dashboards (deploy/dashboards.py), asked of the real server."""
    panels = list(dashboards.queries())
    assert len(panels) >= 15
    empty = eventually(
        lambda: [(uid, title, expr) for uid, title, expr in panels if not prometheus.query(expr)],
        until=lambda found: found == [],
        timeout=120,
    )
    assert empty == []
