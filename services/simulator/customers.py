"""A customer's chapter after the win: follow-ups, nurture touches, perhaps an expansion, and at
the end of every contract term a renewal or a churn.

Contracts run a year (most) or a quarter from the 1st of the month after the win. The account
manager of the deal's team keeps the account if the team has one, else the deal's owner does.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from services.simulator.clock import (
    WORK_END,
    WORK_START,
    add_business_days,
    add_months,
    local,
    month_start_after,
)
from services.simulator.config import CHURN_PER_TERM
from services.simulator.names import ADD_ONS
from services.simulator.org import AM
from services.simulator.story import Data, Draft
from services.simulator.thread import LeadThread

NURTURE = {"newsletter": 4, "service_check": 3, "feedback_request": 2, "offer": 2, "event_invite": 2}
CHURN_REASONS = {
    "price": 3,
    "product_fit": 3,
    "competitor": 2,
    "budget_cut": 3,
    "poor_service": 1,
    "business_closed": 1,
}


class _Account:
    """The customer's state as the story sees it: its contract term and what it pays per term."""

    def __init__(self, thread: LeadThread, won: date) -> None:
        rng = thread.story.rng
        self.months = 12 if rng.random() < 0.65 else 3
        self.term_start = month_start_after(won)
        self.value = thread.proposal_amount if self.months == 12 else thread.proposal_amount // 4
        self.contracts = 1

    @property
    def term_end(self) -> date:
        return add_months(self.term_start, self.months) - timedelta(days=1)


def customer_story(thread: LeadThread) -> Iterator[Draft]:
    """Everything after the win, until the customer churns or the history ends."""
    story, rng = thread.story, thread.story.rng
    won = story.at.date()
    manager = thread.org.pick(rng, thread.team_id, (AM,), won)
    thread.account_manager = manager.rep_id if manager else thread.owner
    account = _Account(thread, won)
    agenda: dict[str, date | None] = {
        "follow_up": add_business_days(won, rng.randint(5, 10)),
        "second_follow_up": add_business_days(won, rng.randint(40, 60)),
        "nurture": add_business_days(won, rng.randint(20, 45)),
        "expansion": add_business_days(won, rng.randint(40, 200)) if rng.random() < 0.3 else None,
        "term": _decision_day(account, rng.randint(10, 20)),
    }
    until = thread.cfg.until
    while True:
        kind, day = min(((k, d) for k, d in agenda.items() if d is not None), key=lambda item: item[1])
        story.move_to(local(day, rng.randint(WORK_START, WORK_END), story.tz, rng.randrange(60)))
        if story.at >= until:
            return
        agenda[kind] = None
        if kind in ("follow_up", "second_follow_up"):
            yield _follow_up(thread)
        elif kind == "nurture":
            yield _nurture(thread)
            agenda["nurture"] = add_business_days(day, rng.randint(20, 45))
        elif kind == "expansion":
            yield _expansion(thread, account)
        elif rng.random() < CHURN_PER_TERM["year" if account.months == 12 else "quarter"]:
            yield _churn(thread, account)
            return
        else:
            yield _renewal(thread, account)
            agenda["term"] = _decision_day(account, rng.randint(10, 20))


def _decision_day(account: _Account, days_before: int) -> date:
    return add_business_days(account.term_end, -days_before)


def _keeper(thread: LeadThread) -> str:
    return thread.current(thread.account_manager or thread.owner or thread.worker)


def _follow_up(thread: LeadThread) -> Draft:
    rng = thread.story.rng
    satisfaction = rng.choices((2, 3, 4, 5), weights=(1, 3, 5, 4))[0]
    data: Data = {
        "customer_id": thread.customer_id,
        "deal_id": thread.deal_id,
        "rep_id": _keeper(thread),
        "satisfaction": satisfaction,
    }
    if satisfaction >= 4 and rng.random() < 0.4:
        data["opportunities"] = [rng.choice(("upsell", "cross_sell"))]
    return thread.event("FollowUpDone", data)


def _nurture(thread: LeadThread) -> Draft:
    data: Data = {
        "customer_id": thread.customer_id,
        "rep_id": _keeper(thread),
        "kind": thread.story.pick(NURTURE),
    }
    return thread.event("NurtureTouch", data)


def _expansion(thread: LeadThread, account: _Account) -> Draft:
    rng = thread.story.rng
    extras = [sku for sku in ADD_ONS if sku not in thread.products]
    kind = "cross_sell" if extras and rng.random() < 0.5 else "upsell"
    amount = max(100, round(account.value * rng.uniform(0.1, 0.4) / 100) * 100)
    account.value += amount
    data: Data = {
        "customer_id": thread.customer_id,
        "deal_id": f"{thread.deal_id}-x1",
        "rep_id": _keeper(thread),
        "kind": kind,
        "products": [rng.choice(extras)] if kind == "cross_sell" else thread.products[:1],
        "amount": thread.money(amount),
    }
    return thread.event("CustomerExpanded", data)


def _renewal(thread: LeadThread, account: _Account) -> Draft:
    account.term_start = account.term_end + timedelta(days=1)
    account.value = round(account.value * thread.story.rng.uniform(1.0, 1.08) / 100) * 100
    account.contracts += 1
    data: Data = {
        "customer_id": thread.customer_id,
        "contract_id": f"ctr-{thread.number:06d}-{account.contracts}",
        "rep_id": _keeper(thread),
        "amount": thread.money(account.value),
        "term": {
            "kind": "year" if account.months == 12 else "quarter",
            "start": account.term_start.isoformat(),
            "end": account.term_end.isoformat(),
        },
    }
    return thread.event("CustomerRenewed", data)


def _churn(thread: LeadThread, account: _Account) -> Draft:
    data: Data = {
        "customer_id": thread.customer_id,
        "reason": thread.story.pick(CHURN_REASONS),
        "deal_ids": [thread.deal_id],
        "lost_amount": thread.money(account.value),
    }
    return thread.event("CustomerChurned", data)
