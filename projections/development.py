"""A rep's development: their role, the trainings they completed and the coaching sessions they had.

A read model of its own, keyed ``rep:<rep_id>`` (both enablement events are partitioned by the
rep), rather than records in the KPI timelines: no KPI reads these events, the weak-area and
before/after analysis only needs them per rep, and a separate model leaves the KPI book and its
stored form untouched (docs/coaching.md, "Design"). The state is a set of small records merged by
union on event id, kept in time order, so any order of delivery, any split across partitions and
any redelivery give the same state. The rep's role (from `RepOnboarded`) is kept too: weak areas
compare a rep with peers of the same role (an SDR's calls are not an account executive's).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from events.enablement import CoachingSessionHeld, TrainingCompleted
from events.envelope import Envelope
from events.organisation import RepOnboarded


@dataclass(frozen=True, slots=True)
class Enablement:
    """One training completed (``kind`` training), coaching session held (``kind`` coaching), or
    the rep's onboarding (``kind`` onboarded).

    ``focus`` is the coaching session's focus area; ``topic`` the training module id, the coach id
    of a session, or the role the rep was onboarded in. ``recorded`` is when Salesledger accepted
    the event (None for partials stored before it was kept: known since forever), so a review can
    be read as it was known on a past date."""

    at: datetime
    event_id: str
    kind: str
    focus: str | None
    topic: str
    name: str | None = None
    score_percent: int | None = None
    passed: bool | None = None
    duration_seconds: int | None = None
    recorded: datetime | None = None

    def to_list(self) -> list[Any]:
        return [
            self.at.isoformat(),
            self.event_id,
            self.kind,
            self.focus,
            self.topic,
            self.name,
            self.score_percent,
            self.passed,
            self.duration_seconds,
            None if self.recorded is None else self.recorded.isoformat(),
        ]

    @classmethod
    def from_list(cls, item: list[Any]) -> Enablement:
        at, event_id, kind, focus, topic, name, score, passed, duration, *rest = item
        recorded = datetime.fromisoformat(rest[0]) if rest and rest[0] is not None else None
        return cls(
            datetime.fromisoformat(at), event_id, kind, focus, topic, name, score, passed, duration, recorded
        )


def _order(record: Enablement) -> tuple[datetime, str, str]:
    return record.at, record.event_id, record.kind


@dataclass(frozen=True, slots=True)
class Development:
    """A rep's enablement records, in time order (then event id): a set merged by union."""

    records: tuple[Enablement, ...] = ()

    @property
    def role(self) -> str | None:
        """The role of the rep's latest onboarding (None: not onboarded yet, as far as known)."""
        onboarded = [record for record in self.records if record.kind == "onboarded"]
        return onboarded[-1].topic if onboarded else None

    @property
    def enablement(self) -> tuple[Enablement, ...]:
        """The trainings and coaching sessions, in time order."""
        return tuple(record for record in self.records if record.kind != "onboarded")

    def travelled(self, as_of: datetime | None, known_at: datetime | None) -> Development:
        """The records that had happened by ``as_of`` (event time) and were recorded by
        ``known_at`` (either None: no limit on that axis)."""
        kept = tuple(
            record
            for record in self.records
            if (as_of is None or record.at <= as_of)
            and (known_at is None or record.recorded is None or record.recorded <= known_at)
        )
        return self if len(kept) == len(self.records) else Development(kept)

    def merge(self, other: Development) -> Development:
        known = {record.event_id for record in self.records}
        added = tuple(record for record in other.records if record.event_id not in known)
        if not added:
            return self
        return Development(tuple(sorted((*self.records, *added), key=_order)))

    def to_dict(self) -> dict[str, Any]:
        return {"records": [record.to_list() for record in self.records]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Development:
        return cls(tuple(Enablement.from_list(item) for item in data.get("records", ())))


def key_of(event: Envelope) -> str | None:
    """``rep:<rep_id>`` for trainings, coaching sessions and onboardings; None for other events."""
    if isinstance(event, TrainingCompleted | CoachingSessionHeld | RepOnboarded):
        return f"rep:{event.data.rep_id}"
    return None


def record_of(event: Envelope) -> Enablement | None:
    at = event.time.astimezone(UTC)
    recorded = None if event.recordedtime is None else event.recordedtime.astimezone(UTC)
    if isinstance(event, TrainingCompleted):
        d = event.data
        return Enablement(
            at,
            event.id,
            "training",
            None,
            d.module_id,
            d.module_name,
            d.score_percent,
            d.passed,
            None,
            recorded,
        )
    if isinstance(event, CoachingSessionHeld):
        s = event.data
        focus, coach = s.focus_area.value, s.coach_id
        return Enablement(
            at, event.id, "coaching", focus, coach, None, None, None, s.duration_seconds, recorded
        )
    if isinstance(event, RepOnboarded):
        return Enablement(at, event.id, "onboarded", None, event.data.role.value, recorded=recorded)
    return None


def roles_of(developments: Mapping[str, Development]) -> dict[str, str | None]:
    """Each rep's role, by rep id."""
    return {rep_id: state.role for rep_id, state in developments.items()}


def evolve(state: Development, event: Envelope) -> Development:
    """The rep's development after ``event`` (unchanged by events of other types)."""
    record = record_of(event)
    return state if record is None else state.merge(Development((record,)))


def fold(events: Iterable[Envelope]) -> dict[str, Development]:
    """Every rep's development over a history, by rep id (what a replay computes)."""
    reps: dict[str, Development] = {}
    for event in events:
        key = key_of(event)
        if key is not None:
            rep_id = key.removeprefix("rep:")
            reps[rep_id] = evolve(reps.get(rep_id, Development()), event)
    return reps


def merge_all(partials: Iterable[tuple[str, Development]]) -> dict[str, Development]:
    """Partials by storage key (``rep:<id>``, from any partitions, in any order) merged per rep."""
    reps: dict[str, Development] = {}
    for key, partial in partials:
        rep_id = key.removeprefix("rep:")
        reps[rep_id] = reps[rep_id].merge(partial) if rep_id in reps else partial
    return reps
