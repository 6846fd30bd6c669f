"""Adjustments after the earning rules: caps, the draw, clawbacks, and manual adjustments.

Business rules (docs/incentives.md, "Caps", "Draws", "Clawbacks" and "Manual adjustments"):

- **Caps** run after every earning rule (commission, KPI bonus, SPIFF), in plan order. A period
  cap sums the lines of the rules it names (every line so far when it names none, earlier caps
  included) and, above ``max_amount``, adds one negative line for the excess; a per-deal cap does
  the same deal by deal. A cap that names rules sees an earlier cap's cut only if it names that cap.
- **Draws** compare the period's earnings after caps (before clawbacks) with the draw. Short of
  it, a line pays the difference: non-recoverable, a top-up never owed back; recoverable, an
  advance added to the balance. A recoverable balance is recovered from earnings above the draw,
  never taking the payment below the draw. A balance with no recoverable draw is carried as is.
- **Clawbacks** reverse pay on a deal reversed within the window (``days served ≤ window_days``):
  the whole amount paid, or prorated, the unserved share ``(window - served) / window``. The first
  clawback rule of the plan applies; a plan without one claws nothing back and says so.
- **Manual adjustments** come last, each its own line for the amount requested: no cap limits
  them and the draw does not count them (an adjustment says what to pay; letting a cap cut it
  or the draw absorb it would silently undo it). One in another currency than the plan's is not
  added, and its zero line says so (never converted).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from projections.incentives.amounts import ZERO, money_text, percent_text, rounded
from projections.incentives.lines import Adjustment, LineKind, Rating, Reversal, StatementLine
from projections.incentives.terms import CapTerms, ClawbackTerms, DrawTerms

_RATE_SHOWN = Decimal("0.0001")


def _events(lines: Sequence[StatementLine]) -> tuple[str, ...]:
    return tuple(sorted({event for line in lines for event in line.event_ids}))


def _cap(
    rule: CapTerms, rating: Rating, deal_id: str | None, covered: Sequence[StatementLine]
) -> StatementLine:
    earned = sum((line.earning for line in covered), ZERO)
    cut = max(earned - rule.max_amount, ZERO)
    scope = ", ".join(rule.applies_to) or "the whole plan"
    verdict = (
        f"capped at {money_text(rule.max_amount)}"
        if cut
        else f"within the cap of {money_text(rule.max_amount)}"
    )
    text = f"{scope}: {money_text(earned)} earned, {verdict}"
    return rating.line(LineKind.CAP, rule.rule_id, deal_id, None, earned, -cut, _events(covered), text)


def cap_lines(rule: CapTerms, earned: Sequence[StatementLine], rating: Rating) -> list[StatementLine]:
    """The cap's lines over the lines earned so far: one per period, or one per deal."""
    covered = [line for line in earned if not rule.applies_to or line.rule_id in rule.applies_to]
    if not rule.per_deal:
        return [_cap(rule, rating, None, covered)]
    deals = sorted({line.deal_id for line in covered if line.deal_id is not None})
    return [_cap(rule, rating, deal, [line for line in covered if line.deal_id == deal]) for deal in deals]


def draw_lines(
    draw: DrawTerms, earned: Decimal, balance: Decimal, rating: Rating
) -> tuple[StatementLine, Decimal]:
    """The draw's line and the recoverable balance carried forward after it."""
    guarantee, short = money_text(draw.amount), draw.amount - earned
    if short > 0:
        what = "an advance, recovered later" if draw.recoverable else "a top-up, never owed back"
        text = f"{money_text(earned)} earned under the draw of {guarantee}: {what}"
        line = rating.line(LineKind.DRAW, draw.rule_id, None, None, draw.amount, short, (), text)
        return line, balance + line.earning if draw.recoverable else balance
    if not draw.recoverable or balance <= 0:
        text = f"{money_text(earned)} earned reaches the draw of {guarantee}"
        return rating.line(LineKind.DRAW, draw.rule_id, None, None, draw.amount, ZERO, (), text), balance
    recovered = min(balance, -short)
    text = (
        f"{money_text(recovered)} of the {money_text(balance)} advanced recovered from earnings above "
        f"the draw of {guarantee}; {money_text(balance - recovered)} carried forward"
    )
    line = rating.line(LineKind.DRAW_RECOVERY, draw.rule_id, None, None, balance, -recovered, (), text)
    return line, balance + line.earning


def _clawback(rule: ClawbackTerms, reversal: Reversal, rating: Rating) -> StatementLine:
    served, window, paid = reversal.days_served, rule.window_days, reversal.paid
    deal, events = reversal.deal_id, reversal.event_ids
    if reversal.currency != rating.plan.currency:
        text = f"paid in {reversal.currency}, the plan pays in {rating.plan.currency}: not taken back"
        return rating.line(LineKind.CLAWBACK, rule.rule_id, deal, None, paid, ZERO, events, text)
    if served > window:
        text = f"reversed after {served} days, outside the {window}-day window: nothing taken back"
        return rating.line(LineKind.CLAWBACK, rule.rule_id, deal, None, paid, ZERO, events, text)
    share = Fraction(window - served, window) if rule.prorated else Fraction(1)
    rate = Decimal(format(rounded(share * 100, _RATE_SHOWN).normalize(), "f"))  # shown to 4 places
    text = f"reversed after {served} of {window} days: {percent_text(rate)} of {money_text(paid)} taken back"
    return rating.line(
        LineKind.CLAWBACK, rule.rule_id, deal, rate, paid, -share * Fraction(paid), events, text
    )


def clawback_lines(
    rules: Sequence[ClawbackTerms], reversals: Sequence[Reversal], rating: Rating
) -> list[StatementLine]:
    """A line per reversal, in `Reversal.sort_key` order, from the plan's first clawback rule."""
    ordered = sorted(reversals, key=Reversal.sort_key)
    if not rules:
        text = "the plan has no clawback rule: nothing taken back"
        return [
            rating.line(LineKind.CLAWBACK, None, r.deal_id, None, r.paid, ZERO, r.event_ids, text)
            for r in ordered
        ]
    return [_clawback(rules[0], reversal, rating) for reversal in ordered]


def adjustment_lines(adjustments: Sequence[Adjustment], rating: Rating) -> list[StatementLine]:
    """A line per manual adjustment, in `Adjustment.sort_key` order, with no rule and no rate."""
    lines = []
    for item in sorted(adjustments, key=Adjustment.sort_key):
        base, earning, text = abs(item.amount), item.amount, item.explanation
        if item.currency != rating.plan.currency:
            earning = ZERO
            money = f"{money_text(base)} {item.currency}"
            text = f"not added: {money}, the plan pays in {rating.plan.currency} (never converted); {text}"
        event = (item.event_id,)
        lines.append(rating.line(LineKind.ADJUSTMENT, None, item.deal_id, None, base, earning, event, text))
    return lines
