"""The local broker's log (``<kafka_data_dir>/broker.log``): rotation, run markers, and reports.

The JVM's output goes to one file that every start appends to, after a marker line; when a start
fails, the reason is in that run's part of the log, buried under Java stack traces, so the
reports here pick the error lines of the last run out first.
"""

from __future__ import annotations

import time
from pathlib import Path

from services.broker.base import LOG_FILE, data_dir
from services.settings import Settings

#: Past this size the log is moved to ``broker.log.1`` at the next start (one previous log kept).
LOG_ROTATE_BYTES = 10 * 1024 * 1024
#: Opens each run's part of the log; ``failure_report`` finds the last run by it.
RUN_MARKER = "--- start "


def tail_text(text: str, lines: int) -> str:
    """The last ``lines`` lines of ``text``, without surrounding blank space."""
    return "\n".join(text.strip().splitlines()[-lines:])


def run_banner() -> bytes:
    """The line written before each start, stamped with the local time."""
    return f"\n{RUN_MARKER}{time.strftime('%Y-%m-%d %H:%M:%S')} ---\n".encode()


def rotate(log_path: Path) -> None:
    """Keep the log from growing without end: once too big, it becomes the previous log."""
    if log_path.is_file() and log_path.stat().st_size > LOG_ROTATE_BYTES:
        log_path.replace(log_path.with_name(LOG_FILE + ".1"))  # keep one previous log


def log_tail(settings: Settings, lines: int = 40) -> str:
    """The last lines of the local broker's log, for error messages and the CLI."""
    try:
        text = (data_dir(settings) / LOG_FILE).read_text(errors="replace")
    except OSError:
        return "(no broker log)"
    return tail_text(text, lines)


def failure_text(text: str, log_path: Path) -> str:
    """From a whole log's ``text``: the error lines of its last run, then that run's tail."""
    last_run = text.rpartition(RUN_MARKER)[2].partition("\n")[2]
    causes = [
        line.strip()[:300]
        for line in last_run.splitlines()
        if " ERROR " in line or line.startswith(("Caused by:", "Error", "Invalid"))
    ]
    report = "\n".join(causes[-8:])
    return f"{report}\n--- log tail ({log_path}) ---\n{tail_text(last_run, 15)}"


def failure_report(settings: Settings) -> str:
    """The error lines of the last run (Java stack traces bury the cause), then the log tail."""
    log_path = data_dir(settings) / LOG_FILE
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return "(no broker log)"
    return failure_text(text, log_path)
