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
    assert f"127.0.0.1:{port}:{port}" in worker["ports"]
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


def published_ports(service: dict[str, Any]) -> list[tuple[str | None, str]]:
    """(host address or None for every interface, the rest) of each published port, short or long form."""
    out: list[tuple[str | None, str]] = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            out.append((port.get("host_ip"), f"{port.get('published')}:{port.get('target')}"))
            continue
        parts = str(port).split(":")
        out.append(
            (":".join(parts[:-2]) or None, ":".join(parts[-2:])) if len(parts) >= 3 else (None, str(port))
        )
    return out


@pytest.mark.parametrize("name", sorted(COMPOSE["services"]))
def test_docker_compose_publishes_ports_on_loopback_only(name: str) -> None:
    """Issue 12: the worker's internal endpoints, /metrics, Faust's /router/ and /table/, and
    Prometheus were published on every interface."""
    for host, port in published_ports(COMPOSE["services"][name]):
        assert host == "127.0.0.1", f"{name} publishes {port} on every interface"


def test_only_the_api_and_prometheus_are_published_and_kafka_is_not() -> None:
    published = {name for name, svc in COMPOSE["services"].items() if svc.get("ports")}
    assert published == {"worker", "prometheus"}


def _uid(user: str) -> str:
    return user.split(":", 1)[0]


@pytest.mark.parametrize("name", sorted(OURS))
def test_docker_compose_runs_our_services_as_a_non_root_user(name: str) -> None:
    """Issue 12: the containers ran as root."""
    user = str(OURS[name].get("user", ""))
    assert user and _uid(user) not in {"0", "root"}, f"{name} runs as root"
    dockerfile = (ROOT / "services" / "Dockerfile").read_text().splitlines()
    users = [line.split()[1] for line in dockerfile if line.startswith("USER ")]
    assert users and _uid(users[-1]) not in {"0", "root"}, "the image's last USER is root"
    assert _uid(users[-1]) == _uid(user)


def test_the_non_root_worker_keeps_its_database_and_state_in_the_volume_it_owns() -> None:
    worker = OURS["worker"]
    env = worker["environment"]
    volume_paths = [v.split(":")[1] for v in worker["volumes"]]
    assert env["SALESLEDGER_DATA_DIR"] in volume_paths
    database = Settings(database_url=env["SALESLEDGER_DATABASE_URL"]).database_path
    assert database.is_absolute() and database.parent == Path(env["SALESLEDGER_DATA_DIR"])
    dockerfile = (ROOT / "services" / "Dockerfile").read_text()
    assert f"chown 10001:10001 {env['SALESLEDGER_DATA_DIR']}" in dockerfile


def test_prometheus_does_not_run_as_root() -> None:
    user = str(COMPOSE["services"]["prometheus"].get("user", ""))
    assert user and _uid(user) not in {"0", "root"}


def test_compose_kafka_authenticates_every_listener_and_denies_what_no_acl_allows() -> None:
    kafka_env = COMPOSE["services"]["kafka"]["environment"]
    assert (
        kafka_env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]
        == "CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT"
    )
    assert (
        kafka_env["KAFKA_AUTHORIZER_CLASS_NAME"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    )
    assert kafka_env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert kafka_env["KAFKA_SUPER_USERS"] == "User:admin"
    assert "PLAINTEXT://" not in kafka_env["KAFKA_LISTENERS"].replace("SASL_PLAINTEXT://", "")


@pytest.mark.parametrize("name", sorted(OURS))
def test_our_services_connect_with_sasl_as_the_worker_principal(name: str) -> None:
    env: dict[str, str] = OURS[name]["environment"]
    assert env["SALESLEDGER_KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
    assert env["SALESLEDGER_KAFKA_USERNAME"] == "worker"
    assert env["SALESLEDGER_KAFKA_PASSWORD"].startswith(
        "${KAFKA_WORKER_PASSWORD:?"
    )  # from .env, never written here


def test_compose_kafka_setup_creates_every_user_and_exactly_the_acls_the_worker_settings_need() -> None:
    from services.broker.acls import acl_commands, users

    env: dict[str, str] = OURS["worker"]["environment"]
    settings = Settings(**{key.removeprefix(ENV_PREFIX).lower(): value for key, value in env.items()})
    script = COMPOSE["services"]["kafka-setup"]["command"][0]
    granted = sorted(
        line.removeprefix("acl ") for line in script.splitlines() if line.startswith("acl --add")
    )
    assert granted == sorted(acl_commands(settings))
    created = {line.split()[1] for line in script.splitlines() if line.startswith("user ")}
    assert created == set(users(settings)) - {settings.kafka_admin_username}  # the admin logs in with PLAIN
    assert OURS["topics"]["depends_on"] == {"kafka-setup": {"condition": "service_completed_successfully"}}
