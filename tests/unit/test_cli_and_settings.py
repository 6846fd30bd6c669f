"""The `salesledger` command and its settings, as users meet them."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.cli import build_parser, main
from services.settings import ENV_PREFIX, Settings, get_settings, settings_table

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


SECRET = "s3cr3t-Pa55"


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://ada:{SECRET}@db.example:5432/sales",
        f"postgres://ada:{SECRET}@db.example/sales?schema=ledger&connect_timeout=3",
        f"postgresql://ada:{SECRET}%40x@[::1]:5432/sales",  # an encoded @ in the password
        f"postgresql://ada:{SECRET}@x@db.example/sales",  # an unencoded one: split at the last @
    ],
)
def test_salesledger_config_never_prints_the_postgresql_password(url: str) -> None:
    """Issue 12, "`salesledger config` prints the PostgreSQL password": the real CLI, env var set."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "SALESLEDGER_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "services.cli", "config"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr
    assert "://ada:***@" in done.stdout


def test_settings_are_shown_with_every_secret_masked() -> None:
    from pydantic import SecretStr

    from services.settings import redact_url, shown

    settings = Settings(database_url=f"postgresql://ada:{SECRET}@db/sales")
    assert SECRET not in repr(settings) and SECRET not in str(settings)
    assert SECRET not in settings_table(settings)
    assert redact_url(f"postgresql://ada:{SECRET}@db/sales") == "postgresql://ada:***@db/sales"
    assert redact_url("sqlite:///.data/x.sqlite3") == "sqlite:///.data/x.sqlite3"
    assert shown("kafka_sasl_password", "hunter2") == "***"
    assert shown("api_token", "t") == "***" and shown("anything", SecretStr("t")) == "***"
    assert shown("require_api_keys", True) == "True" and shown("kafka_sasl_password", None) == "None"


def test_issue_12_the_keys_command_makes_role_keys_in_the_configured_database_and_never_lists_a_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SALESLEDGER_DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}")
    get_settings.cache_clear()  # the command reads the settings once per process: this is a new "process"
    monkeypatch.setattr("services.cli.get_settings", lambda: Settings())
    made = {}
    for role, extra in (
        ("publisher", ["--source", "/dialer/eu", "--source", "/dialer/us"]),
        ("rep", ["--subject", "rep-ada", "--expires", "90d"]),
        ("manager", ["--subject", "mgr-grace", "--expires", "2030-01-01T00:00:00+00:00"]),
        ("auditor", []),
    ):
        assert main(["keys", "create", "--role", role, *extra]) == 0
        made[role] = capsys.readouterr().out.strip()
    assert all(key.startswith("sl_") for key in made.values())
    assert main(["keys", "create", "--role", "rep"]) == 2  # a rep key for nobody
    assert "needs --subject" in capsys.readouterr().err
    assert main(["keys", "create", "--role", "auditor", "--expires", "2030-01-01T00:00:00"]) == 2
    assert "time zone" in capsys.readouterr().err
    assert main(["keys", "revoke", made["auditor"].split("_")[1]]) == 0
    capsys.readouterr()
    assert main(["keys", "list"]) == 0
    listed = capsys.readouterr().out
    rows = {line.split("\t")[1]: line.split("\t") for line in listed.splitlines()[1:]}
    assert rows["publisher"][2] == "/dialer/eu /dialer/us" and rows["rep"][3] == "rep-ada"
    assert rows["manager"][5].startswith("2030-01-01") and rows["auditor"][6].startswith("revoked")
    assert not any(key.split("_", 2)[2] in listed for key in made.values())
    assert (tmp_path / "elsewhere.sqlite3").exists()
