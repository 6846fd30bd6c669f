"""What-if: a proposed plan over the recorded history of a period, beside the plan in force.

Which reps: those the proposal would pay, meaning every rep whose credit in the period was rated
under the proposal's plan (a new version of a plan in force), or, for a plan nobody is on yet,
every rep credited in the period (or the reps named). For each, the statement as it stands
(`approvals.final_statement` at the endpoint: every plan version in force, frozen once approved)
and the statement under the proposal over the same credit lines (overlays included), quota, KPI
readings, SPIFFs, reversals, draw balance carried in and manual adjustments (those in the
proposal's currency; corrections of approved periods stay on the standing side only), side by
side, with the deals whose earnings differ. The proposal's own effective dates are set aside:
it is tried over the period asked. Pure: the same function answers the HTTP endpoint, the CLI
and the benchmark.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from projections.incentives.books import RepStatement, bonus_kpis, rep_statement, reversals_of
from projections.incentives.context import NOTHING_AROUND, Context
from projections.incentives.facts import IncentiveBook, adjustments_of, credit_of, quota_of
from projections.incentives.lines import Statement
from projections.incentives.readings import kpi_readings
from projections.incentives.statement import statement
from projections.incentives.terms import PlanTerms
from projections.periods import period_days

ZERO = Decimal(0)


@dataclass(frozen=True)
class DealDifference:
    deal_id: str
    current: Decimal
    proposed: Decimal


@dataclass(frozen=True)
class RepComparison:
    rep_id: str
    current: RepStatement
    proposed: Statement
    differences: tuple[DealDifference, ...]
    """Deals whose earnings differ (a deal absent on one side earns 0 there)."""

    @property
    def current_total(self) -> Decimal:
        """The recorded total in the proposal's currency (other currencies are not added in)."""
        return self.current.totals().get(self.proposed.currency, ZERO)


@dataclass(frozen=True)
class WhatIf:
    period: str
    plan_id: str
    plan_version: int
    currency: str
    reps: tuple[RepComparison, ...]

    @property
    def current_total(self) -> Decimal:
        return sum((rep.current_total for rep in self.reps), ZERO)

    @property
    def proposed_total(self) -> Decimal:
        return sum((rep.proposed.total for rep in self.reps), ZERO)


def compare(
    book: IncentiveBook,
    proposal: PlanTerms,
    period: str,
    reps: Iterable[str] | None = None,
    *,
    context: Context = NOTHING_AROUND,
    current: Callable[[str], RepStatement] | None = None,
) -> WhatIf:
    """Every affected rep's payout for ``period`` as it stands (``current``: a rep's statement, by
    default `books.rep_statement`; the endpoint passes the final one, frozen once approved) and
    under ``proposal``, over the same credit (``context``: overlays, team SPIFFs, KPI readings)
    and the same draw balance carried in."""
    first, last = period_days(period)
    trial = replace(proposal, effective_from=first, effective_to=last)  # tried over the period asked
    standing = current or (lambda rep: rep_statement(book, rep, period, context=context))
    if reps is None:
        recorded = {rep: standing(rep) for rep in sorted(book.reps())}
        chosen = _affected(recorded, proposal)
    else:
        chosen = sorted(set(reps))
        recorded = {rep: standing(rep) for rep in chosen}
    wanted = bonus_kpis(trial)
    comparisons = []
    for rep_id in chosen:
        now = recorded[rep_id]
        report = context.report(rep_id, period) if wanted else None
        proposed = statement(
            credit_of(book, rep_id, first, last, context),
            trial,
            quota_of(book, rep_id, first, last),
            rep_id=rep_id,
            kpis=kpi_readings(report(wanted), trial.currency) if report is not None else {},
            spiffs=book.spiffs,
            reversals=reversals_of(book, rep_id, period, first, last),
            draw_balance=now.carried_in,
            adjustments=[
                a for a in adjustments_of(book, rep_id, first, last) if a.currency == proposal.currency
            ],
        )
        comparisons.append(RepComparison(rep_id, now, proposed, _differences(now, proposed)))
    return WhatIf(period, proposal.plan_id, proposal.plan_version, proposal.currency, tuple(comparisons))


def _affected(recorded: Mapping[str, RepStatement], proposal: PlanTerms) -> list[str]:
    """Reps rated under the proposal's plan in the period, else every rep with credit in it."""
    statements = [recorded[rep] for rep in sorted(recorded)]
    on_plan = [s.rep_id for s in statements if any(one.plan_id == proposal.plan_id for one in s.statements)]
    if on_plan:
        return on_plan
    return [s.rep_id for s in statements if s.statements or s.unrated]


def _by_deal(statements: Iterable[Statement]) -> dict[str, Decimal]:
    earned: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for one in statements:
        for line in one.lines:
            if line.deal_id is not None:
                earned[line.deal_id] += line.earning
    return earned


def _differences(current: RepStatement, proposed: Statement) -> tuple[DealDifference, ...]:
    before, after = _by_deal(current.statements), _by_deal([proposed])
    return tuple(
        DealDifference(deal, before.get(deal, ZERO), after.get(deal, ZERO))
        for deal in sorted(before.keys() | after.keys())
        if before.get(deal, ZERO) != after.get(deal, ZERO)
    )
