"""docker-compose.yml cannot be run here (no Docker engine), so it is checked against the code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from services.cli import build_parser
from services.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
OURS = {name: svc for name, svc in COMPOSE["services"].items() if "build" in svc}


def test_salesledger_services_exist() -> None:
    assert {"worker", "topics"} <= set(OURS)


@pytest.mark.parametrize("name", sorted(OURS))
def test_every_service_command_is_a_real_entry_point(name: str) -> None:
    command = OURS[name]["command"]
    assert command[0] == "salesledger"
    args = build_parser().parse_args(command[1:])  # exits (fails) on an unknown subcommand
    assert callable(args.handler)


@pytest.mark.parametrize("name", sorted(OURS))
def test_every_environment_variable_is_a_real_setting_with_a_valid_value(name: str) -> None:
    env: dict[str, str] = OURS[name]["environment"]
    fields = {f"{ENV_PREFIX}{field.upper()}" for field in Settings.model_fields}
    assert set(env) <= fields, set(env) - fields
    settings = Settings(**{key.removeprefix(ENV_PREFIX).lower(): value for key, value in env.items()})
    assert settings.kafka_bootstrap_servers == "kafka:9092"


def test_worker_port_matches_its_setting_and_prometheus_target() -> None:
    worker = OURS["worker"]
    port = worker["environment"]["SALESLEDGER_WEB_PORT"]
    assert f"{port}:{port}" in worker["ports"]
    scrape = yaml.safe_load((ROOT / "services" / "prometheus.yml").read_text())
    targets = [t for job in scrape["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]]
    assert f"worker:{port}" in targets


def test_kafka_listener_matches_the_bootstrap_servers_of_the_services() -> None:
    kafka_env = COMPOSE["services"]["kafka"]["environment"]
    assert "PLAINTEXT://kafka:9092" in kafka_env["KAFKA_ADVERTISED_LISTENERS"]
    assert COMPOSE["services"]["kafka"]["image"].startswith("apache/kafka:4.")


def test_the_image_copies_every_package_the_project_installs() -> None:
    import tomllib

    included = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    packages = {pattern.rstrip("*") for pattern in included["include"]}
    dockerfile = (ROOT / "services" / "Dockerfile").read_text()
    copied = {line.split()[1] for line in dockerfile.splitlines() if line.startswith("COPY ")}
    assert packages <= copied, f"the image lacks {sorted(packages - copied)}"
