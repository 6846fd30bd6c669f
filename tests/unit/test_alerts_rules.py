"""The alert rules (deploy/prometheus/alerts.yml) are valid and behave on recorded series: run by the
real ``promtool`` that `make test` installs (Debian's ``prometheus`` package)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.prometheus import binary

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
RULE_TESTS = sorted((ROOT / "deploy" / "prometheus" / "tests").glob("*.yml"))
OPERATIONS = ROOT / "docs" / "operations.md"
ASKED = {  # issue 16: the alerts an operator needs
    "SalesledgerWorkerDown",
    "SalesledgerConsumerLagGrowing",
    "SalesledgerDeadLetterRateHigh",
    "SalesledgerRelayBehind",
    "SalesledgerProjectionLatencyHigh",
    "SalesledgerChangelogWritesFailing",
    "SalesledgerBrokerUnreachable",  # on issue 15's salesledger_broker_connected
}


def alerts() -> list[dict[str, object]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([binary("promtool"), *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_promtool_checks_the_rules() -> None:
    result = promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alerts())} rules found" in result.stdout


def test_every_alert_fires_and_stays_quiet_on_its_recorded_series() -> None:
    assert RULE_TESTS, "no rule test files under deploy/prometheus/tests/"
    result = promtool("test", "rules", *map(str, RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    tested = "\n".join(path.read_text() for path in RULE_TESTS)
    for name in ASKED:
        assert f"alertname: {name}\n        exp_alerts: []" in tested, f"{name}: no case where it stays quiet"
        assert f"alertname: {name}\n        exp_alerts:\n          - exp_labels" in tested, (
            f"{name}: never fires"
        )


def test_the_asked_alerts_exist_each_with_a_severity_and_a_runbook_section() -> None:
    rules = {str(rule["alert"]): rule for rule in alerts()}
    assert set(rules) >= ASKED, ASKED - set(rules)
    runbook = OPERATIONS.read_text()
    for name, rule in rules.items():
        assert rule["labels"]["severity"] in ("warning", "critical")  # type: ignore[index]
        assert rule["annotations"]["runbook_url"] == f"docs/operations.md#{name.lower()}"  # type: ignore[index]
        assert f"### {name}\n" in runbook, f"docs/operations.md has no section for {name}"
