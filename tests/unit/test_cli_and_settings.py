"""The `salesledger` command and its settings, as users meet them."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.cli import build_parser, main
from services.settings import ENV_PREFIX, Settings, settings_table

ROOT = Path(__file__).resolve().parents[2]
SUBCOMMANDS = ["kafka", "topics", "worker", "keys", "demo", "config", "run"]


@pytest.mark.parametrize("command", [[], *[[name] for name in SUBCOMMANDS]])
def test_every_subcommand_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args([*command, "--help"])
    assert exited.value.code == 0
    assert "usage: salesledger" in capsys.readouterr().out


def test_every_setting_is_overridable_by_its_documented_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SALESLEDGER_TOPIC_PARTITIONS", "12")
    monkeypatch.setenv("SALESLEDGER_KAFKA_BOOTSTRAP_SERVERS", "a:1,b:2")
    settings = Settings()
    assert settings.topic_partitions == 12
    assert settings.kafka_bootstrap_servers == "a:1,b:2"
    assert settings.topic_events == "salesledger.events"


def test_every_setting_is_documented() -> None:
    documented = (ROOT / "docs" / "configuration.md").read_text()
    for name in Settings.model_fields:
        assert f"`{ENV_PREFIX}{name.upper()}`" in documented, name
    assert settings_table().splitlines()[2:] == [
        line for line in documented.splitlines() if line.startswith(f"| `{ENV_PREFIX}")
    ], "docs/configuration.md is stale: regenerate its table with `salesledger config`"


def test_config_command_prints_effective_values(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config"]) == 0
    assert "`SALESLEDGER_WEB_PORT`" in capsys.readouterr().out
