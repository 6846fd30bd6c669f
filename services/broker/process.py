"""The broker process we start: spawning it, knowing it again by its pid file, and stopping it.

Ours is told from anyone else's broker only by ``<kafka_data_dir>/broker.pid`` naming a live
Kafka JVM that runs our server.properties, so ``down`` can never stop an external broker, nor an
unrelated process that got a reused pid.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

from services.broker.base import LOG_FILE, PID_FILE, POLL_INTERVAL, SERVER_PROPERTIES, BrokerError, data_dir
from services.broker.jvm import cds_flags, cds_settle, java_cmd
from services.broker.logs import rotate, run_banner
from services.settings import Settings

STOP_TIMEOUT = 30.0

#: Popen objects of brokers started by this process, so their exit is reaped (no zombie that
#: would look alive to ``os.kill(pid, 0)``) and no ResourceWarning is raised at interpreter exit.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def pid_alive(pid: int) -> bool:
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


def _is_our_broker(pid: int, data: Path) -> bool:
    """Guard against pid reuse: the process must be a Kafka JVM using our server.properties."""
    if not pid_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc: trust the pid file
    wanted = str(data / SERVER_PROPERTIES).encode()
    return b"kafka.Kafka" in cmdline and wanted in cmdline


def read_pid(data: Path) -> int | None:
    """The pid of our running broker, or None (a stale pid file is removed)."""
    pid_file = data / PID_FILE
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    if _is_our_broker(pid, data):
        return pid
    pid_file.unlink(missing_ok=True)
    return None


def spawn(java: str, lib: Path, settings: Settings) -> subprocess.Popen[bytes]:
    """Start the broker JVM detached from us (own session, output to broker.log), so it outlives
    the command that started it and a Ctrl-C in that terminal does not reach it."""
    data = data_dir(settings)
    cds_settle(data, clean_exit=False)  # leftovers of a broker that died on its own
    jvm_extra = [*cds_flags(settings, java), f"-Dkafka.logs.dir={data}"]
    main = ["kafka.Kafka", str(data / SERVER_PROPERTIES)]
    cmd = java_cmd(java, lib, settings.kafka_heap, main, jvm_extra)
    log_path = data / LOG_FILE
    rotate(log_path)
    with open(log_path, "ab") as log:
        log.write(run_banner())
        log.flush()
        proc = subprocess.Popen(
            cmd, cwd=data, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True,
        )  # fmt: skip
    _CHILDREN[proc.pid] = proc
    (data / PID_FILE).write_text(f"{proc.pid}\n")
    return proc


def stop_pid(pid: int, data: Path, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM (Kafka shuts down cleanly: flushes logs, no recovery at next start), then SIGKILL
    if it has not exited in ``timeout`` seconds; the pid file goes in both cases."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(POLL_INTERVAL)
    clean_exit = not pid_alive(pid)
    if not clean_exit:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        while pid_alive(pid) and time.monotonic() < deadline + 10:
            time.sleep(POLL_INTERVAL)
    if pid_alive(pid):
        raise BrokerError(f"kafka broker pid {pid} survived SIGKILL")
    (data / PID_FILE).unlink(missing_ok=True)
    cds_settle(data, clean_exit)
