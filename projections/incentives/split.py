"""Split credit: a won deal's amount shared between reps, never creating or losing a cent.

Business rules (docs/incentives.md, "Split credit"):

- Each rep is credited ``amount * share / 100``; shares total 100 % (the `DealWon` contract
  checks it), so the credits total the deal's amount exactly.
- **Remainder rule**: each credit is first rounded down to the unit (the currency's minor unit,
  or the amount's own last place if finer); the units left over go one each to the reps with
  the largest remainders, ties to the rep listed first. 100.00 at 33.34/33.33/33.33 is 33.34,
  33.33, 33.33; 0.02 at 33.34/33.33/33.33 is 0.01, 0.01, 0.00.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from events.deals import DealWonData
from projections.incentives.amounts import HUNDRED, exact, floored, quantum_of
from projections.incentives.lines import CreditLine


def split_amount(amount: Decimal, shares: Sequence[Decimal], quantum: Decimal) -> tuple[Decimal, ...]:
    """``amount`` split by ``shares`` (percent, totalling 100) in whole ``quantum``; sums to ``amount``."""
    if sum(shares, Decimal(0)) != HUNDRED:
        raise ValueError("credit shares must total 100 percent")
    unit = min(quantum, Decimal(1).scaleb(int(amount.as_tuple().exponent)))
    with exact():
        wanted = [amount * share / HUNDRED for share in shares]
        credits = [floored(value, unit) for value in wanted]
        left = int((amount - sum(credits, Decimal(0))) / unit)
        largest = sorted(range(len(shares)), key=lambda i: (credits[i] - wanted[i], i))[:left]
        return tuple(credit + unit if i in largest else credit for i, credit in enumerate(credits))


def credit_lines(won: DealWonData, credited_on: date, event_ids: tuple[str, ...]) -> tuple[CreditLine, ...]:
    """One credit line per rep in the deal's credit splits, in the order they are listed."""
    money = won.amount
    shares = [split.share_percent for split in won.credit_splits]
    amounts = split_amount(money.amount, shares, quantum_of(money.currency))
    return tuple(
        CreditLine(
            deal_id=won.deal_id,
            rep_id=split.rep_id,
            amount=credited,
            currency=money.currency,
            credited_on=credited_on,
            share_percent=split.share_percent,
            event_ids=event_ids,
            deal_amount=money.amount,
            products=tuple(won.products),
        )
        for split, credited in zip(won.credit_splits, amounts, strict=True)
    )
