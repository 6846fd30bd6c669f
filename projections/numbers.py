"""How every query answer writes a number: the one rule of docs/api.md ("Numbers").

The read models keep exact values (Decimals, timedeltas, whole days); only an answer rounds, once,
here, so every endpoint writes a count, a ratio, an amount of money or a duration the same way:

- **counts** are JSON integers;
- **ratios** (conversion, win rate, attainment, probabilities, shares) are decimal fractions,
  never percent, as strings with exactly 4 places, rounded half-even (``"0.2222"``,
  ``"1.0000"``). Terms a plan or a deal *sets* (a commission rate, a credit share) are echoed
  exactly instead, with at least 4 places: a pay statement never shows a rate it did not pay at
  (a rate of 0.125 % is ``"0.00125"``);
- **money** is a string at the ISO 4217 minor-unit scale of its currency, rounded half-even
  (``"24000.00"`` EUR, ``"24000"`` JPY, ``"24.000"`` KWD). The scale comes from the ``iso4217``
  package (ISO's own table, the same list of codes `pycountry` gives the event gate); a code ISO
  lists without a minor unit (gold, SDR, test codes) and an amount with no currency are written
  with 2 places, as the commission engine rounds them;
- **durations** are JSON integers of seconds, rounded half-even, in fields whose names end in
  ``_seconds``; a duration counted in whole days (the sales cycle) is days x 86,400.

Pure: no clock, no I/O. Strings are written in plain notation, never with an exponent, and never
as ``-0``.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal
from fractions import Fraction

from iso4217 import Currency

RATIO_PLACES = 4
DEFAULT_MINOR_UNITS = 2
"""For codes ISO 4217 gives no minor unit (``XAU``, ``XDR``, ``XXX``...) and for no currency."""
SECONDS_PER_DAY = 86_400
_WIDE = Context(prec=200, rounding=ROUND_HALF_EVEN)
"""Room for any amount the catalogue admits (18 digits) summed over any history, quantized."""
_MINOR_UNITS: dict[str, int] = {
    currency.code: currency.exponent for currency in Currency if currency.exponent is not None
}

Number = Decimal | int | Fraction


def minor_units(currency: str | None) -> int:
    """Decimal places of ``currency``'s minor unit per ISO 4217 (2 when ISO gives none)."""
    return _MINOR_UNITS.get(currency or "", DEFAULT_MINOR_UNITS)


def quantum(currency: str | None) -> Decimal:
    """The smallest unit of ``currency``: ``0.01`` for EUR, ``1`` for JPY, ``0.001`` for KWD."""
    return Decimal(1).scaleb(-minor_units(currency))


def _plain(value: Decimal) -> str:
    """Plain notation, no exponent; ``-0.00`` is ``0.00``."""
    return format(value.copy_abs() if value.is_zero() else value, "f")


def _round(value: Number, places: int) -> Decimal:
    """``value`` to ``places`` decimals, half-even, computed exactly (`round` of a `Fraction`)."""
    return Decimal(round(Fraction(value) * 10**places)).scaleb(-places, _WIDE)


def ratio(value: Number) -> str:
    """A ratio as a decimal fraction with exactly 4 places, half-even: ``2/9`` is ``"0.2222"``."""
    return _plain(_round(value, RATIO_PLACES))


def ratio_of(numerator: Number, denominator: Number) -> str | None:
    """``numerator / denominator`` as `ratio`, computed exactly; None when the denominator is 0
    ("no data" is not "0")."""
    if denominator == 0:
        return None
    return ratio(Fraction(numerator) / Fraction(denominator))


def percent_as_ratio(percent: Number) -> str:
    """A value kept in percent (a KPI's target, a statement's attainment) as a `ratio`."""
    return ratio(Fraction(percent) / 100)


def rate(percent: Decimal) -> str:
    """A rate or share a plan or deal sets, given in percent, as an exact decimal fraction with at
    least 4 places: ``"2.5"`` % is ``"0.0250"``, ``"0.125"`` % is ``"0.00125"``. Never rounded."""
    fraction = percent.scaleb(-2)
    places = max(RATIO_PLACES, -int(fraction.normalize().as_tuple().exponent))
    return _plain(fraction.quantize(Decimal(1).scaleb(-places), context=_WIDE))


def money(amount: Number, currency: str | None) -> str:
    """``amount`` at ``currency``'s minor-unit scale, half-even: ``"24000.00"``, JPY ``"24000"``."""
    return _plain(_round(amount, minor_units(currency)))


def seconds(duration: timedelta | Number) -> int:
    """A duration (a timedelta, or a number of seconds) as whole seconds, half-even."""
    if isinstance(duration, timedelta):
        micros = (duration.days * SECONDS_PER_DAY + duration.seconds) * 10**6 + duration.microseconds
        return round(Fraction(micros, 10**6))
    return round(Fraction(duration))


def days_as_seconds(days: Number) -> int:
    """A duration counted in days (whole local days, docs/kpis.md) as seconds: days x 86,400."""
    return seconds(Fraction(days) * SECONDS_PER_DAY)


def count(value: Number) -> int:
    """A count as a JSON integer (counts are whole by construction; a fraction here is a bug)."""
    whole = Fraction(value)
    if whole.denominator != 1:
        raise ValueError(f"a count is a whole number, not {value}")
    return int(whole)
