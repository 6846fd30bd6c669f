"""topic_specs: the project's topics and their configuration, derived from settings alone."""

from __future__ import annotations

import pytest

from services.settings import Settings
from services.topics import TopicSpec, topic_specs


def _settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "topic_prefix": "t",
        "topic_partitions": 4,
        "topic_replication_factor": 1,
        "inbound_retention_ms": 604_800_000,
        "deadletter_retention_ms": -1,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def _by_name(settings: Settings) -> dict[str, TopicSpec]:
    return {spec.name: spec for spec in topic_specs(settings)}


def test_four_topics_named_from_the_prefix_and_the_app() -> None:
    settings = _settings(topic_prefix="acme", app_id="crm-eu", kafka_security_protocol="PLAINTEXT")
    assert [spec.name for spec in topic_specs(settings)] == [
        "acme.events",
        "acme.inbound",
        "acme.deadletter",
        "acme.crm-eu.projections-changelog",
    ]
    assert set(_by_name(settings)) == {
        settings.topic_events,
        settings.topic_inbound,
        settings.topic_deadletter,
        settings.topic_projection_changelog,
    }


def test_with_sasl_each_publisher_principal_gets_its_own_inbound_topic_configured_as_the_shared_one() -> None:
    settings = _settings(topic_prefix="acme", kafka_publishers="dialer=/dialer/*;crm=/crm")
    specs = _by_name(settings)
    assert {"acme.inbound.dialer", "acme.inbound.crm"} <= set(specs)
    assert specs["acme.inbound.dialer"].config == specs["acme.inbound"].config
    plaintext = _settings(topic_prefix="acme", kafka_security_protocol="PLAINTEXT")
    assert not [name for name in _by_name(plaintext) if name.startswith("acme.inbound.")]


def test_the_projection_changelog_is_compacted_never_expired() -> None:
    settings = _settings()
    changelog = _by_name(settings)[settings.topic_projection_changelog]
    assert changelog.config == {"cleanup.policy": "compact", "retention.ms": "-1"}
    assert changelog.partitions == settings.topic_partitions


def test_canonical_log_is_kept_forever() -> None:
    settings = _settings()
    events = _by_name(settings)[settings.topic_events]
    assert events.config == {
        "retention.ms": "-1",
        "retention.bytes": "-1",
        "cleanup.policy": "delete",
    }


@pytest.mark.parametrize("retention", [3_600_000, -1])
def test_inbound_retention_comes_from_settings(retention: int) -> None:
    settings = _settings(inbound_retention_ms=retention)
    inbound = _by_name(settings)[settings.topic_inbound]
    assert inbound.config["retention.ms"] == str(retention)
    assert inbound.config["cleanup.policy"] == "delete"


@pytest.mark.parametrize("retention", [86_400_000, -1])
def test_deadletter_retention_comes_from_settings(retention: int) -> None:
    settings = _settings(deadletter_retention_ms=retention)
    deadletter = _by_name(settings)[settings.topic_deadletter]
    assert deadletter.config["retention.ms"] == str(retention)
    assert deadletter.config["cleanup.policy"] == "delete"


def test_partitions_and_replication_come_from_settings() -> None:
    specs = topic_specs(_settings(topic_partitions=7, topic_replication_factor=3))
    assert {(spec.partitions, spec.replication_factor) for spec in specs} == {(7, 3)}


def test_config_values_are_strings_as_kafka_takes_them() -> None:
    for spec in topic_specs(_settings()):
        assert all(isinstance(v, str) for v in spec.config.values()), spec


def test_specs_are_frozen_and_fresh_per_call() -> None:
    settings = _settings()
    first, second = topic_specs(settings), topic_specs(settings)
    assert first == second
    with pytest.raises(AttributeError):
        first[0].partitions = 1  # type: ignore[misc]
    first[0].config["retention.ms"] = "0"  # a caller's edit must not leak into the next call
    assert topic_specs(settings)[0].config["retention.ms"] == "-1"
    assert hash(first[1]) == hash(second[1])  # hashable despite the dict field
