"""Exact money arithmetic for the commission engine: the one place amounts are rounded.

Business rules:

- **Earnings are rounded once per statement line**, to the minor unit of the plan currency, half
  to even (banker's rounding, `ROUND_HALF_EVEN`): ``base * rate`` and prorated clawbacks are
  computed exactly (as fractions where a division is involved) and rounded only at the end, so a
  statement's total is the exact sum of its lines.
- **Nothing else is rounded.** The engine's arithmetic runs in `exact()`, a decimal context with
  100 digits that raises `decimal.Inexact` rather than round silently: with amounts of at most 18
  digits, every sum and product it does fits.
- **Minor units** follow ISO 4217, from the one table the API's answers use too
  (`projections.numbers.minor_units`: ISO's own data; two places where ISO gives none). The event
  catalogue checks a currency's code, not its places.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, Inexact, localcontext
from fractions import Fraction

from projections import numbers

ZERO = Decimal(0)
HUNDRED = Decimal(100)


@contextmanager
def exact() -> Iterator[None]:
    """Run decimal arithmetic that must not round: an inexact result raises `decimal.Inexact`."""
    with localcontext() as context:
        context.prec = 100
        context.traps[Inexact] = True
        yield


def quantum_of(currency: str) -> Decimal:
    """The smallest unit paid in ``currency``: ``0.01`` for EUR, ``1`` for JPY, ``0.001`` for KWD."""
    return numbers.quantum(currency)


def _places(quantum: Decimal) -> int:
    return -int(quantum.as_tuple().exponent)


def rounded(value: Decimal | Fraction, quantum: Decimal) -> Decimal:
    """``value`` to a whole number of ``quantum`` (a power of ten), half to even, computed exactly."""
    places = _places(quantum)
    return Decimal(round(Fraction(value) * 10**places)).scaleb(-places)


def floored(value: Decimal, quantum: Decimal) -> Decimal:
    """``value`` down to a whole number of ``quantum`` (used to split without creating money)."""
    places = _places(quantum)
    return Decimal(math.floor(Fraction(value) * 10**places)).scaleb(-places)


def percent_of(amount: Decimal, rate_percent: Decimal) -> Decimal:
    """``amount * rate %``, exact (both have finitely many places, so the product does too)."""
    return amount * rate_percent / HUNDRED


def money_text(value: Decimal) -> str:
    """An amount as a statement shows it: ``12,000.00``."""
    return f"{value:,}"


def percent_text(value: Decimal) -> str:
    """A rate as a statement shows it: ``7%``, ``2.5%``."""
    return f"{value.normalize():f}%"
