"""Tier maths: pure functions over exact decimals, no statement lines.

Business rules (docs/incentives.md):

- **Marginal tiers**: the part of an amount inside each tier earns that tier's rate. A tier runs
  from its threshold (inclusive) to the next threshold (exclusive), so with 5 % to 10k and 7 %
  above, 30,000 is the slices 0-10k at 5 % and 10k-30k at 7 %. Running on a period-to-date total,
  a deal is the slice of the running total from before it to after it.
- **Flat brackets**: the whole amount earns the rate of the last tier whose threshold it reaches,
  so an amount exactly on a boundary takes the higher tier.
- **Quota-based thresholds** (basis ``quota_attainment``) are percentages of quota, turned into
  amounts as ``threshold * quota / 100``: with a 100k quota, 125 % starts at 125,000. Without a
  usable quota (none, zero, another currency) they cannot be turned into amounts: `amount_tiers`
  returns None and the rule says so in an explained zero line; nothing divides by the quota.
- **Split deals tiered per deal** are tiered as the whole deal: the thresholds are scaled by the
  rep's share, so two reps at 50/50 earn half each of what one rep would on the whole deal.
- **Decelerator**: while attainment is below the floor (strictly), each rate is multiplied or
  replaced by a lower one (a decelerator never raises a rate); at the floor exactly, rates are
  normal. Attainment is compared by cross-multiplying
  (``credited * 100 < floor * quota``), never divided out.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from events.plan_rules import TierBasis
from projections.incentives.amounts import HUNDRED, ZERO, percent_of
from projections.incentives.terms import Decelerator, Tier


@dataclass(frozen=True, slots=True)
class Slice:
    """The part ``base`` of an amount that lies in the tier from ``lower`` to ``upper``."""

    lower: Decimal
    upper: Decimal | None
    rate_percent: Decimal
    base: Decimal


def _bounds(tiers: tuple[Tier, ...]) -> list[tuple[Tier, Decimal | None]]:
    uppers: list[Decimal | None] = [upper.threshold for _, upper in pairwise(tiers)]
    return list(zip(tiers, [*uppers, None], strict=True))


def tier_at(tiers: tuple[Tier, ...], amount: Decimal) -> Tier:
    """The bracket ``amount`` falls in: the last tier whose threshold it reaches."""
    return [tier for tier in tiers if tier.threshold <= amount][-1]


def marginal_slices(tiers: tuple[Tier, ...], start: Decimal, end: Decimal) -> tuple[Slice, ...]:
    """The non-empty parts of the span ``[start, end)`` in each tier, lowest first."""
    slices = []
    for tier, upper in _bounds(tiers):
        low = max(start, tier.threshold)
        high = end if upper is None else min(end, upper)
        if high > low:
            slices.append(Slice(tier.threshold, upper, tier.rate_percent, high - low))
    return tuple(slices)


def marginal_earning(tiers: tuple[Tier, ...], amount: Decimal) -> Decimal:
    """What ``amount`` earns on marginal tiers, exact (30,000 on 5 %/7 %/10 % at 0/10k/25k: 2,050)."""
    return sum((percent_of(s.base, s.rate_percent) for s in marginal_slices(tiers, ZERO, amount)), ZERO)


def flat_earning(tiers: tuple[Tier, ...], amount: Decimal) -> Decimal:
    """What ``amount`` earns at its bracket's rate, exact (60,000 on 1 %/2 %/3 % at 0/10k/50k: 1,800)."""
    return percent_of(amount, tier_at(tiers, amount).rate_percent)


def scaled(tiers: tuple[Tier, ...], percent: Decimal) -> tuple[Tier, ...]:
    """The tiers with every threshold taken at ``percent`` (of a quota, or of a rep's share)."""
    return tuple(Tier(percent_of(tier.threshold, percent), tier.rate_percent) for tier in tiers)


def amount_tiers(tiers: tuple[Tier, ...], basis: TierBasis, quota: Decimal | None) -> tuple[Tier, ...] | None:
    """Thresholds as amounts; None when they are percentages of a quota there is none of (or zero)."""
    if basis is TierBasis.AMOUNT:
        return tiers
    if quota is None or quota <= 0:
        return None
    return scaled(tiers, quota)


def below_floor(credited: Decimal, quota: Decimal, floor_percent: Decimal) -> bool:
    """Whether attainment ``credited / quota`` is strictly under ``floor_percent`` (quota > 0)."""
    return credited * HUNDRED < floor_percent * quota


def decelerated(rate_percent: Decimal, decelerator: Decelerator) -> Decimal:
    """The rate below the floor: times the multiplier, or the replacement rate if that is lower."""
    if decelerator.rate_percent is not None:
        return min(rate_percent, decelerator.rate_percent)
    assert decelerator.multiplier is not None  # checked when the decelerator was built
    return rate_percent * decelerator.multiplier
