"""Bounded logging: a failure that repeats is logged once per window, with how often it repeated.

During a broker outage every Kafka client retries several times a second and each retry logs an
ERROR: about 190 lines a second, 3.5 MB in 150 s (issue 15), burying the one line that says what
happened. `Repeats` lets the first record of a kind through, suppresses the same kind for
``window`` seconds, and lets the next one through with the count it suppressed, so the log still
says how long and how often, at a bounded rate. A kind is the logger, the level and the message
with every run of digits made alike: "cannot connect to node 1 (errno 111)" and "... node 2 ..."
are one kind, while two different warnings written through one generic template ("peer %s: %s")
stay apart. Only WARNING and above are limited; info and debug pass untouched.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

from services.logs import LogFormat, use_format
from services.settings import get_settings

Kind = tuple[str, int, str]
DIGITS = re.compile(r"[0-9]+")


class Repeats(logging.Filter):
    """At most one WARNING-or-worse record of a kind per ``window`` seconds (see the module)."""

    def __init__(
        self, window: float = 10.0, clock: Callable[[], float] = time.monotonic, kinds: int = 1000
    ) -> None:
        super().__init__()
        self.window, self.clock, self.kinds = window, clock, kinds
        self._seen: dict[Kind, tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        kind = (record.name, record.levelno, DIGITS.sub("#", record.getMessage()))
        now = self.clock()
        seen = self._seen.get(kind)
        if seen is not None and now - seen[0] < self.window:
            self._seen[kind] = (seen[0], seen[1] + 1)
            return False
        if seen is not None and seen[1]:
            record.msg = f"{record.msg} [and {seen[1]} more like this in the {self.window:g} s before]"
        if len(self._seen) >= self.kinds and kind not in self._seen:
            self._seen.clear()  # a bound on memory: forgetting only lets a repeat through early
        self._seen[kind] = (now, 0)
        return True


def limit_repeats(
    logger: logging.Logger, window: float = 10.0, log_format: LogFormat | None = None
) -> Repeats:
    """Install one `Repeats` on every handler of ``logger`` (the root logger, once configured), and
    the configured line format (``SALESLEDGER_LOG_FORMAT``, `services.logs`): this is the one hook
    the worker calls once Faust has set its handlers up, and the limiter works on the record, not on
    its text, so it limits JSON and text lines alike."""
    repeats = Repeats(window)
    use_format(logger, log_format or get_settings().log_format)
    for handler in logger.handlers:
        handler.addFilter(repeats)
    return repeats
