"""The checked-in Grafana dashboards are exactly what deploy/dashboards.py (grafanalib) generates,
and docker-compose provisions every one of them."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from deploy import dashboards

ROOT = Path(__file__).resolve().parents[2]


def test_the_checked_in_json_is_the_generated_json() -> None:
    generated = dashboards.rendered()
    on_disk = {path.name: path.read_text() for path in dashboards.OUT.glob("*.json")}
    assert set(on_disk) == set(generated), "run: .venv/bin/python -m deploy.dashboards"
    for name, text in generated.items():
        assert on_disk[name] == text, f"{name} is stale: run .venv/bin/python -m deploy.dashboards"


def test_every_panel_has_a_query_on_the_provisioned_data_source() -> None:
    for text in dashboards.rendered().values():
        board = json.loads(text)
        assert board["panels"], board["title"]
        for panel in board["panels"]:
            assert panel["datasource"] == dashboards.DATASOURCE
            assert panel["targets"] and all(t["expr"] for t in panel["targets"]), panel["title"]


def test_compose_provisions_grafana_with_the_dashboards_and_prometheus_with_alertmanager() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    mounts = " ".join(compose["grafana"]["volumes"])
    assert "./deploy/grafana/dashboards:" in mounts and "./deploy/grafana/provisioning:" in mounts
    sources = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text())
    assert [s["name"] for s in sources["datasources"]] == [dashboards.DATASOURCE]
    scrape = yaml.safe_load((ROOT / "services" / "prometheus.yml").read_text())
    assert scrape["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["alertmanager:9093"]
    assert "/etc/prometheus/alerts.yml" in scrape["rule_files"]
    assert "alertmanager" in compose
