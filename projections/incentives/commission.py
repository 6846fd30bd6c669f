"""Commission rules (marginal and flat tiers) turned into statement lines, one rule at a time.

Business rules (docs/incentives.md, "Commission"):

- Every credit line gets at least one line from every commission rule: one per tier slice it
  earns in (marginal), one at its bracket's rate (flat), or an explained zero line when the rule
  cannot rate it (another currency, plan not in force that day, no usable quota).
- **Period-to-date** marginal tiers run on the rep's running total, credit lines taken in
  `CreditLine.sort_key` order (day credited, then deal), so the slices a deal gets do not depend
  on the order the lines were passed in. **Per deal**, each deal is tiered from zero.
- A **retroactive** flat rule rates every line at the bracket of the period-to-date total: the
  statement is recomputed from all the period's lines, so reaching a threshold re-rates them all.
- The rate applies to the rep's credited share; per-deal thresholds scale with that share.
"""

from __future__ import annotations

from decimal import Decimal

from events.plan_rules import TierBasis
from projections.incentives.amounts import HUNDRED, ZERO, money_text, percent_of, percent_text
from projections.incentives.lines import CreditLine, LineKind, Rating, StatementLine
from projections.incentives.terms import CommissionTerms, Decelerator, MarginalTerms, Tier, TierScope
from projections.incentives.tiers import (
    Slice,
    amount_tiers,
    below_floor,
    decelerated,
    marginal_slices,
    scaled,
    tier_at,
)


def skipped_lines(rule_id: str, kind: LineKind, rating: Rating) -> list[StatementLine]:
    """An explained zero line for each credit line no rule can rate."""
    return [
        rating.line(kind, rule_id, credit.deal_id, None, ZERO, ZERO, credit.event_ids, reason)
        for credit, reason in rating.skipped
    ]


def _unrated(rule_id: str, rating: Rating) -> list[StatementLine]:
    return [
        rating.line(LineKind.COMMISSION, rule_id, c.deal_id, None, ZERO, ZERO, c.event_ids, rating.no_quota)
        for c in rating.lines
    ]


def _decelerator_in_force(decelerator: Decelerator | None, rating: Rating) -> Decelerator | None:
    if decelerator is None or rating.quota is None:
        return None
    return decelerator if below_floor(rating.credited, rating.quota, decelerator.floor_percent) else None


def _rate(rate_percent: Decimal, decelerator: Decelerator | None) -> Decimal:
    return rate_percent if decelerator is None else decelerated(rate_percent, decelerator)


def _note(decelerator: Decelerator | None) -> str:
    if decelerator is None:
        return ""
    return f"; decelerated: attainment under {percent_text(decelerator.floor_percent)} of quota"


def _bounds(piece: Slice) -> str:
    upper = "" if piece.upper is None else money_text(piece.upper)
    return f"{money_text(piece.lower)} to {upper}" if upper else f"from {money_text(piece.lower)}"


def _where(credit: CreditLine) -> str:
    if credit.share_percent == HUNDRED:
        return "of the deal"
    return f"of the deal (tiers at your {percent_text(credit.share_percent)} share)"


def _overlay(credit: CreditLine) -> str:
    """Names the reps an overlay line's credit comes from."""
    return f" (overlay on {', '.join(credit.overlay_of)})" if credit.overlay_of else ""


def _per_deal(tiers: tuple[Tier, ...], credit: CreditLine) -> tuple[Tier, ...]:
    return tiers if credit.share_percent == HUNDRED else scaled(tiers, credit.share_percent)


def _marginal(rule: MarginalTerms, tiers: tuple[Tier, ...], rating: Rating) -> list[StatementLine]:
    slow = _decelerator_in_force(rule.decelerator, rating)
    per_deal = rule.scope is TierScope.PER_DEAL
    lines, running = [], ZERO
    for credit in rating.lines:
        start = ZERO if per_deal else running
        where = _where(credit) if per_deal else "of the period-to-date credit"
        deal_tiers = _per_deal(tiers, credit) if per_deal else tiers
        pieces = marginal_slices(deal_tiers, start, start + credit.amount)
        running += credit.amount
        for piece in pieces or (Slice(start, None, tier_at(deal_tiers, start).rate_percent, ZERO),):
            rate = _rate(piece.rate_percent, slow)
            text = f"{money_text(piece.base)} in tier {_bounds(piece)} {where}{_overlay(credit)}"
            text += f" at {percent_text(rate)}"
            earning = percent_of(piece.base, rate)
            lines.append(
                rating.line(
                    LineKind.COMMISSION,
                    rule.rule_id,
                    credit.deal_id,
                    rate,
                    piece.base,
                    earning,
                    credit.event_ids,
                    text + _note(slow),
                )
            )
    return lines


def _flat(
    rule: CommissionTerms, tiers: tuple[Tier, ...], rating: Rating, retroactive: bool
) -> list[StatementLine]:
    slow = _decelerator_in_force(rule.decelerator, rating)
    lines = []
    for credit in rating.lines:
        if retroactive:
            rate = tier_at(tiers, rating.credited).rate_percent
            why = f"the bracket of the period-to-date {money_text(rating.credited)}"
        else:
            rate = tier_at(_per_deal(tiers, credit), credit.amount).rate_percent
            why = "the deal's bracket"
        rate = _rate(rate, slow)
        text = f"{money_text(credit.amount)}{_overlay(credit)} at {percent_text(rate)}, {why}{_note(slow)}"
        earning = percent_of(credit.amount, rate)
        lines.append(
            rating.line(
                LineKind.COMMISSION,
                rule.rule_id,
                credit.deal_id,
                rate,
                credit.amount,
                earning,
                credit.event_ids,
                text,
            )
        )
    return lines


def commission_lines(rule: CommissionTerms, rating: Rating) -> list[StatementLine]:
    """The lines one commission rule earns on the statement's credit lines."""
    lines = skipped_lines(rule.rule_id, LineKind.COMMISSION, rating)
    needs_quota = rule.basis is TierBasis.QUOTA_ATTAINMENT or rule.decelerator is not None
    tiers = amount_tiers(rule.tiers, rule.basis, rating.quota)
    if tiers is None or (needs_quota and rating.quota is None):
        return lines + _unrated(rule.rule_id, rating)
    if isinstance(rule, MarginalTerms):
        return lines + _marginal(rule, tiers, rating)
    return lines + _flat(rule, tiers, rating, rule.retroactive)
