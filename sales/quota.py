"""The quota: assigned, and revised by assigning the same ``quota_id`` again.

Business rule: a revision may change the amount or the metric, not who the quota is for or when
(``quota_identity_changed``): a quota for another assignee or period is another quota, with its
own id, so attainment history never silently moves between reps or periods.

Not checked here: that the assignee exists, or overlapping quotas for the same assignee and period
(other aggregates).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from events.envelope import Envelope
from events.objectives import QuotaAssigned
from sales import snapshot
from sales.names import event_type
from sales.process import ProcessConfig
from sales.rules import RuleViolation

STATE_VERSION = 1
HANDLES = frozenset({"QuotaAssigned"})


@dataclass(frozen=True, slots=True)
class QuotaState:
    quota_id: str
    assignee: str
    assignee_id: str
    period: str
    """``kind start..end``, e.g. ``quarter 2026-10-01..2026-12-31``."""
    revisions: int = 0
    events: int = 1

    def to_dict(self) -> dict[str, Any]:
        return snapshot.dump(self, STATE_VERSION)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QuotaState:
        return snapshot.load(cls, data, STATE_VERSION)


def _assigned(event: Envelope) -> QuotaState:
    if not isinstance(event, QuotaAssigned):
        raise TypeError(f"{event_type(event)} is not a quota event")
    data = event.data
    period = f"{data.period.kind.value} {data.period.start.isoformat()}..{data.period.end.isoformat()}"
    return QuotaState(data.quota_id, data.assignee.value, data.assignee_id, period)


def decide(state: QuotaState | None, event: Envelope, process: ProcessConfig) -> None:
    """Raise `RuleViolation` if a revision changes the quota's assignee or period."""
    new = _assigned(event)
    if state is None:
        return
    before, after = (
        (state.assignee, state.assignee_id, state.period),
        (new.assignee, new.assignee_id, new.period),
    )
    if before != after:
        raise RuleViolation(
            "quota_identity_changed",
            f"{state.quota_id} is for {state.assignee} {state.assignee_id} over {state.period}; "
            "assign a new quota id for another assignee or period",
        )


def evolve(state: QuotaState | None, event: Envelope, process: ProcessConfig) -> QuotaState:
    """The quota after ``event`` (assumed accepted)."""
    new = _assigned(event)
    if state is None:
        return new
    return replace(state, revisions=state.revisions + 1, events=state.events + 1)
