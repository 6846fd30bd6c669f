"""A story is the time-ordered events of one thread of the simulation (a lead's life, the org).

Each story owns a random generator seeded from the simulation seed and the story's name, a clock
that only moves forward (business days, working hours, in the story's time zone) and a counter for
its event ids (``sim-<seed>-<story>-<n>``), so a story's events do not depend on how the stories
are interleaved, and two runs with the same seed are identical.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, TypeAlias

from events.catalogue import LATEST_VERSION
from services.simulator.clock import WORK_END, WORK_START, add_business_days, local

ONE_MINUTE = timedelta(minutes=1)
Data: TypeAlias = dict[str, Any]
"""An event's ``data``, JSON-ready."""


@dataclass(frozen=True, slots=True)
class Draft:
    """An event before it becomes a CloudEvents document (see `document`)."""

    at: datetime
    id: str
    type: str
    source: str
    subject: str
    data: Data
    actor: str | None = None
    correlation: str | None = None
    causation: str | None = None

    def document(self) -> dict[str, Any]:
        """The structured-mode CloudEvent, JSON-ready (strings, numbers, lists and dicts only)."""
        doc: dict[str, Any] = {
            "specversion": "1.0",
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": self.at.isoformat(),
            "subject": self.subject,
        }
        if LATEST_VERSION[self.type] > 1:
            doc["schemaversion"] = LATEST_VERSION[self.type]
        for name, value in (
            ("actor", self.actor),
            ("correlationid", self.correlation),
            ("causationid", self.causation),
        ):
            if value is not None:
                doc[name] = value
        doc["data"] = self.data
        return doc


class Story:
    """One thread's clock, randomness and event ids."""

    def __init__(self, seed: int, name: str, at: datetime, correlation: str | None = None) -> None:
        self.seed, self.name, self.at = seed, name, at
        self.rng = random.Random(f"salesledger-sim/{seed}/{name}")
        self.correlation = correlation
        self.count = 0
        self.last_id: str | None = None

    @property
    def tz(self) -> timezone:
        tz = self.at.tzinfo
        assert isinstance(tz, timezone)
        return tz

    def emit(self, type_: str, source: str, subject: str, data: Data, actor: str | None = None) -> Draft:
        """An event at the story's current time, caused by the story's previous event."""
        self.count += 1
        draft = Draft(
            self.at,
            f"sim-{self.seed}-{self.name}-{self.count}",
            type_,
            source,
            subject,
            data,
            None if actor is None else f"user:{actor}",
            self.correlation,
            self.last_id,
        )
        self.last_id = draft.id
        return draft

    # --- the clock ------------------------------------------------------------------------------

    def days_later(self, low: int, high: int) -> None:
        """Move to a working moment ``low`` to ``high`` business days later (0: later today)."""
        days = self.rng.randint(low, high)
        if days == 0:
            self.minutes_later(10, 180)
            return
        day = add_business_days(self.at.date(), days)
        self.at = local(day, self.rng.randint(WORK_START, WORK_END), self.tz, self.rng.randrange(60))

    def minutes_later(self, low: int, high: int) -> None:
        """Move ``low`` to ``high`` minutes on, to the next business morning after working hours."""
        moved = self.at + timedelta(minutes=self.rng.randint(low, high))
        if moved.date() != self.at.date() or moved.hour * 60 + moved.minute > WORK_END:
            day = add_business_days(self.at.date(), 1)
            moved = local(day, WORK_START + self.rng.randint(0, 90), self.tz, self.rng.randrange(60))
        self.at = moved

    def move_to(self, when: datetime) -> None:
        """Move to ``when``, or just after the current time if that is not later."""
        self.at = when if when > self.at else self.at + ONE_MINUTE

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def pick(self, weights: Mapping[str, float]) -> str:
        """A key drawn with the given weights."""
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]
