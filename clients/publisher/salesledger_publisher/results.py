"""What publishing an event came to: accepted, duplicate or rejected (with every bad field)."""

from __future__ import annotations

from dataclasses import dataclass

from salesledger_publisher.events import Status


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


@dataclass(frozen=True, slots=True)
class Result:
    """What Salesledger decided about one event; `ok` means it is recorded (now or before)."""

    status: Status
    id: str | None
    reason: str | None = None
    message: str | None = None
    errors: tuple[FieldError, ...] = ()
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.status != "rejected"


@dataclass(frozen=True, slots=True)
class BatchResult:
    """One `Result` per event, in the order the events were given."""

    results: tuple[Result, ...]

    def _count(self, status: Status) -> int:
        return sum(result.status == status for result in self.results)

    @property
    def accepted(self) -> int:
        return self._count("accepted")

    @property
    def duplicate(self) -> int:
        return self._count("duplicate")

    @property
    def rejected(self) -> int:
        return self._count("rejected")

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)


class PublishError(Exception):
    """Retries ran out: Salesledger may or may not have the events. Publishing them again is safe.

    `completed` holds the results of the batch chunks that were settled before the failure.
    """

    def __init__(self, attempts: int, cause: str, status: int | None = None) -> None:
        super().__init__(f"gave up after {attempts} attempt(s); last cause: {cause}")
        self.attempts = attempts
        self.cause = cause
        self.status = status
        self.completed: tuple[Result, ...] = ()
