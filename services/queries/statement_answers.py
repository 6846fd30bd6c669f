"""Statements, restatements and payouts as answers: the engine's exact results written by the one
rule of docs/api.md ("Numbers", `projections.numbers`).

The commission engine already rounds each earning once to its currency's minor unit
(`projections.incentives.amounts`); here every amount is written at that same scale (``"0"`` owed
is ``"0.00"`` EUR), attainment as a 4-place fraction, and the rates and shares a plan or a deal
sets as exact fractions (never rounded: a statement shows the rate it paid at).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from projections import numbers
from projections.incentives.books import RepStatement
from projections.incentives.lines import Adjustment, CreditLine, Statement, StatementLine
from projections.incentives.restated import LineDifference, Restated


def totals_body(totals: Mapping[str, Decimal]) -> dict[str, str]:
    """Amounts per currency, each at its own scale (never added across currencies)."""
    return {currency: numbers.money(amount, currency) for currency, amount in totals.items()}


def line_body(line: StatementLine, currency: str) -> dict[str, Any]:
    """One rule's verdict on one deal (or on the period), in the plan's ``currency``."""
    return {
        "kind": line.kind,
        "rule_id": line.rule_id,
        "plan_id": line.plan_id,
        "plan_version": line.plan_version,
        "deal_id": line.deal_id,
        "rate": None if line.rate_percent is None else numbers.rate(line.rate_percent),
        "base": numbers.money(line.base, currency),
        "earning": numbers.money(line.earning, currency),
        "event_ids": list(line.event_ids),
        "explanation": line.explanation,
    }


def plan_statement_body(one: Statement) -> dict[str, Any]:
    """One plan version's statement: its lines, total, the credit it rated and quota attainment."""
    attainment = one.attainment_percent
    return {
        "rep_id": one.rep_id,
        "plan_id": one.plan_id,
        "plan_version": one.plan_version,
        "currency": one.currency,
        "lines": [line_body(line, one.currency) for line in one.lines],
        "total": numbers.money(one.total, one.currency),
        "credited": numbers.money(one.credited, one.currency),
        "attainment": None if attainment is None else numbers.percent_as_ratio(attainment),
        "draw_balance": numbers.money(one.draw_balance, one.currency),
    }


def credit_body(credit: CreditLine) -> dict[str, Any]:
    """Credit no plan rated: the rep's share of the deal, in the deal's currency."""
    whole = credit.deal_amount
    return {
        "deal_id": credit.deal_id,
        "rep_id": credit.rep_id,
        "amount": numbers.money(credit.amount, credit.currency),
        "currency": credit.currency,
        "credited_on": credit.credited_on,
        "share": numbers.rate(credit.share_percent),
        "event_ids": list(credit.event_ids),
        "deal_amount": None if whole is None else numbers.money(whole, credit.currency),
        "products": list(credit.products),
        "team_id": credit.team_id,
        "overlay_of": list(credit.overlay_of),
    }


def adjustment_body(adjustment: Adjustment) -> dict[str, Any]:
    """A manual adjustment on no plan's statement, paid as requested (signed) in its currency."""
    return {
        "adjustment_id": adjustment.adjustment_id,
        "amount": numbers.money(adjustment.amount, adjustment.currency),
        "currency": adjustment.currency,
        "reason": adjustment.reason,
        "requested_by": adjustment.requested_by,
        "event_id": adjustment.event_id,
        "deal_id": adjustment.deal_id,
    }


def statement_body(result: RepStatement) -> dict[str, Any]:
    """The statement as JSON: per plan version its lines and totals, then the totals per currency."""
    return {
        "rep_id": result.rep_id,
        "period": result.period,
        "statements": [plan_statement_body(one) for one in result.statements],
        "unrated": [credit_body(line) for line in result.unrated],
        "adjustments": [adjustment_body(adjustment) for adjustment in result.adjustments],
        "totals": totals_body(result.totals()),
    }


def difference_body(difference: LineDifference) -> dict[str, Any]:
    return {
        "plan_id": difference.plan_id,
        "plan_version": difference.plan_version,
        "kind": difference.kind,
        "rule_id": difference.rule_id,
        "deal_id": difference.deal_id,
        "currency": difference.currency,
        "approved": numbers.money(difference.approved, difference.currency),
        "now": numbers.money(difference.now, difference.currency),
        "event_ids": list(difference.event_ids),
    }


def restated_body(result: Restated) -> dict[str, Any]:
    """The period as approved (frozen) beside the same period as known now, and what differs."""
    approval = result.approval
    return {
        "rep_id": result.rep_id,
        "period": result.period,
        "approval": None
        if approval is None
        else {
            "rep_id": approval.rep_id,
            "period": approval.period,
            "first": approval.first,
            "last": approval.last,
            "recorded": approval.recorded,
            "event_id": approval.event_id,
        },
        "approved": None if result.approved is None else statement_body(result.approved),
        "now": statement_body(result.now),
        "differences": [difference_body(difference) for difference in result.differences],
        "totals_difference": totals_body(result.totals_difference()),
        "late_event_ids": list(result.late_event_ids),
    }
