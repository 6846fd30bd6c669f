"""A single-node local Apache Kafka 4.x broker (KRaft, loopback only) for development and tests.

Why it exists: Salesledger needs a real Kafka to run and to test against, and the machines it runs
on have Java and Maven but no Docker and no Kafka download site. So the broker's jars are fetched
from Maven Central with ``pom.xml`` (beside this file, the only place the Kafka version is written)
and run with the installed ``java``, in combined broker+controller mode, bound to 127.0.0.1.

The rules, in one place:

* ``up`` never starts anything when a broker already answers at ``kafka_bootstrap_servers``: that
  broker (a developer's own, CI's, or one started earlier) is used as is and reported as such.
* It only ever starts a broker for a loopback bootstrap address.
* ``down`` only stops the broker *we* started, known by the pid file in ``kafka_data_dir``;
  an external broker is never touched.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import hashlib
import ipaddress
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Coroutine, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from services.settings import Settings

HERE = Path(__file__).resolve().parent
POM_PATH = HERE / "pom.xml"
LOG4J_CONFIG = HERE / "log4j2.properties"

#: Name of the file written into ``lib/`` once every jar is in place; holds the pom's hash.
JARS_MARKER = ".complete"
PID_FILE = "broker.pid"
CDS_PENDING = "broker.cds-pending"
LOG_FILE = "broker.log"
LOG_ROTATE_BYTES = 10 * 1024 * 1024
SERVER_PROPERTIES = "server.properties"
NODE_ID = 1
T = TypeVar("T")

#: How long one reachability probe may take. Short, because ``status`` must answer at once and
#: ``up`` polls it while the broker starts.
PROBE_TIMEOUT = 2.0
POLL_INTERVAL = 0.1
STOP_TIMEOUT = 30.0
MVN_TIMEOUT = 900.0
FORMAT_TIMEOUT = 120.0


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


@dataclass(frozen=True)
class BrokerStatus:
    """What answers at the bootstrap servers, and whether it is the broker this module started.

    ``reachable`` means a metadata request was answered with at least one live broker.
    ``pid`` is set only when our pid file names a live broker process (ours); a reachable broker
    without it is someone else's and is never stopped by ``down``.
    """

    bootstrap_servers: str
    reachable: bool
    pid: int | None = None
    cluster_id: str | None = None
    #: True only in the value returned by the ``up`` call that started the broker.
    started: bool = False
    #: Seconds from spawning the JVM to the first answered metadata request (when ``started``).
    start_seconds: float | None = None

    @property
    def ours(self) -> bool:
        """Whether the broker process was started by this module (pid file, process alive)."""
        return self.pid is not None

    @property
    def state(self) -> str:
        """One word for people and logs: ``local``, ``external``, ``unhealthy`` or ``down``."""
        if self.reachable:
            return "local" if self.ours else "external"
        return "unhealthy" if self.ours else "down"

    def describe(self) -> str:
        """A one-line summary for the CLI."""
        text = f"kafka at {self.bootstrap_servers}: {self.state}"
        if self.state == "external":
            text += " (existing broker, not managed here)"
        if self.pid is not None:
            text += f", pid {self.pid}"
        if self.cluster_id:
            text += f", cluster {self.cluster_id}"
        if self.start_seconds is not None:
            text += f", started in {self.start_seconds:.1f}s"
        return text


# --- jars --------------------------------------------------------------------------------------


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


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path``, so concurrent callers (parallel test sessions, a CLI
    and a test) fetch jars or start a broker once, not twice."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_mvn(output_dir: Path) -> None:
    """Copy the pom's runtime dependencies into ``output_dir`` (network: Maven Central)."""
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BrokerError("mvn not found: install Maven (Debian: apt-get install maven)")
    cmd = [
        mvn, "-q", "-B", "-Dstyle.color=never", "-f", str(POM_PATH),
        "dependency:copy-dependencies", f"-DoutputDirectory={output_dir}", "-DincludeScope=runtime",
    ]  # fmt: skip
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=MVN_TIMEOUT, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as exc:
        raise BrokerError(f"mvn failed: no answer in {MVN_TIMEOUT:.0f}s") from exc
    if done.returncode != 0:
        tail = _tail_text((done.stdout or "") + (done.stderr or ""), 40)
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
    with _locked(base / ".lock"):
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


# --- addresses -------------------------------------------------------------------------------


def _parse_servers(servers: str) -> list[tuple[str, int]]:
    """``"h1:p1,h2:p2"`` into ``[(h1, p1), ...]`` (``[::1]:p`` accepted); port defaults to 9092."""
    result: list[tuple[str, int]] = []
    for item in (part.strip() for part in servers.split(",")):
        if not item:
            continue
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            port = rest.lstrip(":") or "9092"
        else:
            host, _, port = item.rpartition(":") if ":" in item else (item, "", "9092")
        try:
            result.append((host, int(port)))
        except ValueError as exc:
            raise BrokerError(f"bad bootstrap server {item!r} (expected host:port)") from exc
    if not result:
        raise BrokerError("kafka_bootstrap_servers is empty")
    return result


def _local_listener_host(settings: Settings) -> tuple[str, int]:
    """The (IPv4 loopback host, port) to bind a local broker to, or why we must not start one.

    Only a single loopback bootstrap server qualifies: starting a broker for any other address
    would hide a misconfiguration (the real broker is down) behind a surprise local one.
    """
    servers = _parse_servers(settings.kafka_bootstrap_servers)
    if len(servers) != 1:
        raise BrokerError(
            f"no broker answers at {settings.kafka_bootstrap_servers}; a local broker is only "
            "started for a single loopback address such as 127.0.0.1:9092"
        )
    host, port = servers[0]
    if host == "localhost":
        return "127.0.0.1", port
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is None or address.version != 4 or not address.is_loopback:
        raise BrokerError(
            f"no broker answers at {settings.kafka_bootstrap_servers}, and {host} is not an IPv4 "
            "loopback address (127.0.0.1 or localhost): not starting a local broker for it"
        )
    return host, port


def _check_ports_free(host: str, port: int, controller_port: int) -> None:
    """Fail early, and say which setting to change, when a port the broker needs is taken
    (otherwise the JVM starts, then dies with a BindException deep in its log)."""
    if _tcp_open(host, port, PROBE_TIMEOUT):
        raise BrokerError(
            f"{host}:{port} is in use by something that does not answer as a Kafka broker; "
            "stop it or set SALESLEDGER_KAFKA_BOOTSTRAP_SERVERS to a free loopback port"
        )
    if _tcp_open(host, controller_port, PROBE_TIMEOUT):
        raise BrokerError(
            f"controller port {host}:{controller_port} is in use; stop what listens there "
            "or set SALESLEDGER_KAFKA_CONTROLLER_PORT to a free port"
        )


# --- probing -----------------------------------------------------------------------------------


def _tcp_open(host: str, port: int, timeout: float) -> bool:
    """Cheap pre-check: anything listening? Avoids aiokafka's connection-error log lines."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


async def _metadata_probe(host: str, port: int, timeout: float) -> str | None:
    """Send one metadata request; return the cluster id if a live broker answered, else None.

    Uses aiokafka's connection directly (ApiVersions, then Metadata with no topics) rather than a
    full client: no background tasks, no retries, no error logging, and a hard time limit.
    """
    from aiokafka.conn import create_conn
    from aiokafka.protocol.metadata import MetadataRequest

    timeout_ms = int(timeout * 1000)
    try:
        async with asyncio.timeout(timeout):
            conn = await create_conn(host, port, request_timeout_ms=timeout_ms, client_id="probe")
            try:
                response = await conn.send(MetadataRequest([]))
            finally:
                conn.close()
    except Exception:  # any failure (refused, timeout, protocol error) means "no"
        return None
    if not response.brokers:  # answering, but not yet registered and unfenced
        return None
    return getattr(response, "cluster_id", None) or "?"


def _probe(servers: str, timeout: float = PROBE_TIMEOUT) -> str | None:
    """Whether a broker answers at any of ``servers``: its cluster id, or None.

    Synchronous (it runs its own event loop in a worker thread when called from async code),
    so the CLI, fixtures and ``up`` can all use it.
    """
    for host, port in _parse_servers(servers):
        if not _tcp_open(host, port, timeout):
            continue
        cluster_id = _run_coro(_metadata_probe(host, port, timeout))
        if cluster_id is not None:
            return cluster_id
    return None


def _run_coro(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion, also when the caller already has a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


# --- our process -------------------------------------------------------------------------------

#: Popen objects of brokers started by this process, so their exit is reaped (no zombie that
#: would look alive to ``os.kill(pid, 0)``) and no ResourceWarning is raised at interpreter exit.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def _data_dir(settings: Settings) -> Path:
    return Path(settings.kafka_data_dir).expanduser().resolve()


def _pid_alive(pid: int) -> bool:
    """Whether ``pid`` is a running (not zombie) process; reaps it if it is our dead child."""
    child = _CHILDREN.get(pid)
    if child is not None:
        if child.poll() is None:
            return True
        _CHILDREN.pop(pid, None)
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] != "Z"


def _is_our_broker(pid: int, data_dir: Path) -> bool:
    """Guard against pid reuse: the process must be a Kafka JVM using our server.properties."""
    if not _pid_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc: trust the pid file
    wanted = str(data_dir / SERVER_PROPERTIES).encode()
    return b"kafka.Kafka" in cmdline and wanted in cmdline


def _read_pid(data_dir: Path) -> int | None:
    """The pid of our running broker, or None (a stale pid file is removed)."""
    pid_file = data_dir / PID_FILE
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    if _is_our_broker(pid, data_dir):
        return pid
    pid_file.unlink(missing_ok=True)
    return None


def status(settings: Settings) -> BrokerStatus:
    """Whether a broker answers at the bootstrap servers, and whether it is ours. Takes at most
    a few seconds (short probe timeouts), and changes nothing but a stale pid file."""
    cluster_id = _probe(settings.kafka_bootstrap_servers)
    return BrokerStatus(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        reachable=cluster_id is not None,
        pid=_read_pid(_data_dir(settings)),
        cluster_id=cluster_id,
    )


# --- starting ----------------------------------------------------------------------------------


def _find_java() -> str:
    """``$JAVA_HOME/bin/java`` if set, else ``java`` on PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise BrokerError("java not found: install a JDK 17+ (Debian: apt-get install default-jdk)")
    return java


def new_cluster_id() -> str:
    """A KRaft cluster id, as ``kafka-storage random-uuid`` makes: url-safe base64 of 16 random
    bytes, without padding (22 characters)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()


def server_properties(settings: Settings, host: str, port: int) -> dict[str, str]:
    """The broker's configuration: one combined broker+controller node on loopback, every
    internal topic at replication factor 1, and small thread pools and internal topics so it
    starts fast and stays light on a 2-core machine."""
    data = _data_dir(settings)
    controller = f"{host}:{settings.kafka_controller_port}"
    return {
        "process.roles": "broker,controller",
        "node.id": str(NODE_ID),
        "controller.quorum.voters": f"{NODE_ID}@{controller}",
        "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{controller}",
        "advertised.listeners": f"PLAINTEXT://{host}:{port}",
        "inter.broker.listener.name": "PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(data / "logs"),
        "num.partitions": "1",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "auto.create.topics.enable": "false",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        # Light on threads: this broker serves one developer or one test run.
        "num.network.threads": "2",
        "num.io.threads": "2",
        "background.threads": "2",
        "num.recovery.threads.per.data.dir": "1",
        "log.cleaner.threads": "1",
        # Faster registration and unfencing of the broker with its own controller.
        "broker.heartbeat.interval.ms": "500",
        "broker.session.timeout.ms": "6000",
    }


def _write_properties(path: Path, props: dict[str, str]) -> None:
    """Write a Java properties file (values here need no escaping but backslashes)."""
    lines = ["# Written by services/broker/local.py on every `up`; edits are overwritten."]
    lines += [f"{key}={value.replace(chr(92), chr(92) * 2)}" for key, value in props.items()]
    path.write_text("\n".join(lines) + "\n")


def _java_cmd(java: str, lib: Path, heap: str, main: list[str], jvm_extra: Sequence[str] = ()) -> list[str]:
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


def _format_storage(settings: Settings, java: str, lib: Path) -> None:
    """Format the KRaft log dir once (it writes ``meta.properties``); skipped when already done,
    because formatting again would need the same cluster id and would refuse anyway.

    Static quorum (``controller.quorum.voters`` in server.properties), so no ``--standalone``:
    Kafka 4.x refuses ``--standalone`` together with ``controller.quorum.voters``.
    """
    data = _data_dir(settings)
    if (data / "logs" / "meta.properties").is_file():
        return
    main = ["kafka.tools.StorageTool", "format", "--ignore-formatted"]
    # "=" form: a random id may start with "-", which argparse would take for an option.
    main += [f"--cluster-id={new_cluster_id()}", "--config", str(data / SERVER_PROPERTIES)]
    archive = _cds_archive(settings, java)  # recorded by the broker, mostly the same classes
    jvm_extra = [f"-XX:SharedArchiveFile={archive}"] if archive.is_file() else []
    cmd = _java_cmd(java, lib, "128m", main, jvm_extra)
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=FORMAT_TIMEOUT, stdin=subprocess.DEVNULL
    )
    if done.returncode != 0:
        tail = _tail_text(done.stdout + done.stderr, 30)
        raise BrokerError(f"kafka storage format failed (exit {done.returncode}):\n{tail}")


# --- class-data sharing: the broker's loaded classes, archived once, map in at the next start ---
#
# Loading and verifying ~6,000 classes is most of the broker's start-up time. The first broker
# run records them (-XX:ArchiveClassesAtExit, written when the JVM exits cleanly, i.e. on `down`);
# every later start maps that archive (-XX:SharedArchiveFile): about 2.0s -> 1.3s on 2 cores, at
# no cost to throughput. The archive is only valid for the exact JVM and jars, so its name hashes
# both; a stale or missing archive just means a normal (slower) start.


def _cds_archive(settings: Settings, java: str) -> Path:
    """Where the class archive for this JVM binary and this jar set lives."""
    real = Path(java).resolve()
    marker = lib_dir(settings) / JARS_MARKER
    parts = [str(real), str(real.stat().st_size), str(real.stat().st_mtime_ns)]
    parts.append(str(marker.stat().st_mtime_ns) if marker.exists() else "-")
    key = hashlib.sha256(":".join(parts).encode()).hexdigest()[:16]
    return kafka_dir(settings) / "cds" / f"broker-{key}.jsa"


def _cds_flags(settings: Settings, java: str) -> list[str]:
    """JVM flags to use the class archive, or to record it at exit if there is none yet.

    The recording goes to a temporary file named in ``<data>/broker.cds-pending``; ``down``
    promotes it once the JVM has exited cleanly, so a half-written archive is never used.
    """
    archive = _cds_archive(settings, java)
    if archive.is_file():
        return [f"-XX:SharedArchiveFile={archive}", "-Xshare:auto"]
    archive.parent.mkdir(parents=True, exist_ok=True)
    pending = archive.with_name(f"{archive.name}.{secrets.token_hex(4)}.tmp")
    (_data_dir(settings) / CDS_PENDING).write_text(f"{pending}\n{archive}\n")
    # Recording prints a warning per class it cannot archive (generated, old bytecode): hide them.
    return [f"-XX:ArchiveClassesAtExit={pending}", "-Xlog:cds*=error"]


def _cds_settle(data: Path, clean_exit: bool) -> None:
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


def _spawn(java: str, lib: Path, settings: Settings) -> subprocess.Popen[bytes]:
    """Start the broker JVM detached from us (own session, output to broker.log), so it outlives
    the command that started it and a Ctrl-C in that terminal does not reach it."""
    data = _data_dir(settings)
    _cds_settle(data, clean_exit=False)  # leftovers of a broker that died on its own
    jvm_extra = [*_cds_flags(settings, java), f"-Dkafka.logs.dir={data}"]
    main = ["kafka.Kafka", str(data / SERVER_PROPERTIES)]
    cmd = _java_cmd(java, lib, settings.kafka_heap, main, jvm_extra)
    log_path = data / LOG_FILE
    if log_path.is_file() and log_path.stat().st_size > LOG_ROTATE_BYTES:
        log_path.replace(log_path.with_name(LOG_FILE + ".1"))  # keep one previous log
    with open(log_path, "ab") as log:
        log.write(f"\n--- start {time.strftime('%Y-%m-%d %H:%M:%S')} ---\n".encode())
        log.flush()
        proc = subprocess.Popen(
            cmd, cwd=data, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True,
        )  # fmt: skip
    _CHILDREN[proc.pid] = proc
    (data / PID_FILE).write_text(f"{proc.pid}\n")
    return proc


def _tail_text(text: str, lines: int) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def log_tail(settings: Settings, lines: int = 40) -> str:
    """The last lines of the local broker's log, for error messages and the CLI."""
    try:
        text = (_data_dir(settings) / LOG_FILE).read_text(errors="replace")
    except OSError:
        return "(no broker log)"
    return _tail_text(text, lines)


def _failure_report(settings: Settings) -> str:
    """The error lines of the last run (Java stack traces bury the cause), then the log tail."""
    try:
        text = (_data_dir(settings) / LOG_FILE).read_text(errors="replace")
    except OSError:
        return "(no broker log)"
    last_run = text.rpartition("--- start ")[2].partition("\n")[2]
    causes = [
        line.strip()[:300]
        for line in last_run.splitlines()
        if " ERROR " in line or line.startswith(("Caused by:", "Error", "Invalid"))
    ]
    report = "\n".join(causes[-8:])
    return f"{report}\n--- log tail ({_data_dir(settings) / LOG_FILE}) ---\n{_tail_text(last_run, 15)}"


def _wait_ready(settings: Settings, pid: int, started_at: float) -> str:
    """Poll until the broker answers a metadata request; return its cluster id.

    Raises (after stopping it) if the process dies or ``kafka_start_timeout`` passes, with the
    tail of its log, which is where the reason is (port in use, bad config, ...).
    """
    deadline = started_at + settings.kafka_start_timeout
    while True:
        if not _pid_alive(pid):
            (_data_dir(settings) / PID_FILE).unlink(missing_ok=True)
            raise BrokerError(f"kafka broker exited during start-up:\n{_failure_report(settings)}")
        cluster_id = _probe(settings.kafka_bootstrap_servers, timeout=1.0)
        if cluster_id is not None:
            return cluster_id
        if time.monotonic() > deadline:
            _stop_pid(pid, _data_dir(settings))
            raise BrokerError(
                f"kafka broker did not answer at {settings.kafka_bootstrap_servers} within "
                f"{settings.kafka_start_timeout:.0f}s (stopped it):\n{_failure_report(settings)}"
            )
        time.sleep(POLL_INTERVAL)


def up(settings: Settings) -> BrokerStatus:
    """Make sure a broker answers at ``kafka_bootstrap_servers``, starting a local one if needed.

    If one already answers (external, or ours from an earlier call) nothing is started. If ours
    is still starting (pid alive, not answering yet), it is waited for rather than doubled.
    Otherwise, for a loopback address only: fetch jars, write server.properties, format storage
    on first use, spawn the JVM, and wait until it answers (raising ``BrokerError`` with the
    tail of its log if it dies or times out).
    """
    current = status(settings)
    if current.reachable:
        return current
    host, port = _local_listener_host(settings)
    data = _data_dir(settings)
    with _locked(data / ".up.lock"):
        pid = _read_pid(data)
        spawned = pid is None
        if spawned:
            current = status(settings)  # someone may have started one while we waited
            if current.reachable:
                return current
            _check_ports_free(host, port, settings.kafka_controller_port)
            java = _find_java()
            lib = ensure_jars(settings)
            (data / "logs").mkdir(parents=True, exist_ok=True)
            _write_properties(data / SERVER_PROPERTIES, server_properties(settings, host, port))
            _format_storage(settings, java, lib)
            started_at = time.monotonic()
            pid = _spawn(java, lib, settings).pid
        else:  # ours, still starting (another `up` spawned it): wait for it, do not double it
            started_at = time.monotonic()
        assert pid is not None
        cluster_id = _wait_ready(settings, pid, started_at)
        return BrokerStatus(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            reachable=True,
            pid=pid,
            cluster_id=cluster_id,
            started=spawned,
            start_seconds=round(time.monotonic() - started_at, 2) if spawned else None,
        )


# --- stopping ----------------------------------------------------------------------------------


def _stop_pid(pid: int, data: Path, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM (Kafka shuts down cleanly: flushes logs, no recovery at next start), then SIGKILL
    if it has not exited in ``timeout`` seconds; the pid file goes in both cases."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(POLL_INTERVAL)
    clean_exit = not _pid_alive(pid)
    if not clean_exit:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        while _pid_alive(pid) and time.monotonic() < deadline + 10:
            time.sleep(POLL_INTERVAL)
    if _pid_alive(pid):
        raise BrokerError(f"kafka broker pid {pid} survived SIGKILL")
    (data / PID_FILE).unlink(missing_ok=True)
    _cds_settle(data, clean_exit)


def down(settings: Settings) -> bool:
    """Stop the broker this module started (known by its pid file); return whether one was
    stopped. An external broker, or nothing at all, is left alone (returns False)."""
    data = _data_dir(settings)
    pid = _read_pid(data)
    if pid is None:
        return False
    _stop_pid(pid, data)
    return True
