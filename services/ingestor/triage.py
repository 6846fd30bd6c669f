"""What becomes of one inbound Kafka record: an admitted event, or a dead letter with its reason.

Kept apart from the consumer loop (`services.ingestor.consumer`) so every verdict is decided by
plain functions over a record, tested without a broker, and the loop only moves batches. The
verdicts are the gate's (`services.admission`): a record gets the reason the same bytes would get
over HTTP, plus the two only Kafka has: a binary-mode message that cannot be turned into the
structured document (`services.ingestor.binding`), and a source the publisher principal of the
record's topic is not bound to (`services.ingestor.principals`, ``source_mismatch``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from events import Envelope, Rejection
from services.admission import admit, count_rejection
from services.ingestor.binding import as_structured
from services.ingestor.principals import SourceBindings
from services.refusals import Refusal
from services.writemodel.outcomes import Appended, Outcome

log = logging.getLogger(__name__)
TRANSPORT = "kafka"


class InboundRecord(Protocol):
    """What the ingestor reads of a Kafka record (aiokafka's `ConsumerRecord` has it)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record refused, with what the dead-letter topic's ``salesledger.*`` headers will say."""

    record: InboundRecord
    reason: str
    message: str
    errors: tuple[dict[str, str], ...] = field(default=())
    rule: str | None = None

    @property
    def origin(self) -> str:
        return f"{self.record.topic}/{self.record.partition}/{self.record.offset}"


def admit_record(record: InboundRecord, bindings: SourceBindings, max_bytes: int) -> Envelope | DeadLetter:
    """The admitted event of ``record`` (stamped, counted by admission), or why it is refused.

    Never raises: a bug here must not lose the message or stall its partition, so it becomes an
    ``internal_error`` dead letter (and a logged traceback)."""
    try:
        try:
            raw = as_structured(record.value, record.headers)
        except Rejection as rejection:
            count_rejection(rejection.event_type, rejection.reason.value, TRANSPORT)
            raise
        event = admit(raw, transport=TRANSPORT, max_bytes=max_bytes)
    except Rejection as rejection:
        errors = tuple({"field": e.field, "message": e.message} for e in rejection.errors)
        return DeadLetter(record, rejection.reason.value, rejection.message, errors)
    except Exception as exc:
        log.exception("ingestor failed on %s/%s@%s", record.topic, record.partition, record.offset)
        return DeadLetter(record, Refusal.INTERNAL_ERROR, repr(exc))
    mismatch = bindings.refusal(record.topic, str(event.source))
    if mismatch is None:
        return event
    count_rejection(event.type, Refusal.SOURCE_MISMATCH, TRANSPORT)  # type: ignore[attr-defined]
    return DeadLetter(record, Refusal.SOURCE_MISMATCH, mismatch)


def refused_by_write_model(record: InboundRecord, event: Envelope, result: Appended) -> DeadLetter | None:
    """The dead letter for what the write model refused (an id conflict, a rule violation), or
    None for an accepted event or a duplicate (already recorded: nothing to route)."""
    if result.outcome is Outcome.CONFLICT:
        message = f"event id {event.id} was already accepted with different content"
        return DeadLetter(record, Refusal.ID_CONFLICT, message)
    if result.outcome is Outcome.VIOLATION:
        return DeadLetter(record, Refusal.RULE_VIOLATION, result.message or "", rule=result.rule)
    return None
