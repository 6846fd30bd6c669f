"""Publish sales facts to Salesledger over HTTP, safely under retries.

For upstream tools (dialers, email platforms, CRMs). The promise: a fact is recorded once however
often it is sent. Two things keep it. An event's id is fixed before the first attempt (derived
from the tool's own key for the fact when there is one, so even a restarted tool sends the same
id). And every retry resends the identical bytes, so a retry after a lost response comes back as
``duplicate``, which counts as success.

Only failures that may pass are retried: connection errors, timeouts, 429 and 5xx. A rejected
event (any other 4xx) is returned as a `Result`, never raised: sending it again cannot help.
`PublishError` means "retries ran out and we do not know whether Salesledger has it"; publishing
the same events again later is always safe.

`Publisher` (standard library only) and `AsyncPublisher` (aiohttp, the ``async`` extra) differ
only in I/O. Request building, response interpretation and the retry schedule are pure functions
in this package's modules, shared by both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from salesledger_publisher.events import (
    BATCH_PATH,
    DEFAULT_MAX_BATCH_SIZE,
    EVENT_ID_NAMESPACE,
    EVENTS_PATH,
    Status,
    encode,
    new_event,
    stable_id,
)
from salesledger_publisher.results import BatchResult, FieldError, PublishError, Result
from salesledger_publisher.retry import (
    DEFAULT_BACKOFF,
    Backoff,
    Retry,
    RetryPolicy,
    parse_retry_after,
    retry_delay,
    retry_for_exception,
    retry_for_reply,
)
from salesledger_publisher.sync import Publisher
from salesledger_publisher.wire import (
    Prepared,
    Reply,
    batch_requests,
    batch_results,
    single_request,
    single_result,
)

if TYPE_CHECKING:
    # For type checkers only: at run time `__getattr__` below imports it on first use, so that
    # `import salesledger_publisher` works without aiohttp. Without this a user's mypy would see
    # `AsyncPublisher` as `Any` (the type `__getattr__` returns).
    from salesledger_publisher.asynchronous import AsyncPublisher

__all__ = [
    "BATCH_PATH",
    "DEFAULT_BACKOFF",
    "DEFAULT_MAX_BATCH_SIZE",
    "EVENTS_PATH",
    "EVENT_ID_NAMESPACE",
    "AsyncPublisher",
    "Backoff",
    "BatchResult",
    "FieldError",
    "Prepared",
    "PublishError",
    "Publisher",
    "Reply",
    "Result",
    "Retry",
    "RetryPolicy",
    "Status",
    "batch_requests",
    "batch_results",
    "encode",
    "new_event",
    "parse_retry_after",
    "retry_delay",
    "retry_for_exception",
    "retry_for_reply",
    "single_request",
    "single_result",
    "stable_id",
]


def __getattr__(name: str) -> Any:
    """`AsyncPublisher` on first use, so importing the package never needs aiohttp."""
    if name == "AsyncPublisher":
        from salesledger_publisher.asynchronous import AsyncPublisher

        return AsyncPublisher
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
