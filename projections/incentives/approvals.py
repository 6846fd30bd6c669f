"""Approved periods are frozen; what changes them later lands on the next open period, explained.

Business rules (docs/incentives.md, "Approved periods"):

- **Frozen.** Once a `PayoutApproved` names a rep and a period, that period's statement is the one
  computed from the facts recorded before the approval (their ``recordedtime``): a deal re-won,
  a churn or a late correction recorded afterwards never changes it.
- **Corrected forward.** What such a later fact changes, the difference between the period's
  statement over every fact and over the facts known at its latest approval, lands on the next
  period of the same kind that is not approved, as an adjustment line that names the period it
  corrects, both totals and the approval. Once that period is approved in turn, any further
  change lands on the one after: each difference is paid once (the amounts telescope).
- Custom periods (not a calendar month, quarter or year) are frozen but have no "next" period, so
  their later changes are not carried forward.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from events.incentives import PayoutApprovedData
from projections.incentives.books import RepStatement, opening_balance, rep_statement
from projections.incentives.context import NOTHING_AROUND, Context
from projections.incentives.facts import IncentiveBook, book_of
from projections.incentives.ledger import Entries
from projections.incentives.lines import Adjustment
from projections.periods import PERIOD_KINDS, PeriodKind, day_period_key, period_days, period_kind

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Approval:
    rep_id: str
    period: str | None
    """The period key, or None for a custom period."""
    first: date
    last: date
    recorded: str
    event_id: str

    @property
    def recorded_at(self) -> datetime:
        return datetime.fromisoformat(self.recorded)


def approvals_of(ledger: Mapping[str, Entries], rep_id: str) -> list[Approval]:
    """``rep_id``'s approvals, in the order they were recorded."""
    return approvals_by_rep(ledger).get(rep_id, [])


def approvals_by_rep(ledger: Mapping[str, Entries]) -> dict[str, list[Approval]]:
    """Every rep's approvals, in the order they were recorded (one pass over the ledger)."""
    found: dict[str, list[Approval]] = {}
    for entries in ledger.values():
        for entry in entries.items:
            if entry.type != "PayoutApproved":
                continue
            data = PayoutApprovedData.model_validate_json(entry.data)
            first, last = data.period.start, data.period.end
            key = _key(data.period.kind, first, last)
            approval = Approval(data.rep_id, key, first, last, entry.known_since, entry.event_id)
            found.setdefault(data.rep_id, []).append(approval)
    return {rep: sorted(mine, key=lambda a: (a.recorded, a.event_id)) for rep, mine in found.items()}


def _key(kind: str, first: date, last: date) -> str | None:
    if kind not in PERIOD_KINDS:
        return None
    key = day_period_key(kind, first)  # type: ignore[arg-type]
    return key if period_days(key) == (first, last) else None


def known_before(ledger: Mapping[str, Entries], approval: Approval) -> dict[str, Entries]:
    """The facts recorded up to the approval (the approval itself and later ones left out)."""
    known = {}
    for key, entries in ledger.items():
        items = tuple(
            e for e in entries.items if e.known_since <= approval.recorded and e.event_id != approval.event_id
        )
        if items:
            known[key] = Entries(items)
    return known


def final_statement(
    ledger: Mapping[str, Entries],
    tz: str,
    rep_id: str,
    period: str,
    book: IncentiveBook | None = None,
    *,
    context: Context = NOTHING_AROUND,
    approvals: Sequence[Approval] | None = None,
) -> RepStatement:
    """``rep_id``'s statement for ``period``: frozen if approved, else with the corrections of
    earlier approved periods whose next open period it is, and the recoverable draw carried in
    from the period before (``book`` and ``approvals``: the ledger read back and the rep's
    approvals, if the caller has them; ``context`` as in `books.rep_statement`)."""
    approvals = list(approvals) if approvals is not None else approvals_of(ledger, rep_id)
    book = book or book_of(ledger, tz)
    first, last = period_days(period)
    mine = [a for a in approvals if (a.first, a.last) == (first, last)]
    if mine:
        frozen = context.known_at(mine[0].recorded_at)
        return final_statement(known_before(ledger, mine[0]), tz, rep_id, period, context=frozen)
    corrections = _corrections(ledger, tz, approvals, period, context) if approvals else []
    balance = opening_balance(book, rep_id, period, context)
    return rep_statement(book, rep_id, period, corrections, context=context, draw_balance=balance)


def _corrections(
    ledger: Mapping[str, Entries], tz: str, approvals: list[Approval], period: str, context: Context
) -> list[Adjustment]:
    kind = period_kind(period)
    approved = {a.period for a in approvals if a.period is not None}
    first, _ = period_days(period)
    out = []
    same_kind = [a for a in approvals if a.period is not None and period_kind(a.period) == kind]
    for corrected in sorted({a.period for a in same_kind if a.period is not None}):
        if period_days(corrected)[1] >= first or _next_open(corrected, kind, approved) != period:
            continue
        between = [a for a in same_kind if a.period is not None and corrected <= a.period < period]
        latest = max(between, key=lambda a: (a.recorded, a.event_id))
        then = context.known_at(latest.recorded_at)
        before = _unfrozen(known_before(ledger, latest), tz, latest.rep_id, corrected, then)
        now = _unfrozen(ledger, tz, latest.rep_id, corrected, context)
        for currency in sorted(before.keys() | now.keys()):
            delta = now.get(currency, ZERO) - before.get(currency, ZERO)
            if delta:
                reason = (
                    f"corrects {corrected}: {before.get(currency, ZERO)} as approved, "
                    f"{now.get(currency, ZERO)} with what was recorded since"
                )
                correction = f"correction:{corrected}"
                out.append(Adjustment(correction, delta, currency, reason, "salesledger", latest.event_id))
    return out


def _unfrozen(
    ledger: Mapping[str, Entries], tz: str, rep_id: str, period: str, context: Context
) -> dict[str, Decimal]:
    """The period's totals over these facts, as if it had never been approved (no corrections of
    its own: those belong to it whatever its approval), its draw balance carried in as usual."""
    book = book_of(ledger, tz)
    balance = opening_balance(book, rep_id, period, context)
    return rep_statement(book, rep_id, period, context=context, draw_balance=balance).totals()


def _next_open(period: str, kind: PeriodKind, approved: set[str]) -> str:
    key = period
    while True:
        key = day_period_key(kind, period_days(key)[1] + timedelta(days=1))
        if key not in approved:
            return key


def final_payouts(
    ledger: Mapping[str, Entries],
    tz: str,
    period: str,
    *,
    context: Context = NOTHING_AROUND,
    book: IncentiveBook | None = None,
) -> list[RepStatement]:
    """Every rep's final statement for ``period``, by rep id."""
    book, approvals = book or book_of(ledger, tz), approvals_by_rep(ledger)
    return [
        final_statement(ledger, tz, rep, period, book, context=context, approvals=approvals.get(rep, []))
        for rep in sorted(book.reps())
    ]
