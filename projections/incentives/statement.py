"""A rep's commission statement for one period: credit lines in, explained lines and totals out.

Business rules (docs/incentives.md):

- **Order of the rules**: the earning rules in plan order (commission tiers, KPI bonuses, SPIFFs),
  then the caps in plan order, then the draw, then clawbacks, then manual adjustments. Caps see
  every earning; the draw guarantees the period's earnings after caps; clawbacks correct earlier
  periods, so neither caps nor the draw absorb them; adjustments pay what was requested, so
  neither caps nor the draw see them either.
- **What can be rated**: credit lines in the plan currency on days the plan version is in force.
  Any other line gets an explained zero line from each rule that rates deals, and counts toward
  nothing: amounts are never converted between currencies.
- **Quota**: attainment is credit / quota, for quota-based thresholds and decelerators only. No
  quota, a zero quota, or a quota in another currency: those rules cannot rate, and say so.
- **Determinism**: lines are sorted inside (`CreditLine.sort_key`), so the statement depends only
  on the set of lines, not on their order or on how they were gathered; its total is the exact sum
  of its lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from fractions import Fraction

from events.money import Money
from projections.incentives.adjustments import adjustment_lines, cap_lines, clawback_lines, draw_lines
from projections.incentives.amounts import ZERO, exact, money_text, rounded
from projections.incentives.bonuses import kpi_bonus_lines, spiff_lines
from projections.incentives.commission import commission_lines
from projections.incentives.lines import (
    Adjustment,
    CreditLine,
    KpiReading,
    Rating,
    Reversal,
    Statement,
    StatementLine,
)
from projections.incentives.terms import (
    CapTerms,
    ClawbackTerms,
    FlatTerms,
    KpiBonusTerms,
    MarginalTerms,
    PlanTerms,
    SpiffRuleTerms,
    SpiffTerms,
)

_ATTAINMENT_SHOWN = Decimal("0.01")


def _unratable(credit: CreditLine, plan: PlanTerms) -> str | None:
    if credit.currency != plan.currency:
        amount = f"{money_text(credit.amount)} {credit.currency}"
        return f"not rated: credited {amount}, the plan pays in {plan.currency} (never converted)"
    if not plan.in_force_on(credit.credited_on):
        return f"not rated: {plan.plan_id} v{plan.plan_version} is not in force on {credit.credited_on}"
    return None


def _quota(quota: Money | None, plan: PlanTerms) -> tuple[Decimal | None, str]:
    if quota is None:
        return None, "not rated: no quota for the period, and the rule is set in percent of quota"
    if quota.currency != plan.currency:
        return None, f"not rated: the quota is in {quota.currency}, the plan pays in {plan.currency}"
    if quota.amount == 0:
        return None, "not rated: a quota of 0 gives no attainment to set the rule by"
    return quota.amount, ""


def rating_of(lines: Iterable[CreditLine], plan: PlanTerms, quota: Money | None) -> Rating:
    """The credit lines sorted and sorted out (ratable or not, and why), with the usable quota."""
    ordered = sorted(lines, key=CreditLine.sort_key)
    reasons = [(credit, _unratable(credit, plan)) for credit in ordered]
    ratable = tuple(credit for credit, reason in reasons if reason is None)
    skipped = tuple((credit, reason) for credit, reason in reasons if reason is not None)
    amount, no_quota = _quota(quota, plan)
    credited = sum((credit.amount for credit in ratable), ZERO)
    return Rating(plan, ratable, skipped, credited, amount, no_quota)


def _earning_lines(
    rating: Rating, kpis: Mapping[str, KpiReading], spiffs: Mapping[str, SpiffTerms]
) -> list[StatementLine]:
    lines: list[StatementLine] = []
    for rule in rating.plan.rules:
        match rule:
            case MarginalTerms() | FlatTerms():
                lines += commission_lines(rule, rating)
            case KpiBonusTerms():
                lines += kpi_bonus_lines(rule, rating, kpis)
            case SpiffRuleTerms():
                lines += spiff_lines(rule, rating, spiffs)
    return lines


def _spiffs_by_id(spiffs: Iterable[SpiffTerms]) -> dict[str, SpiffTerms]:
    by_id: dict[str, SpiffTerms] = {}
    for spiff in spiffs:
        if by_id.setdefault(spiff.spiff_id, spiff) != spiff:
            raise ValueError(f"two different SPIFFs with the id {spiff.spiff_id}")
    return by_id


def statement(
    lines: Iterable[CreditLine],
    terms: PlanTerms,
    quota: Money | None = None,
    *,
    rep_id: str,
    kpis: Mapping[str, KpiReading] | None = None,
    spiffs: Iterable[SpiffTerms] = (),
    reversals: Iterable[Reversal] = (),
    draw_balance: Decimal = ZERO,
    adjustments: Iterable[Adjustment] = (),
) -> Statement:
    """``rep_id``'s statement under ``terms`` for the period whose credit lines are ``lines``.

    ``kpis`` are the rep's KPI readings for the period (keyed by KPI name), ``spiffs`` the
    announced SPIFFs the plan may refer to, ``reversals`` the deals reversed in the period,
    ``draw_balance`` the recoverable draw still owed from earlier periods (returned updated), and
    ``adjustments`` the manual adjustments of the period.
    """
    credit = list(lines)
    if strangers := sorted({line.rep_id for line in credit} - {rep_id}):
        raise ValueError(f"credit lines of {', '.join(strangers)} passed for the statement of {rep_id}")
    if draw_balance < 0:
        raise ValueError("a draw balance is what the rep owes: never negative")
    with exact():
        rating = rating_of(credit, terms, quota)
        out = _earning_lines(rating, kpis or {}, _spiffs_by_id(spiffs))
        for cap in (rule for rule in terms.rules if isinstance(rule, CapTerms)):
            out += cap_lines(cap, out, rating)
        balance = draw_balance
        if terms.draw is not None:
            draw, balance = draw_lines(terms.draw, sum((line.earning for line in out), ZERO), balance, rating)
            out.append(draw)
        clawbacks = [rule for rule in terms.rules if isinstance(rule, ClawbackTerms)]
        out += clawback_lines(clawbacks, list(reversals), rating)
        out += adjustment_lines(list(adjustments), rating)
        attainment = None
        if rating.quota is not None:
            attainment = rounded(Fraction(rating.credited) * 100 / Fraction(rating.quota), _ATTAINMENT_SHOWN)
        return Statement(
            rep_id=rep_id,
            plan_id=terms.plan_id,
            plan_version=terms.plan_version,
            currency=terms.currency,
            lines=tuple(out),
            total=sum((line.earning for line in out), ZERO),
            credited=rating.credited,
            attainment_percent=attainment,
            draw_balance=balance,
        )
