"""Activity counters per rep and local day: the finest grain every activity KPI is summed from.

Business rule: an activity counts for the rep who did it, on the day it happened in the
organisation's time zone, whenever it arrives (a call logged a week late still counts on its own
day). Activities are facts about work done, so every one counts: nothing is deduplicated but the
event itself (by source offset, `projections.positions`).

`KpiCounters` is a commutative monoid: partials merge by addition, so each source partition can
keep its own partial per ``(rep, day)`` and a query sums any set of them (days of a period, reps
of a team).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from events.activities import CallLogged, CallOutcome, EmailReplied, EmailSent, MeetingHeld, SocialTouch
from events.envelope import Envelope
from events.prospecting import ProspectResearchLogged


@dataclass(frozen=True, slots=True)
class KpiCounters:
    """Raw counts and sums; every field adds up across partitions, days and reps."""

    calls: int = 0
    connected_calls: int = 0
    talk_seconds: int = 0
    emails_sent: int = 0
    emails_replied: int = 0
    meetings: int = 0
    meeting_seconds: int = 0
    social_touches: int = 0
    research_minutes: int = 0

    # merge and to_dict run per event and per stored partial: they spell the fields out
    # rather than iterate `dataclasses.fields` (a test checks they cover every field).

    def merge(self, other: KpiCounters) -> KpiCounters:
        return KpiCounters(
            self.calls + other.calls,
            self.connected_calls + other.connected_calls,
            self.talk_seconds + other.talk_seconds,
            self.emails_sent + other.emails_sent,
            self.emails_replied + other.emails_replied,
            self.meetings + other.meetings,
            self.meeting_seconds + other.meeting_seconds,
            self.social_touches + other.social_touches,
            self.research_minutes + other.research_minutes,
        )

    def to_dict(self) -> dict[str, int]:
        return {
            "calls": self.calls,
            "connected_calls": self.connected_calls,
            "talk_seconds": self.talk_seconds,
            "emails_sent": self.emails_sent,
            "emails_replied": self.emails_replied,
            "meetings": self.meetings,
            "meeting_seconds": self.meeting_seconds,
            "social_touches": self.social_touches,
            "research_minutes": self.research_minutes,
        }


ActivityRule = Callable[[Any], tuple[str, KpiCounters]]


def _call(event: CallLogged) -> tuple[str, KpiCounters]:
    data = event.data
    connected = int(data.outcome is CallOutcome.CONNECTED)
    return data.rep_id, KpiCounters(calls=1, connected_calls=connected, talk_seconds=data.duration_seconds)


def _meeting(event: MeetingHeld) -> tuple[str, KpiCounters]:
    return event.data.rep_id, KpiCounters(meetings=1, meeting_seconds=event.data.duration_seconds)


def _research(event: ProspectResearchLogged) -> tuple[str, KpiCounters]:
    return event.data.rep_id, KpiCounters(research_minutes=event.data.minutes)


def _one(counters: KpiCounters) -> ActivityRule:
    """The rule of an activity that always adds the same (counters are immutable: one is shared)."""
    return lambda event: (event.data.rep_id, counters)


_ACTIVITIES: dict[type[Envelope], ActivityRule] = {
    CallLogged: _call,
    EmailSent: _one(KpiCounters(emails_sent=1)),
    EmailReplied: _one(KpiCounters(emails_replied=1)),
    MeetingHeld: _meeting,
    SocialTouch: _one(KpiCounters(social_touches=1)),
    ProspectResearchLogged: _research,
}
_RULES: dict[type, ActivityRule | None] = {}


def activity_rule(cls: type) -> ActivityRule | None:
    """What an event of class ``cls`` adds (None when not an activity); a subclass of an activity
    is that activity. Looked up per class, once: the fold runs it for every event."""
    try:
        return _RULES[cls]
    except KeyError:
        rule = next((_ACTIVITIES[base] for base in cls.__mro__ if base in _ACTIVITIES), None)
        return _RULES.setdefault(cls, rule)
