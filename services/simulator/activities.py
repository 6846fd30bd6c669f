"""Activities on a lead (and its deal): calls, emails and replies, meetings, social touches.

Activities name the lead, and the deal too once there is one; they are always accepted by the
process, before qualification and after it alike.
"""

from __future__ import annotations

from collections.abc import Iterator

from services.simulator.story import Data, Draft
from services.simulator.thread import LeadThread


def call(thread: LeadThread, outcome: str, seconds: int, deal: bool = False) -> Draft:
    data: Data = {"rep_id": thread.rep(), "lead_id": thread.lead_id}
    if deal:
        data["deal_id"] = thread.deal_id
    inbound = thread.source == "inbound" and outcome == "connected" and thread.story.chance(0.3)
    data |= {
        "direction": "inbound" if inbound else "outbound",
        "outcome": outcome,
        "duration_seconds": seconds,
    }
    return thread.event("CallLogged", data)


def email(thread: LeadThread, reply: str | None, deal: bool = False) -> Iterator[Draft]:
    """An email, and the buyer's reply with ``reply`` sentiment if there is one."""
    story = thread.story
    sent = f"msg-{thread.lead_id}-{story.count + 1}"
    data: Data = {"rep_id": thread.rep(), "lead_id": thread.lead_id, "message_id": sent}
    if deal:
        data["deal_id"] = thread.deal_id
    else:
        data["template_id"] = f"seq-{thread.source}-{story.rng.randint(1, 4)}"
    yield thread.event("EmailSent", data)
    if reply is not None:
        if reply == "out_of_office":
            story.minutes_later(1, 3)
        else:
            story.minutes_later(20, 600)
        data = {"rep_id": thread.rep(), "lead_id": thread.lead_id, "message_id": f"re-{sent}"}
        if deal:
            data["deal_id"] = thread.deal_id
        data |= {"in_reply_to": sent, "sentiment": reply}
        yield thread.event("EmailReplied", data)


def meeting(thread: LeadThread, kind: str, rep_id: str | None = None, deal: bool = True) -> Draft:
    story = thread.story
    data: Data = {"rep_id": rep_id or thread.rep(), "lead_id": thread.lead_id}
    if deal:
        data["deal_id"] = thread.deal_id
    data |= {
        "kind": kind,
        "channel": story.pick({"video": 6, "phone": 2, "in_person": 2}),
        "duration_seconds": 60 * story.rng.choice((30, 45, 60, 60, 90)),
        "attendee_count": story.rng.randint(1, 2 if thread.segment == "smb" else 6),
    }
    return thread.event("MeetingHeld", data)


def social(thread: LeadThread, deal: bool = False) -> Draft:
    story = thread.story
    data: Data = {"rep_id": thread.rep(), "lead_id": thread.lead_id}
    if deal:
        data["deal_id"] = thread.deal_id
    data |= {
        "network": story.pick({"linkedin": 8, "x": 1, "other": 1}),
        "action": story.pick(
            {"connection_request": 3, "reaction": 2, "comment": 2, "message": 2, "share": 1}
        ),
    }
    return thread.event("SocialTouch", data)
