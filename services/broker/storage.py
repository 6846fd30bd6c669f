"""The data dir made ready for a start: server.properties written, KRaft storage formatted once.

Kept out of ``process`` because formatting is a one-off run of Kafka's storage tool, not the
broker: it has its own command line (``format_main``, pure) and its own failure message.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from services.broker.base import SERVER_PROPERTIES, BrokerError, data_dir
from services.broker.jvm import cds_archive, java_cmd
from services.broker.logs import tail_text
from services.broker.properties import new_cluster_id, render_properties
from services.settings import Settings

FORMAT_TIMEOUT = 120.0


def write_properties(path: Path, props: dict[str, str]) -> None:
    """Write ``props`` as a Java properties file (``render_properties``), replacing any edits."""
    path.write_text(render_properties(props))


def format_main(cluster_id: str, config: Path) -> list[str]:
    """The storage tool's class and arguments that format the log dir named in ``config``.

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
    ]


def format_storage(settings: Settings, java: str, lib: Path) -> None:
    """Format the KRaft log dir once (it writes ``meta.properties``); skipped when already done,
    because formatting again would need the same cluster id and would refuse anyway."""
    data = data_dir(settings)
    if (data / "logs" / "meta.properties").is_file():
        return
    main = format_main(new_cluster_id(), data / SERVER_PROPERTIES)
    archive = cds_archive(settings, java)  # recorded by the broker, mostly the same classes
    jvm_extra = [f"-XX:SharedArchiveFile={archive}"] if archive.is_file() else []
    cmd = java_cmd(java, lib, "128m", main, jvm_extra)
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=FORMAT_TIMEOUT, stdin=subprocess.DEVNULL
    )
    if done.returncode != 0:
        tail = tail_text(done.stdout + done.stderr, 30)
        raise BrokerError(f"kafka storage format failed (exit {done.returncode}):\n{tail}")
