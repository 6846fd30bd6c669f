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

from dataclasses import asdict, dataclass, fields
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

    def merge(self, other: KpiCounters) -> KpiCounters:
        return KpiCounters(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KpiCounters:
        return cls(**{f.name: int(data.get(f.name, 0)) for f in fields(cls)})


def activity_of(event: Envelope) -> tuple[str, KpiCounters] | None:
    """The rep an activity counts for and what it adds, or None for events that are not activities.

    A call counts whatever its outcome (a voicemail is work done); talk time is what the dialer
    measured. A meeting is one meeting however many buyers attended.
    """
    match event:
        case CallLogged(data=data):
            connected = int(data.outcome is CallOutcome.CONNECTED)
            return data.rep_id, KpiCounters(
                calls=1, connected_calls=connected, talk_seconds=data.duration_seconds
            )
        case EmailSent(data=data):
            return data.rep_id, KpiCounters(emails_sent=1)
        case EmailReplied(data=data):
            return data.rep_id, KpiCounters(emails_replied=1)
        case MeetingHeld(data=data):
            return data.rep_id, KpiCounters(meetings=1, meeting_seconds=data.duration_seconds)
        case SocialTouch(data=data):
            return data.rep_id, KpiCounters(social_touches=1)
        case ProspectResearchLogged(data=data):
            return data.rep_id, KpiCounters(research_minutes=data.minutes)
    return None
