"""Statements from the merged ledger: which plan, which credit, which quota, which reversals.

Business rules (docs/incentives.md, "From events to statements"):

- **Credit.** A deal is credited on the local day (organisation time zone) of its first
  `DealWon`; each rep in its credit splits gets their share (`split.credit_lines`). A later
  `DealWon` of the same deal (reopened and won again) earns nothing more here.
- **Plan in force.** The rep's plan is the `CompPlanAssigned` covering the credited day (the
  latest recorded one when several do); its version is the highest one in force that day. Each
  credit line is rated under the version in force on its own day, so replaying a past period
  gives the payouts of that period even after the plan changed. When versions change within a
  period, each version rates its own lines as one statement (its tiers see only those lines).
- **Quota.** The latest revision of the rep's quota (`assignee: rep`) whose period is exactly the
  statement's period; none: rules in % of quota explain a zero line.
- **Reversals.** A `CustomerChurned` naming a deal, on a local day within the period, reverses
  what the rep earned on that deal in the period it was credited (its commission lines there);
  the plan's clawback rule decides how much comes back.
- **Adjustments.** A `CommissionAdjusted` whose period is exactly the statement's (the same first
  and last day) is a line of the statement of the plan version in force on the period's last
  day, after every rule. With no plan in force that day, or in another currency than that
  plan's, it is listed in `RepStatement.adjustments` and still counted in the totals. What a
  clawback takes back on a deal is what the plan's rules earned on it, never an adjustment.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from projections.incentives.context import NOTHING_AROUND, Context
from projections.incentives.facts import (
    IncentiveBook,
    adjustments_of,
    credit_of,
    plan_on,
    quota_of,
)
from projections.incentives.lines import Adjustment, CreditLine, Reversal, Statement
from projections.incentives.readings import kpi_readings
from projections.incentives.statement import statement
from projections.incentives.terms import KpiBonusTerms, PlanTerms
from projections.periods import day_period_key, period_days, period_kind

ZERO = Decimal(0)


@dataclass(frozen=True)
class RepStatement:
    """A rep's statement for a period: one `Statement` per plan version that rated credit in it."""

    rep_id: str
    period: str
    statements: tuple[Statement, ...]
    unrated: tuple[CreditLine, ...]
    """Credit with no plan in force on its day (no assignment, or no version then): earns nothing."""
    adjustments: tuple[Adjustment, ...] = ()
    """Manual adjustments on no plan's statement (no plan in force on the period's last day, or in
    another currency than that plan's): paid as requested, in their own currency."""
    draw_balance: Decimal = ZERO
    """The recoverable draw the rep still owes after this period (carried into the next one)."""
    carried_in: Decimal = ZERO
    """The recoverable draw the rep owed coming into this period."""

    def totals(self) -> dict[str, Decimal]:
        """The total per currency: the statements' and the adjustments listed apart."""
        sums: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for one in self.statements:
            sums[one.currency] += one.total
        for adjustment in self.adjustments:
            sums[adjustment.currency] += adjustment.earning
        return dict(sorted(sums.items()))


def rep_statement(
    book: IncentiveBook,
    rep_id: str,
    period: str,
    corrections: Sequence[Adjustment] = (),
    *,
    context: Context = NOTHING_AROUND,
    draw_balance: Decimal = ZERO,
) -> RepStatement:
    """``rep_id``'s statement for ``period`` (a key such as ``2026-Q4``), from the whole book;
    ``corrections`` of approved periods land on it as adjustments (`approvals`). ``context``
    dates team membership and territories (team-limited SPIFFs, overlays) and gives the KPI
    readings of KPI bonuses; ``draw_balance`` is the recoverable draw carried in from the
    period before (`approvals.final_statement` works it out)."""
    first, last = period_days(period)
    return _statement(
        book,
        rep_id,
        period,
        first,
        last,
        with_corrections=True,
        extra=corrections,
        context=context,
        draw_balance=draw_balance,
    )


def _statement(
    book: IncentiveBook,
    rep_id: str,
    period: str,
    first: date,
    last: date,
    *,
    with_corrections: bool,
    extra: Sequence[Adjustment] = (),
    context: Context = NOTHING_AROUND,
    draw_balance: Decimal = ZERO,
) -> RepStatement:
    """The statement; without corrections (reversals, adjustments): only what the rules earned."""
    by_plan: dict[tuple[str, int], tuple[PlanTerms, list[CreditLine]]] = {}
    unrated = []
    for line in credit_of(book, rep_id, first, last, context):
        plan = plan_on(book, rep_id, line.credited_on)
        if plan is None:
            unrated.append(line)
            continue
        by_plan.setdefault((plan.plan_id, plan.plan_version), (plan, []))[1].append(line)
    reversals = reversals_of(book, rep_id, period, first, last) if with_corrections else []
    closing = plan_on(book, rep_id, last)
    if not by_plan and (reversals or (closing is not None and closing.draw is not None) or draw_balance):
        plan = closing or plan_on(book, rep_id, first)  # a draw is owed (or recovered) with no credit too
        if plan is not None:
            by_plan[(plan.plan_id, plan.plan_version)] = (plan, [])
    adjustments = [*adjustments_of(book, rep_id, first, last), *extra] if with_corrections else []
    on_plan = [a for a in adjustments if closing is not None and a.currency == closing.currency]
    apart = [a for a in adjustments if closing is None or a.currency != closing.currency]
    if closing is not None and on_plan:
        by_plan.setdefault((closing.plan_id, closing.plan_version), (closing, []))
    quota = quota_of(book, rep_id, first, last)
    report = context.report(rep_id, period)
    statements, balance = [], draw_balance
    for index, (plan, lines) in enumerate(by_plan[key] for key in sorted(by_plan)):
        mine = reversals if index == len(by_plan) - 1 else []  # reversals land once, on the last version
        adjusted = on_plan if plan == closing else []
        wanted = bonus_kpis(plan)
        kpis = kpi_readings(report(wanted), plan.currency) if report is not None and wanted else {}
        one = statement(
            lines,
            plan,
            quota,
            rep_id=rep_id,
            kpis=kpis,
            spiffs=book.spiffs,
            reversals=mine,
            adjustments=adjusted,
            draw_balance=balance,
        )
        statements.append(one)
        balance = one.draw_balance  # the balance runs through the versions in the order they rated
    return RepStatement(
        rep_id,
        period,
        tuple(statements),
        tuple(sorted(unrated, key=lambda line: line.deal_id)),
        tuple(sorted(apart, key=Adjustment.sort_key)),
        draw_balance if not statements else balance,
        draw_balance,
    )


def opening_balance(
    book: IncentiveBook, rep_id: str, period: str, context: Context = NOTHING_AROUND
) -> Decimal:
    """The recoverable draw ``rep_id`` still owes coming into ``period``: the balance carried
    through every period of the same kind from the one holding the rep's first plan assignment,
    each rated over every fact now known. Approvals freeze what a period paid, not what the rep
    owes: a late fact that changes an approved period's earnings changes the balance it hands on
    (its pay difference is corrected forward, `approvals`). Zero for a rep never on a plan with
    a recoverable draw."""
    if not _draws_recoverably(book, rep_id):
        return ZERO
    kind, (first, _) = period_kind(period), period_days(period)
    key = day_period_key(kind, min(a.data.effective_from for a in book.assignments[rep_id]))
    balance = ZERO
    while period_days(key)[0] < first:
        balance = rep_statement(book, rep_id, key, context=context, draw_balance=balance).draw_balance
        key = day_period_key(kind, period_days(key)[1] + timedelta(days=1))
    return balance


def _draws_recoverably(book: IncentiveBook, rep_id: str) -> bool:
    plans = {a.data.plan_id for a in book.assignments.get(rep_id, ())}
    return any(p.draw is not None and p.draw.recoverable for plan in plans for p in book.plans.get(plan, ()))


def bonus_kpis(plan: PlanTerms) -> frozenset[str]:
    """The plan KPIs the plan's KPI bonuses read."""
    return frozenset(rule.kpi.value for rule in plan.rules if isinstance(rule, KpiBonusTerms))


def reversals_of(book: IncentiveBook, rep_id: str, period: str, first: date, last: date) -> list[Reversal]:
    """Deals of ``rep_id`` churned within the days, with what the rep earned on them."""
    out = []
    for churn in book.churns:
        if not first <= churn.day <= last:
            continue
        for deal_id in churn.data.deal_ids:
            won = book.first_wins.get(deal_id)
            if won is None or won.day > churn.day:
                continue
            paid = _earned_on(book, rep_id, deal_id, day_period_key(period_kind(period), won.day))
            if paid is None:
                continue
            amount, currency = paid
            out.append(
                Reversal(deal_id, amount, currency, won.day, churn.day, (won.event_id, churn.event_id))
            )
    return out


def _earned_on(book: IncentiveBook, rep_id: str, deal_id: str, period: str) -> tuple[Decimal, str] | None:
    """What ``rep_id`` earned on ``deal_id`` in ``period`` (the same kind of period as the
    statement reversing it, holding the day it was credited): its lines there, before reversals."""
    first, last = period_days(period)
    earned = _statement(book, rep_id, period, first, last, with_corrections=False)
    for one in earned.statements:
        lines = [line for line in one.lines if line.deal_id == deal_id and line.earning > 0]
        if lines:
            return sum((line.earning for line in lines), ZERO), one.currency
    return None


def payouts(book: IncentiveBook, period: str) -> list[RepStatement]:
    """Every rep's statement for ``period``, by rep id."""
    return [rep_statement(book, rep, period) for rep in sorted(book.reps())]
