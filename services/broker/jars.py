"""The broker's jars: fetched once from Maven Central with ``pom.xml``, cached per Kafka version.

Why Maven: the machines this runs on have Java and Maven but no Docker and no Kafka download site,
so the broker is assembled from Maven Central artifacts (``pom.xml``, beside this file, is the only
place the Kafka version is written) into ``<kafka_home>/<version>/lib`` and run from that folder.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

from services.broker.base import KAFKA_VERSION, POM_PATH, BrokerError, locked
from services.broker.logs import tail_text
from services.settings import Settings

#: Name of the file written into ``lib/`` once every jar is in place; holds the pom's hash.
JARS_MARKER = ".complete"
MVN_TIMEOUT = 900.0


def kafka_dir(settings: Settings) -> Path:
    """``<kafka_home>/<version>``: one folder per Kafka version, so versions never mix jars."""
    return Path(settings.kafka_home).expanduser() / KAFKA_VERSION


def lib_dir(settings: Settings) -> Path:
    """The classpath folder of the broker (``java -cp '<lib>/*'``)."""
    return kafka_dir(settings) / "lib"


def _pom_digest() -> str:
    """Hash of the pom: a changed pom (say, a new log4j) makes the cached jars stale."""
    return hashlib.sha256(POM_PATH.read_bytes()).hexdigest()


def _jars_complete(lib: Path) -> bool:
    """Whether ``lib`` was filled completely from the current pom (marker written last)."""
    marker = lib / JARS_MARKER
    return marker.is_file() and marker.read_text().strip() == _pom_digest()


def mvn_cmd(mvn: str, output_dir: Path) -> list[str]:
    """The Maven command line that copies the pom's runtime dependencies into ``output_dir``:
    quiet, batch mode and no colours, because its output is only shown when it fails."""
    return [
        mvn, "-q", "-B", "-Dstyle.color=never", "-f", str(POM_PATH),
        "dependency:copy-dependencies", f"-DoutputDirectory={output_dir}", "-DincludeScope=runtime",
    ]  # fmt: skip


def _run_mvn(output_dir: Path) -> None:
    """Copy the pom's runtime dependencies into ``output_dir`` (network: Maven Central)."""
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BrokerError("mvn not found: install Maven (Debian: apt-get install maven)")
    cmd = mvn_cmd(mvn, output_dir)
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=MVN_TIMEOUT, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as exc:
        raise BrokerError(f"mvn failed: no answer in {MVN_TIMEOUT:.0f}s") from exc
    if done.returncode != 0:
        tail = tail_text((done.stdout or "") + (done.stderr or ""), 40)
        raise BrokerError(f"mvn failed (exit {done.returncode}):\n{tail}")
    if not any(output_dir.glob(f"kafka_2.13-{KAFKA_VERSION}.jar")):
        raise BrokerError(f"mvn failed: no kafka_2.13-{KAFKA_VERSION}.jar in {output_dir}")


def ensure_jars(settings: Settings) -> Path:
    """Make sure ``<kafka_home>/<version>/lib`` holds every jar the broker needs; return it.

    Idempotent and cheap once done (one marker file read). Otherwise it fetches the jars with
    Maven into a temporary folder beside ``lib`` and renames it into place, so ``lib`` is either
    absent, stale, or complete, never half-written, even if the fetch is interrupted.
    """
    lib = lib_dir(settings)
    if _jars_complete(lib):
        return lib
    base = kafka_dir(settings)
    with locked(base / ".lock"):
        if _jars_complete(lib):  # another process finished while we waited for the lock
            return lib
        tmp = Path(tempfile.mkdtemp(prefix=".lib-", dir=base))
        try:
            tmp.chmod(0o755)  # mkdtemp makes it private; the jar cache is readable by all
            _run_mvn(tmp)
            (tmp / JARS_MARKER).write_text(_pom_digest() + "\n")
            if lib.exists():
                old = base / f".lib-old-{os.getpid()}-{secrets.token_hex(4)}"
                lib.rename(old)
                shutil.rmtree(old, ignore_errors=True)
            tmp.rename(lib)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return lib
