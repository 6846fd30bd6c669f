"""The compensation plan: published in versions, each newer than the last.

Business rule: a `CompPlanPublished` carries a ``plan_version`` greater than every version of the
same plan published before (``plan_version_not_newer``). Gaps are allowed (a draft version may
never be published); a correction is a new version, never a re-publication of an old number.

Not checked here: overlapping effective dates between versions (the version in force on a day is
the newest one covering it) or a change of currency between versions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from events.envelope import Envelope
from events.incentives import CompPlanPublished
from sales import snapshot
from sales.names import event_type
from sales.process import ProcessConfig
from sales.rules import RuleViolation

STATE_VERSION = 1
HANDLES = frozenset({"CompPlanPublished"})


@dataclass(frozen=True, slots=True)
class PlanState:
    plan_id: str
    versions: tuple[int, ...] = ()
    """Published versions, oldest first (so the last is the latest)."""
    events: int = 0

    def to_dict(self) -> dict[str, Any]:
        return snapshot.dump(self, STATE_VERSION)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlanState:
        return snapshot.load(cls, data, STATE_VERSION)


def _published(event: Envelope) -> CompPlanPublished:
    if not isinstance(event, CompPlanPublished):
        raise TypeError(f"{event_type(event)} is not a plan event")
    return event


def decide(state: PlanState | None, event: Envelope, process: ProcessConfig) -> None:
    """Raise `RuleViolation` unless the version published is newer than the plan's latest."""
    version = _published(event).data.plan_version
    if state is not None and state.versions and version <= state.versions[-1]:
        raise RuleViolation(
            "plan_version_not_newer",
            f"{state.plan_id} version {version} is not newer than version {state.versions[-1]}",
        )


def evolve(state: PlanState | None, event: Envelope, process: ProcessConfig) -> PlanState:
    """The plan after ``event`` (assumed accepted)."""
    data = _published(event).data
    plan = state or PlanState(data.plan_id)
    return replace(plan, versions=(*plan.versions, data.plan_version), events=plan.events + 1)
