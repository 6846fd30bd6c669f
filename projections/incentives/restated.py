"""A period as approved beside the same period as known now, with the differences listed.

Auditors ask "what did we pay, and what would we pay knowing what we know now?". The statement as
approved is the frozen one (`approvals.final_statement`: the facts recorded before the approval);
the statement as known now is the same period rated over every fact recorded since, as if it had
never been approved (no corrections of its own: what changed is what this module lists). The
difference per currency is what the corrections of later periods carry forward
(`approvals._corrections`), so the two views and the correction lines always agree.

Lines are matched by what they are about: (plan, version, kind, rule, deal). A line present on
one side only differs from zero on the other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from projections.incentives.approvals import Approval, approvals_of, final_statement, known_before
from projections.incentives.books import RepStatement, opening_balance, rep_statement
from projections.incentives.context import NOTHING_AROUND, Context
from projections.incentives.facts import book_of
from projections.incentives.ledger import Entries
from projections.periods import period_days

ZERO = Decimal(0)
LineKey = tuple[str, int, str, str, str]
"""(plan id, plan version, line kind, rule id or "", deal id or "")."""


@dataclass(frozen=True, slots=True)
class LineDifference:
    plan_id: str
    plan_version: int
    kind: str
    rule_id: str | None
    deal_id: str | None
    currency: str
    approved: Decimal
    now: Decimal
    event_ids: tuple[str, ...]
    """The events behind the line on either side (the facts that changed it among them)."""


@dataclass(frozen=True)
class Restated:
    rep_id: str
    period: str
    approval: Approval | None
    """The approval that froze the period (its first); None: never approved, nothing frozen."""
    approved: RepStatement | None
    now: RepStatement
    differences: tuple[LineDifference, ...]
    late_event_ids: tuple[str, ...]
    """Events behind the period's lines as known now that were recorded after the approval."""

    def totals_difference(self) -> dict[str, Decimal]:
        before = self.approved.totals() if self.approved is not None else {}
        after = self.now.totals()
        return {
            currency: after.get(currency, ZERO) - before.get(currency, ZERO)
            for currency in sorted(before.keys() | after.keys())
            if after.get(currency, ZERO) != before.get(currency, ZERO)
        }


def restated(
    ledger: Mapping[str, Entries], tz: str, rep_id: str, period: str, context: Context = NOTHING_AROUND
) -> Restated:
    """``rep_id``'s ``period`` as approved and as known now."""
    book = book_of(ledger, tz)
    now = rep_statement(
        book, rep_id, period, context=context, draw_balance=opening_balance(book, rep_id, period, context)
    )
    first, last = period_days(period)
    mine = [a for a in approvals_of(ledger, rep_id) if (a.first, a.last) == (first, last)]
    if not mine:
        return Restated(rep_id, period, None, None, now, (), ())
    approval = mine[0]
    approved = final_statement(ledger, tz, rep_id, period, book, context=context, approvals=[approval])
    known = {e.event_id for entries in known_before(ledger, approval).values() for e in entries.items}
    behind_now = {event for _, _, events in _lines(now).values() for event in events}
    late = sorted(behind_now - known - {approval.event_id})
    return Restated(rep_id, period, approval, approved, now, _differences(approved, now), tuple(late))


def _lines(result: RepStatement) -> dict[LineKey, tuple[str, Decimal, tuple[str, ...]]]:
    sums: dict[LineKey, Decimal] = defaultdict(lambda: ZERO)
    currency: dict[LineKey, str] = {}
    events: dict[LineKey, tuple[str, ...]] = defaultdict(tuple)
    for one in result.statements:
        for line in one.lines:
            key = (one.plan_id, one.plan_version, str(line.kind), line.rule_id or "", line.deal_id or "")
            sums[key] += line.earning
            currency[key] = one.currency
            events[key] = tuple(dict.fromkeys((*events[key], *line.event_ids)))
    for adjustment in result.adjustments:
        key = ("", 0, "adjustment", adjustment.adjustment_id, adjustment.deal_id or "")
        sums[key] += adjustment.earning
        currency[key] = adjustment.currency
        events[key] = (adjustment.event_id,)
    return {key: (currency[key], sums[key], events[key]) for key in sums}


def _differences(approved: RepStatement, now: RepStatement) -> tuple[LineDifference, ...]:
    before, after = _lines(approved), _lines(now)
    out = []
    for key in sorted(before.keys() | after.keys()):
        was, is_ = before.get(key), after.get(key)
        old, new = (was[1] if was else ZERO), (is_[1] if is_ else ZERO)
        if old == new:
            continue
        plan_id, version, kind, rule, deal = key
        currency = (is_ or was or ("", ZERO, ()))[0]
        events = tuple(dict.fromkeys((*(was[2] if was else ()), *(is_[2] if is_ else ()))))
        out.append(
            LineDifference(plan_id, version, kind, rule or None, deal or None, currency, old, new, events)
        )
    return tuple(out)
