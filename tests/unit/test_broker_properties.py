"""The local broker's pure parts: its configuration, the address it may bind, its command lines.

No JVM, socket or Maven here: these are the rules that decide what ``up`` starts and how, checked
on their own (the integration tests start the real broker).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.broker import BrokerError, new_cluster_id, server_properties
from services.broker.jars import mvn_cmd
from services.broker.jvm import java_cmd
from services.broker.logs import failure_text
from services.broker.properties import (
    PROPERTIES_HEADER,
    local_listener_host,
    parse_servers,
    render_properties,
)
from services.broker.storage import format_main
from services.settings import Settings

CREDENTIALS = {"admin": "admin-secret", "worker": "worker-secret", "publisher": "publisher-secret"}


def _settings(tmp_path: Path, servers: str = "127.0.0.1:9092", controller_port: int = 9093) -> Settings:
    return Settings(
        kafka_bootstrap_servers=servers,
        kafka_controller_port=controller_port,
        kafka_data_dir=tmp_path / "kafka-data",
        kafka_home=tmp_path / "kafka-home",
    )


def test_server_properties_make_one_kraft_node_with_every_internal_topic_at_replication_one(
    tmp_path: Path,
) -> None:
    props = server_properties(_settings(tmp_path), "127.0.0.1", 19092, CREDENTIALS)

    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == f"{props['node.id']}@127.0.0.1:9093"
    for key in (
        "default.replication.factor",
        "min.insync.replicas",
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "share.coordinator.state.topic.replication.factor",
        "share.coordinator.state.topic.min.isr",
    ):
        assert props[key] == "1", key
    assert props["auto.create.topics.enable"] == "false"


def test_server_properties_listen_on_the_given_loopback_port_and_the_controller_port(
    tmp_path: Path,
) -> None:
    props = server_properties(_settings(tmp_path, controller_port=29093), "127.0.0.1", 19092, CREDENTIALS)

    assert props["listeners"] == "SASL_PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:29093"
    assert props["advertised.listeners"] == "SASL_PLAINTEXT://127.0.0.1:19092"
    assert props["log.dirs"] == str((tmp_path / "kafka-data" / "logs").resolve())


def test_rendered_properties_start_with_the_header_and_escape_backslashes() -> None:
    text = render_properties({"a": "1", "log.dirs": "C:\\data"})

    assert text == f"{PROPERTIES_HEADER}\na=1\nlog.dirs=C:\\\\data\n"


def test_rendered_server_properties_hold_one_line_per_setting(tmp_path: Path) -> None:
    props = server_properties(_settings(tmp_path), "127.0.0.1", 19092, CREDENTIALS)
    lines = render_properties(props).splitlines()

    assert lines[0].startswith("# ")
    assert "listeners=SASL_PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:9093" in lines
    assert "offsets.topic.replication.factor=1" in lines
    assert len(lines) == len(props) + 1


@pytest.mark.parametrize(
    ("servers", "parsed"),
    [
        ("127.0.0.1:9092", [("127.0.0.1", 9092)]),
        ("a:1, b:2,", [("a", 1), ("b", 2)]),
        ("kafka", [("kafka", 9092)]),
        ("[::1]:19092", [("::1", 19092)]),
        ("[::1]", [("::1", 9092)]),
    ],
)
def test_bootstrap_servers_are_parsed_with_9092_as_the_default_port(
    servers: str, parsed: list[tuple[str, int]]
) -> None:
    assert parse_servers(servers) == parsed


@pytest.mark.parametrize("servers", ["", " , ", "host:port"])
def test_bad_bootstrap_servers_are_refused(servers: str) -> None:
    with pytest.raises(BrokerError):
        parse_servers(servers)


def test_a_local_broker_binds_the_single_loopback_address_and_localhost_means_ipv4(
    tmp_path: Path,
) -> None:
    assert local_listener_host(_settings(tmp_path, "127.0.0.1:19092")) == ("127.0.0.1", 19092)
    assert local_listener_host(_settings(tmp_path, "localhost:19092")) == ("127.0.0.1", 19092)


@pytest.mark.parametrize("servers", ["10.0.0.5:9092", "kafka:9092", "[::1]:9092", "127.0.0.1:1,127.0.0.1:2"])
def test_no_local_broker_is_started_for_other_addresses(tmp_path: Path, servers: str) -> None:
    with pytest.raises(BrokerError, match="no broker answers at"):
        local_listener_host(_settings(tmp_path, servers))


def test_cluster_ids_look_like_kafka_storage_random_uuid() -> None:
    ids = {new_cluster_id() for _ in range(50)}

    assert len(ids) == 50
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", cluster_id) for cluster_id in ids)


def test_the_storage_format_passes_a_dashed_cluster_id_as_one_argument() -> None:
    main = format_main("-abc", Path("/data/server.properties"))

    assert main[0] == "kafka.tools.StorageTool"
    assert "--cluster-id=-abc" in main
    assert "--standalone" not in main  # refused with a static quorum (controller.quorum.voters)
    assert main[-2:] == ["--config", "/data/server.properties"]


def test_the_java_command_sets_a_fixed_heap_and_puts_the_main_class_last() -> None:
    cmd = java_cmd("/jdk/bin/java", Path("/lib"), "256m", ["kafka.Kafka", "/p"], ["-Dx=1"])

    assert cmd[:4] == ["/jdk/bin/java", "-Xms256m", "-Xmx256m", "-Dx=1"]
    assert cmd[-4:] == ["-cp", "/lib/*", "kafka.Kafka", "/p"]


@pytest.mark.parametrize("heap", ["", "0m", "1.5g", "512mb", "-1g"])
def test_a_heap_that_is_not_a_jvm_memory_size_is_refused(heap: str) -> None:
    with pytest.raises(BrokerError, match="kafka_heap"):
        java_cmd("java", Path("/lib"), heap, ["kafka.Kafka"])


def test_maven_copies_the_runtime_dependencies_into_the_given_folder() -> None:
    cmd = mvn_cmd("/usr/bin/mvn", Path("/tmp/out"))

    assert cmd[0] == "/usr/bin/mvn"
    assert "dependency:copy-dependencies" in cmd
    assert "-DoutputDirectory=/tmp/out" in cmd
    assert "-DincludeScope=runtime" in cmd


def test_a_failure_report_shows_the_causes_of_the_last_run_only() -> None:
    log = (
        "\n--- start 2000-01-01 00:00:00 ---\n[x] ERROR old failure\n"
        "\n--- start 2000-01-02 00:00:00 ---\nstarting\n[y] ERROR Address already in use\n"
        "Caused by: java.net.BindException\n\tat somewhere\n"
    )

    report = failure_text(log, Path("/data/broker.log"))
    causes, _, tail = report.partition("\n--- log tail (/data/broker.log) ---\n")

    assert causes.splitlines() == ["[y] ERROR Address already in use", "Caused by: java.net.BindException"]
    assert "old failure" not in report
    assert tail.splitlines()[0] == "starting"
