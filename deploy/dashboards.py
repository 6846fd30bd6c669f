"""Salesledger's Grafana dashboards, built with grafanalib (issue 16): run
``.venv/bin/python -m deploy.dashboards`` to write them into ``deploy/grafana/dashboards/``, where
docker-compose's Grafana provisions them from. The JSON is generated, never edited: a test fails
while the checked-in files differ from what this module builds, and another runs every panel's
query against a real Prometheus server scraping real workers.

Queries sum across workers where a number is the group's (business gauges are exported by the
relay leader alone, so a sum counts each deal once) and keep ``instance`` where the number is a
worker's own (lag, latency, rebalances).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from grafanalib._gen import DashboardEncoder
from grafanalib.core import Dashboard, GridPos, Target, Time, TimeSeries

DATASOURCE = "Prometheus"
"""The data source name the provisioning file (deploy/grafana/provisioning) gives Prometheus."""
OUT = Path(__file__).resolve().parent / "grafana" / "dashboards"


@dataclass(frozen=True)
class Chart:
    """One panel: a title, its unit (Grafana's unit ids) and its queries as (PromQL, legend)."""

    title: str
    unit: str
    queries: tuple[tuple[str, str], ...]


LATENCY = "sum by (le) (rate(salesledger_projection_latency_seconds_bucket[5m]))"
PROCESSING = (
    Chart(
        "Events in, per second",
        "reqps",
        (
            ("sum by (transport) (rate(salesledger_events_accepted_total[5m]))", "accepted {{transport}}"),
            ("sum by (reason) (rate(salesledger_events_rejected_total[5m]))", "rejected {{reason}}"),
            ("sum(rate(salesledger_events_duplicate_total[5m]))", "duplicate"),
        ),
    ),
    Chart(
        "Dead letters, per second",
        "reqps",
        (("sum by (stage, reason) (rate(salesledger_deadletter_total[5m]))", "{{stage}} {{reason}}"),),
    ),
    Chart(
        "Relay and projection, per second",
        "reqps",
        (
            ("sum(rate(salesledger_relay_events_total[5m]))", "relayed"),
            ("sum by (outcome) (rate(salesledger_projection_events_total[5m]))", "projected {{outcome}}"),
        ),
    ),
    Chart(
        "Consumer lag (messages)",
        "short",
        (("sum by (instance, topic) (salesledger_consumer_lag)", "{{instance}} {{topic}}"),),
    ),
    Chart(
        "Relay backlog and broker connectivity",
        "short",
        (
            ("max(salesledger_relay_backlog)", "events not yet on the log"),
            ("sum(salesledger_relay_leading)", "relay leaders"),
            ("sum by (instance) (salesledger_broker_connected)", "broker reached {{instance}}"),
        ),
    ),
    Chart(
        "Projection latency",
        "s",
        tuple((f"histogram_quantile({q}, {LATENCY})", f"p{round(q * 100)}") for q in (0.5, 0.99)),
    ),
    Chart(
        "Rebalances and workers up",
        "short",
        (
            (
                "sum by (instance) (increase(salesledger_faust_rebalances_total[15m]))",
                "rebalances {{instance}}",
            ),
            ('sum(up{job=~"salesledger.*"})', "workers up"),
        ),
    ),
    Chart(
        "HTTP responses, per second",
        "reqps",
        (("sum by (code) (rate(salesledger_faust_http_responses_total[5m]))", "{{code}}"),),
    ),
    Chart(
        "Projector failing for",
        "s",
        (("max by (instance) (salesledger_projection_failing_seconds)", "{{instance}}"),),
    ),
)
PIPELINE = (
    Chart(
        "Open deals by stage", "short", (("sum by (stage) (salesledger_pipeline_open_deals)", "{{stage}}"),)
    ),
    Chart(
        "Open value by stage",
        "short",
        (("sum by (stage, currency) (salesledger_pipeline_open_value)", "{{stage}} {{currency}}"),),
    ),
    Chart(
        "Weighted pipeline",
        "short",
        (("sum by (currency) (salesledger_pipeline_weighted_value)", "{{currency}}"),),
    ),
    Chart(
        "Deals won this quarter",
        "short",
        (("sum by (team) (salesledger_deals_won)", "{{team}}"),),
    ),
    Chart(
        "Won revenue this quarter",
        "short",
        (("sum by (team, currency) (salesledger_won_revenue)", "{{team}} {{currency}}"),),
    ),
    Chart(
        "Quota attainment: reps per bucket",
        "short",
        (("sum by (bucket) (salesledger_attainment_reps)", "{{bucket}}"),),
    ),
)
INCENTIVES = (
    Chart(
        "Commission earned this quarter",
        "short",
        (("sum by (team, currency) (salesledger_commission_earned)", "{{team}} {{currency}}"),),
    ),
    Chart(
        "Commission paid (approved payouts)",
        "short",
        (("sum by (team, currency) (salesledger_commission_paid)", "{{team}} {{currency}}"),),
    ),
    Chart(
        "Earned and paid, all teams",
        "short",
        (
            ("sum by (currency) (salesledger_commission_earned)", "earned {{currency}}"),
            ("sum by (currency) (salesledger_commission_paid)", "paid {{currency}}"),
        ),
    ),
)
DASHBOARDS = {
    "salesledger-processing": ("Salesledger: processing health", PROCESSING),
    "salesledger-pipeline": ("Salesledger: pipeline and KPIs", PIPELINE),
    "salesledger-incentives": ("Salesledger: incentives", INCENTIVES),
}


def _panel(chart: Chart, index: int) -> TimeSeries:
    """Two panels a row, each 12 columns by 8 rows."""
    return TimeSeries(
        title=chart.title,
        dataSource=DATASOURCE,
        unit=chart.unit,
        targets=[
            Target(expr=expr, legendFormat=legend, refId=chr(ord("A") + n))
            for n, (expr, legend) in enumerate(chart.queries)
        ],
        gridPos=GridPos(h=8, w=12, x=12 * (index % 2), y=8 * (index // 2)),
    )


def dashboard(uid: str, title: str, charts: Sequence[Chart]) -> Dashboard:
    return Dashboard(
        title=title,
        uid=uid,
        tags=["salesledger"],
        time=Time("now-6h", "now"),
        panels=[_panel(chart, n) for n, chart in enumerate(charts)],
    ).auto_panel_ids()


def rendered() -> dict[str, str]:
    """Each dashboard's file name and JSON text, as checked in."""
    return {
        f"{uid}.json": json.dumps(
            dashboard(uid, title, charts).to_json_data(), cls=DashboardEncoder, indent=2
        )
        + "\n"
        for uid, (title, charts) in DASHBOARDS.items()
    }


def queries() -> Iterator[tuple[str, str, str]]:
    """(dashboard uid, panel title, PromQL) of every panel query."""
    for uid, (_, charts) in DASHBOARDS.items():
        for chart in charts:
            for expr, _ in chart.queries:
                yield uid, chart.title, expr


def main(out: Path = OUT) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, text in rendered().items():
        (out / name).write_text(text)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
