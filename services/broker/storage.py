"""The data dir made ready for a start: server.properties written, KRaft storage formatted once.

Kept out of ``process`` because formatting is a one-off run of Kafka's storage tool, not the
broker: it has its own command line (``format_main``, pure) and its own failure message.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from services.broker.acls import users
from services.broker.base import SERVER_PROPERTIES, BrokerError, data_dir
from services.broker.jvm import cds_archive, java_cmd
from services.broker.logs import tail_text
from services.broker.properties import SCRAM_MECHANISMS, new_cluster_id, render_properties
from services.db import private_file
from services.kafka_access import CREDENTIALS_FILE, local_credentials, new_passwords, save_local_credentials
from services.settings import Settings

FORMAT_TIMEOUT = 120.0


def write_properties(path: Path, props: dict[str, str]) -> None:
    """Write ``props`` as a Java properties file (``render_properties``), replacing any edits.
    Owner-only (0600): with SASL it holds the admin's password."""
    private_file(path)
    path.write_text(render_properties(props))


def format_main(cluster_id: str, config: Path, scram: Sequence[str] = ()) -> list[str]:
    """The storage tool's class and arguments that format the log dir named in ``config``, with
    the SCRAM users ``scram`` (``MECHANISM=[name=...,password=...]``) bootstrapped into it.

    Static quorum (``controller.quorum.voters`` in server.properties), so no ``--standalone``:
    Kafka 4.x refuses ``--standalone`` together with ``controller.quorum.voters``.
    """
    # "=" form: a random id may start with "-", which argparse would take for an option.
    return [
        "kafka.tools.StorageTool",
        "format",
        "--ignore-formatted",
        f"--cluster-id={cluster_id}",
        "--config",
        str(config),
        *(f"--add-scram={user}" for user in scram),
    ]


def scram_arguments(credentials: dict[str, str]) -> list[str]:
    """``--add-scram`` values: every user with a credential for each SCRAM mechanism."""
    return [
        f"{mechanism}=[name={user},password={password}]"
        for user, password in sorted(credentials.items())
        for mechanism in SCRAM_MECHANISMS
    ]


def formatted(settings: Settings) -> bool:
    return (data_dir(settings) / "logs" / "meta.properties").is_file()


def prepare_credentials(settings: Settings) -> dict[str, str] | None:
    """The users and passwords of a secured broker (None for PLAINTEXT), making them first if the
    broker is not formatted yet (they are formatted into it).

    A data dir formatted without them (before the local broker was secured) is refused rather
    than re-formatted, since that would delete its topics: the message says how to go on.
    """
    if not settings.kafka_secured:
        return None
    known = local_credentials(settings)
    admin = settings.kafka_admin_username
    if formatted(settings):
        if admin not in known:
            raise BrokerError(
                f"the local broker's data dir {data_dir(settings)} was formatted without SASL users "
                f"(no {admin!r} in {CREDENTIALS_FILE}); to start it secured, stop it and remove that "
                "directory (its topics are lost), or keep it open with "
                "SALESLEDGER_KAFKA_SECURITY_PROTOCOL=PLAINTEXT"
            )
        return known
    known |= new_passwords(user for user in users(settings) if user not in known)
    save_local_credentials(settings, known)
    return known


def format_storage(settings: Settings, java: str, lib: Path) -> None:
    """Format the KRaft log dir once (it writes ``meta.properties``); skipped when already done,
    because formatting again would need the same cluster id and would refuse anyway. A secured
    broker is formatted with every user of ``credentials.json`` (``prepare_credentials``)."""
    data = data_dir(settings)
    if formatted(settings):
        return
    scram = scram_arguments(local_credentials(settings)) if settings.kafka_secured else []
    main = format_main(new_cluster_id(), data / SERVER_PROPERTIES, scram)
    archive = cds_archive(settings, java)  # recorded by the broker, mostly the same classes
    jvm_extra = [f"-XX:SharedArchiveFile={archive}"] if archive.is_file() else []
    cmd = java_cmd(java, lib, "128m", main, jvm_extra)
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=FORMAT_TIMEOUT, stdin=subprocess.DEVNULL
    )
    if done.returncode != 0:
        tail = tail_text(done.stdout + done.stderr, 30)
        raise BrokerError(f"kafka storage format failed (exit {done.returncode}):\n{tail}")
