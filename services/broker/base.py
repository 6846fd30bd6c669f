"""What every part of the local broker launcher shares: its error, its files, and the pom's versions.

Kept apart so the other modules (jars, properties, probe, jvm, storage, process, lifecycle) can
each import it without importing one another in a circle.
"""

from __future__ import annotations

import contextlib
import fcntl
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from services.settings import Settings

HERE = Path(__file__).resolve().parent
POM_PATH = HERE / "pom.xml"
LOG4J_CONFIG = HERE / "log4j2.properties"

# Files of the data dir (``kafka_data_dir``), read and written by more than one module.
PID_FILE = "broker.pid"
LOG_FILE = "broker.log"
SERVER_PROPERTIES = "server.properties"

#: How often ``up`` and ``down`` look again at a starting or stopping broker.
POLL_INTERVAL = 0.1


class BrokerError(RuntimeError):
    """The local broker could not be fetched, started, probed or stopped; the message says why."""


def _pom_property(name: str, pom: Path = POM_PATH) -> str:
    """Read ``<properties><name>`` from the pom, so versions are written in the pom only."""
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    node = ET.parse(pom).getroot().find(f"m:properties/m:{name}", ns)
    if node is None or not (node.text or "").strip():
        raise BrokerError(f"{pom} has no <{name}> property")
    return (node.text or "").strip()


KAFKA_VERSION: str = _pom_property("kafka.version")
LOG4J_VERSION: str = _pom_property("log4j.version")


def data_dir(settings: Settings) -> Path:
    """The broker's data dir as an absolute path: it is written into server.properties and
    compared with the running broker's command line, so it must not depend on the cwd."""
    return Path(settings.kafka_data_dir).expanduser().resolve()


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path``, so concurrent callers (parallel test sessions, a CLI
    and a test) fetch jars or start a broker once, not twice."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
