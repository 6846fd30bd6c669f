"""Fixed-amount rules: the KPI bonus and the SPIFF.

Business rules (docs/incentives.md, "KPI bonus" and "SPIFF"):

- **KPI bonus**: the bonus is paid once per period when the KPI reading (computed by the caller)
  reaches the threshold, or stays at or below it for lower-is-better KPIs (sales cycle days), on
  at least ``min_observations`` facts. No reading, too few observations or a money KPI in another
  currency: an explained zero line.
- **SPIFF**: ``amount_per_deal`` for each credit line credited in the window (both ends
  inclusive), with one of the SPIFF's products (any, if it lists none), a whole-deal amount at or
  above the minimum, and a rep in an eligible team (any, if it lists none). A split deal pays each
  rep their share of the amount, so a SPIFF costs the same per deal however credit is split.
"""

from __future__ import annotations

from collections.abc import Mapping

from projections.incentives.amounts import ZERO, money_text, percent_of, percent_text
from projections.incentives.commission import skipped_lines
from projections.incentives.lines import CreditLine, KpiReading, LineKind, Rating, StatementLine
from projections.incentives.terms import KpiBonusTerms, SpiffRuleTerms, SpiffTerms


def _kpi_verdict(rule: KpiBonusTerms, reading: KpiReading | None, currency: str) -> tuple[bool, str]:
    name = rule.kpi.value
    if reading is None:
        return False, f"no {name} reading for the period"
    if rule.in_money and reading.currency != currency:
        return False, f"{name} is in {reading.currency}, the plan pays in {currency}: not compared"
    seen = "" if reading.observations is None else f" on {reading.observations} observations"
    if rule.min_observations and (reading.observations or 0) < rule.min_observations:
        return False, f"{name} {reading.value}{seen or ' on no count'}: fewer than {rule.min_observations}"
    met = reading.value <= rule.threshold if rule.lower_is_better else reading.value >= rule.threshold
    word = "meets" if met else "misses"
    return met, f"{name} {reading.value}{seen} {word} the threshold of {rule.threshold}"


def kpi_bonus_lines(
    rule: KpiBonusTerms, rating: Rating, kpis: Mapping[str, KpiReading]
) -> list[StatementLine]:
    """One line: the bonus when the KPI met its threshold, else an explained zero."""
    met, text = _kpi_verdict(rule, kpis.get(rule.kpi.value), rating.plan.currency)
    earning = rule.bonus if met else ZERO
    return [rating.line(LineKind.KPI_BONUS, rule.rule_id, None, None, rule.bonus, earning, (), text)]


def _disqualified(spiff: SpiffTerms, credit: CreditLine) -> str | None:
    """Why ``credit`` does not qualify for ``spiff``; None when it does."""
    if not spiff.starts_on <= credit.credited_on <= spiff.ends_on:
        return f"credited {credit.credited_on}, outside {spiff.starts_on}..{spiff.ends_on}"
    if spiff.products and not spiff.products.intersection(credit.products):
        return "none of the SPIFF's products"
    minimum = spiff.min_deal_amount
    if minimum is not None and minimum.currency != credit.currency:
        return f"minimum deal amount in {minimum.currency}, deal in {credit.currency}"
    if minimum is not None and credit.whole_deal < minimum.amount:
        return f"deal of {money_text(credit.whole_deal)} under the minimum {money_text(minimum.amount)}"
    if spiff.team_ids and credit.team_id not in spiff.team_ids:
        return f"team {credit.team_id or '(none)'} not eligible"
    return None


def spiff_lines(
    rule: SpiffRuleTerms, rating: Rating, spiffs: Mapping[str, SpiffTerms]
) -> list[StatementLine]:
    """A line per credit line: the rep's share of the SPIFF amount if the deal qualifies, else zero."""
    spiff = spiffs.get(rule.spiff_id)
    plan = rating.plan
    if spiff is None or spiff.currency != plan.currency:
        why = "not announced" if spiff is None else f"pays in {spiff.currency}, the plan in {plan.currency}"
        return [
            rating.line(LineKind.SPIFF, rule.rule_id, None, None, ZERO, ZERO, (), f"{rule.spiff_id} {why}")
        ]
    lines = skipped_lines(rule.rule_id, LineKind.SPIFF, rating)
    for credit in rating.lines:
        reason = _disqualified(spiff, credit)
        share = credit.share_percent
        earning = ZERO if reason else percent_of(spiff.amount_per_deal, share)
        text = reason or f"{money_text(spiff.amount_per_deal)} per deal at your {percent_text(share)} share"
        rate = None if reason else share
        line = rating.line(
            LineKind.SPIFF,
            rule.rule_id,
            credit.deal_id,
            rate,
            spiff.amount_per_deal,
            earning,
            credit.event_ids,
            f"{spiff.spiff_id}: {text}",
        )
        lines.append(line)
    return lines
