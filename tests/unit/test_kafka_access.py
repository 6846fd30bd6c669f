"""Kafka security's pure parts: the publisher binding, the client options, the ACLs, the broker's
SASL properties and the refusal of a data dir formatted before SASL (no broker here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from services.broker import BrokerError, server_properties
from services.broker.acls import Operation, Pattern, Resource, acl_commands, acls, users
from services.broker.storage import format_main, prepare_credentials, scram_arguments
from services.ingestor.principals import SourceBindings, may_publish_as, publisher_for
from services.kafka_access import (
    KafkaAccess,
    aiokafka_options,
    credentials_path,
    faust_credentials,
    kafka_access,
    local_credentials,
    save_local_credentials,
)
from services.settings import Settings, parse_publishers, settings_table, shown


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "kafka_data_dir": tmp_path / "kafka-data",
        "topic_prefix": "acme",
        "app_id": "acme-app",
        "kafka_publishers": "dialer=/dialer/eu,/dialer/us*;crm=/crm/*",
    }
    return Settings(**(values | overrides))  # type: ignore[arg-type]


# --- the binding -------------------------------------------------------------------------------


def test_publishers_parse_into_principals_and_their_source_patterns() -> None:
    assert parse_publishers(" dialer = /dialer/eu , /dialer/us* ; crm=/crm/* ;") == {
        "dialer": ("/dialer/eu", "/dialer/us*"),
        "crm": ("/crm/*",),
    }
    assert parse_publishers("") == {}


@pytest.mark.parametrize("text", ["dialer", "dialer=", "dial.er=/d", "a b=/x", "dialer=/a;dialer=/b", "=/x"])
def test_a_publisher_without_sources_a_bad_name_or_listed_twice_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="kafka_publishers"):
        parse_publishers(text)
    with pytest.raises(ValidationError):
        Settings(kafka_publishers=text)


@pytest.mark.parametrize(
    ("patterns", "source", "allowed"),
    [
        (("/dialer/eu",), "/dialer/eu", True),
        (("/dialer/eu",), "/dialer/eu-1", False),
        (("/dialer/*",), "/dialer/eu-1", True),
        (("/dialer/*",), "/crm/x", False),
        (("*",), "anything", True),
        ((), "/dialer/eu", False),
    ],
)
def test_a_source_is_allowed_when_equal_to_a_pattern_or_under_a_trailing_star(
    patterns: tuple[str, ...], source: str, allowed: bool
) -> None:
    assert may_publish_as(patterns, source) is allowed


def test_an_event_on_a_publishers_topic_claiming_another_source_is_refused_naming_both(
    tmp_path: Path,
) -> None:
    bindings = SourceBindings.of(_settings(tmp_path))
    assert bindings.refusal("acme.inbound.dialer", "/dialer/us-2") is None
    refusal = bindings.refusal("acme.inbound.dialer", "/crm/eu")
    assert refusal is not None and "'dialer'" in refusal and "/crm/eu" in refusal and "/dialer/eu" in refusal


def test_the_shared_inbound_topic_is_unbound_and_plaintext_binds_nothing(tmp_path: Path) -> None:
    assert SourceBindings.of(_settings(tmp_path)).refusal("acme.inbound", "/anything") is None
    plaintext = _settings(tmp_path, kafka_security_protocol="PLAINTEXT")
    assert plaintext.publisher_topics == {}
    assert SourceBindings.of(plaintext).by_topic == {}


def test_the_demo_publisher_is_the_first_bound_to_its_source(tmp_path: Path) -> None:
    settings = _settings(tmp_path, kafka_publishers="dialer=/dialer/*;any=*")
    assert publisher_for(settings, "/dialer/x") == "dialer"
    assert publisher_for(settings, "/salesledger/demo") == "any"
    assert publisher_for(_settings(tmp_path), "/salesledger/demo") is None


# --- client options -----------------------------------------------------------------------------


def test_plaintext_clients_get_the_bootstrap_servers_only(tmp_path: Path) -> None:
    settings = _settings(tmp_path, kafka_security_protocol="PLAINTEXT")
    assert aiokafka_options(settings) == {"bootstrap_servers": settings.kafka_bootstrap_servers}
    assert faust_credentials(settings) is None
    assert "-X" not in kafka_access(settings).kcat_args()


def test_sasl_clients_use_the_configured_password_for_their_own_principal(tmp_path: Path) -> None:
    settings = _settings(tmp_path, kafka_username="svc", kafka_password=SecretStr("s3cret-value"))
    assert aiokafka_options(settings) == {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "svc",
        "sasl_plain_password": "s3cret-value",
    }
    credentials = faust_credentials(settings)
    assert credentials is not None and credentials.username == "svc"
    assert credentials.mechanism.value == "SCRAM-SHA-512"


def test_without_a_configured_password_the_local_brokers_generated_one_is_used(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert kafka_access(settings).password is None  # no local broker yet
    save_local_credentials(settings, {"worker": "w-pass", "dialer": "d-pass"})
    assert local_credentials(settings) == {"worker": "w-pass", "dialer": "d-pass"}
    assert credentials_path(settings).stat().st_mode & 0o777 == 0o600
    assert aiokafka_options(settings)["sasl_plain_password"] == "w-pass"
    dialer = kafka_access(settings, "dialer")
    assert dialer.username == "dialer" and dialer.password == SecretStr("d-pass")


def test_the_password_never_shows_in_a_repr_str_or_the_settings_table(tmp_path: Path) -> None:
    settings = _settings(tmp_path, kafka_password=SecretStr("hunter2-hunter2"))
    access = kafka_access(settings)
    assert "hunter2" not in repr(access) and str(access) == settings.kafka_bootstrap_servers
    assert "hunter2" not in repr(settings) and "hunter2" not in settings_table(settings)
    assert shown("kafka_password", settings.kafka_password) == "***"


def test_kcat_gets_the_same_principal_and_an_optional_other_mechanism() -> None:
    access = KafkaAccess("127.0.0.1:1", "SASL_PLAINTEXT", "SCRAM-SHA-512", "dialer", SecretStr("pw"))
    args = access.kcat_args(mechanism="PLAIN")
    assert args[:2] == ["-b", "127.0.0.1:1"]
    assert "security.protocol=sasl_plaintext" in args and "sasl.mechanisms=PLAIN" in args
    assert "sasl.username=dialer" in args and "sasl.password=pw" in args


# --- ACLs ---------------------------------------------------------------------------------------


def test_a_publisher_may_write_and_describe_its_own_inbound_topic_and_nothing_else(tmp_path: Path) -> None:
    rules = [rule for rule in acls(_settings(tmp_path)) if rule.principal == "dialer"]
    assert {(r.resource, r.name, r.pattern, r.operation) for r in rules} == {
        (Resource.TOPIC, "acme.inbound.dialer", Pattern.LITERAL, Operation.WRITE),
        (Resource.TOPIC, "acme.inbound.dialer", Pattern.LITERAL, Operation.DESCRIBE),
    }


def test_the_worker_owns_the_topics_under_the_prefix_and_app_id_and_the_app_groups(tmp_path: Path) -> None:
    rules = {
        (r.resource, r.name, r.pattern, r.operation)
        for r in acls(_settings(tmp_path))
        if r.principal == "worker"
    }
    assert (Resource.TOPIC, "acme", Pattern.PREFIXED, Operation.ALL) in rules
    assert (Resource.TOPIC, "acme-app", Pattern.PREFIXED, Operation.ALL) in rules
    assert (Resource.GROUP, "acme-app", Pattern.PREFIXED, Operation.ALL) in rules
    assert not [rule for rule in rules if rule[0] is Resource.GROUP and rule[1] != "acme-app"]


def test_no_principal_but_the_worker_may_write_the_events_topic(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    writers = {
        rule.principal
        for rule in acls(settings)
        if rule.resource is Resource.TOPIC
        and rule.operation in (Operation.WRITE, Operation.ALL)
        and (
            settings.topic_events == rule.name
            or (rule.pattern is Pattern.PREFIXED and settings.topic_events.startswith(rule.name))
        )
    }
    assert writers == {"worker"}


def test_plaintext_has_no_acls_and_external_clusters_get_kafka_acls_arguments(tmp_path: Path) -> None:
    assert acls(_settings(tmp_path, kafka_security_protocol="PLAINTEXT")) == []
    commands = acl_commands(_settings(tmp_path))
    dialer_writes = "--add --allow-principal User:dialer --operation Write --resource-pattern-type literal"
    assert f"{dialer_writes} --topic acme.inbound.dialer" in commands
    assert users(_settings(tmp_path)) == ["admin", "worker", "dialer", "crm"]


# --- the local broker ---------------------------------------------------------------------------


def test_the_secured_broker_authorizes_every_request_and_denies_what_no_acl_allows(tmp_path: Path) -> None:
    credentials = {"admin": "a-pass", "worker": "w-pass"}
    props = server_properties(_settings(tmp_path), "127.0.0.1", 19092, credentials)
    assert props["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["super.users"] == "User:admin"
    assert (
        props["listener.security.protocol.map"] == "CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT"
    )
    assert props["sasl.enabled.mechanisms"].split(",")[:2] == ["SCRAM-SHA-512", "SCRAM-SHA-256"]
    assert 'user_worker="w-pass"' in props["listener.name.sasl_plaintext.plain.sasl.jaas.config"]


def test_a_plaintext_broker_has_no_authorizer(tmp_path: Path) -> None:
    props = server_properties(_settings(tmp_path, kafka_security_protocol="PLAINTEXT"), "127.0.0.1", 19092)
    assert "authorizer.class.name" not in props and props["listeners"].startswith("PLAINTEXT://")


@pytest.mark.parametrize("protocol", ["SASL_SSL"])
def test_the_local_broker_refuses_a_protocol_it_cannot_serve(tmp_path: Path, protocol: str) -> None:
    with pytest.raises(BrokerError, match=protocol):
        server_properties(
            _settings(tmp_path, kafka_security_protocol=protocol), "127.0.0.1", 1, {"admin": "x"}
        )


def test_every_user_is_formatted_into_the_broker_with_each_scram_mechanism() -> None:
    scram = scram_arguments({"admin": "a", "worker": "w"})
    assert scram == [
        "SCRAM-SHA-512=[name=admin,password=a]",
        "SCRAM-SHA-256=[name=admin,password=a]",
        "SCRAM-SHA-512=[name=worker,password=w]",
        "SCRAM-SHA-256=[name=worker,password=w]",
    ]
    assert format_main("id", Path("/p"), scram[:1])[-1] == "--add-scram=SCRAM-SHA-512=[name=admin,password=a]"


def test_a_fresh_data_dir_gets_a_password_for_every_user_before_it_is_formatted(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    made = prepare_credentials(settings)
    assert made is not None and set(made) == {"admin", "worker", "dialer", "crm"}
    assert prepare_credentials(settings) == made  # kept, never regenerated


def test_a_data_dir_formatted_without_sasl_users_is_refused_with_what_to_do(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    logs = tmp_path / "kafka-data" / "logs"
    logs.mkdir(parents=True)
    (logs / "meta.properties").write_text("cluster.id=old\n")
    with pytest.raises(BrokerError, match=r"formatted without SASL users.*PLAINTEXT"):
        prepare_credentials(settings)
    assert prepare_credentials(_settings(tmp_path, kafka_security_protocol="PLAINTEXT")) is None
    assert json.loads(json.dumps(local_credentials(settings))) == {}
