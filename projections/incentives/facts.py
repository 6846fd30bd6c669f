"""The incentive ledger read back: each fact with the catalogue's model, indexed for statements.

What a statement looks up, and how (docs/incentives.md, "From events to statements"): a deal's
first win, the plan version in force on a day, the rep's quota for a period, the manual
adjustments of a period. Pure: built from the merged ledger (`projections.incentives.ledger`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from events.customers import CustomerChurnedData
from events.deals import DealWonData
from events.incentives import (
    AdjustmentDirection,
    CommissionAdjustedData,
    CompPlanAssignedData,
    CompPlanPublishedData,
    Overlay,
    SpiffAnnouncedData,
)
from events.money import Money
from events.objectives import QuotaAssignedData
from projections.incentives.amounts import HUNDRED, exact, floored, quantum_of
from projections.incentives.context import NOTHING_AROUND, Context
from projections.incentives.ledger import Entries, Entry
from projections.incentives.lines import Adjustment, CreditLine
from projections.incentives.split import credit_lines
from projections.incentives.terms import PlanTerms, SpiffTerms, spiff_terms_of, terms_of
from projections.periods import local_day


@dataclass(frozen=True, slots=True)
class Fact:
    """An entry read back: when, which event, and its data as the catalogue's model."""

    at: datetime
    event_id: str
    day: date
    """The local day of ``at`` in the organisation's time zone."""


@dataclass(frozen=True, slots=True)
class Won(Fact):
    data: DealWonData


@dataclass(frozen=True, slots=True)
class Assigned(Fact):
    data: CompPlanAssignedData


@dataclass(frozen=True, slots=True)
class Churned(Fact):
    data: CustomerChurnedData


@dataclass(frozen=True, slots=True)
class QuotaSet(Fact):
    data: QuotaAssignedData


@dataclass(frozen=True, slots=True)
class Adjusted(Fact):
    data: CommissionAdjustedData


@dataclass(frozen=True)
class IncentiveBook:
    """The ledger read back, indexed the way statements look things up."""

    tz: str
    first_wins: Mapping[str, Won]
    plans: Mapping[str, tuple[PlanTerms, ...]]
    assignments: Mapping[str, tuple[Assigned, ...]]
    quotas: tuple[QuotaSet, ...]
    spiffs: tuple[SpiffTerms, ...]
    churns: tuple[Churned, ...]
    adjustments: tuple[Adjusted, ...] = ()

    def reps(self) -> set[str]:
        """Every rep with a plan assignment, credit or a manual adjustment."""
        credited = {split.rep_id for won in self.first_wins.values() for split in won.data.credit_splits}
        return credited | set(self.assignments) | {a.data.rep_id for a in self.adjustments}


def book_of(ledger: Mapping[str, Entries], tz: str) -> IncentiveBook:
    """Read every entry back with the catalogue's models (entries were validated at the gate)."""
    wins: dict[str, Won] = {}
    plans: dict[str, list[PlanTerms]] = defaultdict(list)
    assignments: dict[str, list[Assigned]] = defaultdict(list)
    quotas: list[QuotaSet] = []
    spiffs: list[SpiffTerms] = []
    churns: list[Churned] = []
    adjustments: list[Adjusted] = []
    for entry in sorted(entry for entries in ledger.values() for entry in entries.items):
        at = datetime.fromisoformat(entry.at)
        fact = (at, entry.event_id, local_day(at, tz))
        match entry.type:
            case "DealWon":
                won = Won(*fact, DealWonData.model_validate_json(entry.data))
                first = wins.get(won.data.deal_id)
                if first is None or (won.at, won.event_id) < (first.at, first.event_id):
                    wins[won.data.deal_id] = won
            case "CompPlanPublished":
                plan = terms_of(CompPlanPublishedData.model_validate_json(entry.data))
                plans[plan.plan_id].append(plan)
            case "CompPlanAssigned":
                assigned = Assigned(*fact, CompPlanAssignedData.model_validate_json(entry.data))
                assignments[assigned.data.rep_id].append(assigned)
            case "QuotaAssigned":
                quotas.append(QuotaSet(*fact, QuotaAssignedData.model_validate_json(entry.data)))
            case "SpiffAnnounced":
                spiffs.append(spiff_terms_of(SpiffAnnouncedData.model_validate_json(entry.data)))
            case "CustomerChurned":
                churns.append(Churned(*fact, CustomerChurnedData.model_validate_json(entry.data)))
            case "CommissionAdjusted":
                adjustments.append(Adjusted(*fact, CommissionAdjustedData.model_validate_json(entry.data)))
            case _:
                _ignore(entry)
    return IncentiveBook(
        tz,
        wins,
        {
            plan_id: tuple(sorted(versions, key=lambda p: p.plan_version))
            for plan_id, versions in plans.items()
        },
        {rep: tuple(sorted(facts, key=lambda f: (f.at, f.event_id))) for rep, facts in assignments.items()},
        tuple(sorted(quotas, key=lambda f: (f.at, f.event_id))),
        tuple(spiffs),
        tuple(sorted(churns, key=lambda f: (f.at, f.event_id))),
        tuple(sorted(adjustments, key=lambda f: (f.at, f.event_id))),
    )


def _ignore(entry: Entry) -> None:
    """Facts kept for later slices (payout approvals) are not read by statements yet."""


def _covering(book: IncentiveBook, rep_id: str, day: date) -> list[Assigned]:
    """``rep_id``'s assignments covering ``day``, in the order recorded (the last one decides)."""
    return [
        a
        for a in book.assignments.get(rep_id, ())
        if a.data.effective_from <= day <= (a.data.effective_to or day)
    ]


def plan_on(book: IncentiveBook, rep_id: str, day: date) -> PlanTerms | None:
    """The plan version that rates ``rep_id``'s credit of ``day``, or None (no plan: no pay)."""
    covering = _covering(book, rep_id, day)
    if not covering:
        return None
    plan_id = covering[-1].data.plan_id  # the latest recorded assignment wins
    in_force = [plan for plan in book.plans.get(plan_id, ()) if plan.in_force_on(day)]
    return in_force[-1] if in_force else None


def credit_of(
    book: IncentiveBook, rep_id: str, first: date, last: date, context: Context = NOTHING_AROUND
) -> list[CreditLine]:
    """``rep_id``'s credit lines of the days ``first`` to ``last``, one per deal first won then:
    their own share, each with their team on the day credited, and overlay credit on others'
    deals when their assignment that day carries an overlay (both from ``context``'s
    organisation; without it, no team and no overlay)."""
    lines = []
    for won in book.first_wins.values():
        if not first <= won.day <= last:
            continue
        if any(s.rep_id == rep_id for s in won.data.credit_splits):
            team = context.team_of(rep_id, won.day)
            lines += [
                replace(line, team_id=team)
                for line in credit_lines(won.data, won.day, (won.event_id,))
                if line.rep_id == rep_id
            ]
        overlay = overlay_on(book, rep_id, won.day)
        if overlay is not None and context.knows_organisation:
            line = overlay_line(won, rep_id, overlay, context)
            if line is not None:
                lines.append(line)
    return lines


def overlay_on(book: IncentiveBook, rep_id: str, day: date) -> Overlay | None:
    """The overlay of the assignment that decides ``rep_id``'s plan on ``day`` (as `plan_on`)."""
    covering = _covering(book, rep_id, day)
    return covering[-1].data.overlay if covering else None


def overlay_line(won: Won, rep_id: str, overlay: Overlay, context: Context) -> CreditLine | None:
    """``rep_id``'s overlay credit on a won deal: ``overlay.share_percent`` of the credit of the
    deal's other reps who, on the day credited, are in an overlaid team or own an overlaid
    territory; None when none of them is. Rounded down to the currency's unit, like a split."""
    teams, territories = set(overlay.team_ids), set(overlay.territory_ids)
    covered = [
        line
        for line in credit_lines(won.data, won.day, (won.event_id,))
        if line.rep_id != rep_id
        and (
            context.team_of(line.rep_id, won.day) in teams
            or (territories and not territories.isdisjoint(context.territories_of(line.rep_id, won.day)))
        )
    ]
    if not covered:
        return None
    money = won.data.amount
    with exact():
        base = sum((line.amount for line in covered), Decimal(0))
        share = sum((line.share_percent for line in covered), Decimal(0)) * overlay.share_percent / HUNDRED
        amount = floored(base * overlay.share_percent / HUNDRED, quantum_of(money.currency))
    return CreditLine(
        deal_id=won.data.deal_id,
        rep_id=rep_id,
        amount=amount,
        currency=money.currency,
        credited_on=won.day,
        share_percent=share,
        event_ids=(won.event_id,),
        deal_amount=money.amount,
        products=tuple(won.data.products),
        team_id=context.team_of(rep_id, won.day),
        overlay_of=tuple(line.rep_id for line in covered),
    )


def quota_of(book: IncentiveBook, rep_id: str, first: date, last: date) -> Money | None:
    """The latest revision of the rep's own quota for exactly this period."""
    mine = [
        q.data.amount
        for q in book.quotas
        if q.data.assignee == "rep"
        and q.data.assignee_id == rep_id
        and (q.data.period.start, q.data.period.end) == (first, last)
    ]
    return mine[-1] if mine else None


def adjustments_of(book: IncentiveBook, rep_id: str, first: date, last: date) -> list[Adjustment]:
    """``rep_id``'s manual adjustments for exactly this period (the same first and last day)."""
    return [
        _adjustment(a)
        for a in book.adjustments
        if a.data.rep_id == rep_id and (a.data.period.start, a.data.period.end) == (first, last)
    ]


def _adjustment(fact: Adjusted) -> Adjustment:
    data = fact.data
    amount = -data.amount.amount if data.direction is AdjustmentDirection.DEDUCT else data.amount.amount
    return Adjustment(
        data.adjustment_id,
        amount,
        data.amount.currency,
        data.reason,
        data.requested_by,
        fact.event_id,
        data.deal_id,
    )
