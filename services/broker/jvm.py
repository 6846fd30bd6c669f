"""The JVM that runs the broker and its storage tool: which ``java``, its command line, and the
class-data-sharing archive that makes the second and later starts faster.

Class-data sharing: loading and verifying ~6,000 classes is most of the broker's start-up time.
The first broker run records them (-XX:ArchiveClassesAtExit, written when the JVM exits cleanly,
i.e. on `down`); every later start maps that archive (-XX:SharedArchiveFile): about 2.0s -> 1.3s
on 2 cores, at no cost to throughput. The archive is only valid for the exact JVM and jars, so its
name hashes both; a stale or missing archive just means a normal (slower) start.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
from collections.abc import Sequence
from pathlib import Path

from services.broker.base import LOG4J_CONFIG, BrokerError, data_dir
from services.broker.jars import JARS_MARKER, kafka_dir, lib_dir
from services.settings import Settings

#: In the data dir: where a recording broker writes its class archive, and where it belongs.
CDS_PENDING = "broker.cds-pending"


def find_java() -> str:
    """``$JAVA_HOME/bin/java`` if set, else ``java`` on PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise BrokerError("java not found: install a JDK 17+ (Debian: apt-get install default-jdk)")
    return java


def java_cmd(java: str, lib: Path, heap: str, main: list[str], jvm_extra: Sequence[str] = ()) -> list[str]:
    """The java command line of the storage tool and of the broker: ``main`` is the class and
    its arguments, ``jvm_extra`` more JVM options. G1 and a fixed heap, as Kafka's own scripts."""
    if not re.fullmatch(r"[1-9][0-9]*[kKmMgG]?", heap):
        raise BrokerError(f"kafka_heap {heap!r} is not a JVM memory size such as 512m or 1g")
    return [
        java, f"-Xms{heap}", f"-Xmx{heap}", *jvm_extra,
        "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:InitiatingHeapOccupancyPercent=35",
        "-XX:+ExplicitGCInvokesConcurrent", "-XX:-UsePerfData", "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
        "-cp", f"{lib}/*", *main,
    ]  # fmt: skip


def cds_archive(settings: Settings, java: str) -> Path:
    """Where the class archive for this JVM binary and this jar set lives."""
    real = Path(java).resolve()
    marker = lib_dir(settings) / JARS_MARKER
    parts = [str(real), str(real.stat().st_size), str(real.stat().st_mtime_ns)]
    parts.append(str(marker.stat().st_mtime_ns) if marker.exists() else "-")
    key = hashlib.sha256(":".join(parts).encode()).hexdigest()[:16]
    return kafka_dir(settings) / "cds" / f"broker-{key}.jsa"


def cds_flags(settings: Settings, java: str) -> list[str]:
    """JVM flags to use the class archive, or to record it at exit if there is none yet.

    The recording goes to a temporary file named in ``<data>/broker.cds-pending``; ``down``
    promotes it once the JVM has exited cleanly, so a half-written archive is never used.
    """
    archive = cds_archive(settings, java)
    if archive.is_file():
        return [f"-XX:SharedArchiveFile={archive}", "-Xshare:auto"]
    archive.parent.mkdir(parents=True, exist_ok=True)
    pending = archive.with_name(f"{archive.name}.{secrets.token_hex(4)}.tmp")
    (data_dir(settings) / CDS_PENDING).write_text(f"{pending}\n{archive}\n")
    # Recording prints a warning per class it cannot archive (generated, old bytecode): hide them.
    return [f"-XX:ArchiveClassesAtExit={pending}", "-Xlog:cds*=error"]


def cds_settle(data: Path, clean_exit: bool) -> None:
    """After the broker has exited: keep the recorded class archive if the exit was clean, drop
    it otherwise (a killed JVM may have left it half-written)."""
    pending_file = data / CDS_PENDING
    try:
        pending_text, archive_text = pending_file.read_text().split()
    except (OSError, ValueError):
        return
    pending, archive = Path(pending_text), Path(archive_text)
    if clean_exit and pending.is_file() and pending.stat().st_size > 0:
        for old in archive.parent.glob("broker-*.jsa"):
            if old != archive:
                old.unlink(missing_ok=True)  # archives of replaced jars or JVMs
        pending.replace(archive)
    pending.unlink(missing_ok=True)
    pending_file.unlink(missing_ok=True)
