"""Money and the other exact decimals in the catalogue (percentages, quantities).

Commission statements must reconcile to the cent, so amounts are `Decimal`, never binary floats.

JSON choice: **numbers and strings are both accepted; output is always a string.**

- A string (``"1250.00"``) is the canonical form: exact in every JSON library, trailing zeros kept.
  It must be plain decimal notation (digits, optional fraction; no exponent, spaces, ``+`` or
  ``_``), so what a publisher wrote is what we store.
- A JSON number (``1250.5``) is accepted too, because CRMs and spreadsheets emit numbers and
  refusing them would reject correct facts. `events.parse.parse_event` decodes JSON numbers
  straight to `Decimal` (``parse_float=Decimal``), never through a float, so ``1250.10`` arrives
  exactly as written. A Python float handed to `parse_document` is taken by its shortest repr.
- Output (``serialize_event``) writes the canonical string, never an exponent: ``1E+3`` in is
  ``"1000"`` out, and ``-0`` is ``"0"``.

Bounds: amounts are non-negative (a refund, clawback or churn is its own event, never a negative
amount), at most 18 digits of which 4 after the point (ISO 4217 minor units go up to 4). The
currency must be a code of the current ISO 4217 list, as kept by `pycountry` (from Debian's
iso-codes; updated with that dependency): ``"ZZQ"`` is refused. The number of places is not checked
per currency (``"100.50"`` JPY passes).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any

import pycountry
from pydantic import AfterValidator, BeforeValidator, Field, GetJsonSchemaHandler, StringConstraints
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from events.envelope import Contract

_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_UNSIGNED_PLAIN_DECIMAL = r"^[0-9]+(\.[0-9]+)?$"
# Only values this close to 1 are rewritten without exponent; anything further out is far beyond
# every bound below and is left for the digit checks to reject (and never expanded in memory).
_MAX_ADJUSTED_EXPONENT = 40


def _exact(value: object) -> object:
    """Turn JSON input into an exact `Decimal` in plain notation; leave anything else to pydantic."""
    if isinstance(value, str):
        if not _PLAIN_DECIMAL.fullmatch(value):
            raise ValueError('a decimal must be written as plain digits, e.g. "1250.00"')
        value = Decimal(value)
    elif isinstance(value, float):
        value = Decimal(repr(value))
    elif isinstance(value, int) and not isinstance(value, bool):
        value = Decimal(value)
    if not isinstance(value, Decimal) or not value.is_finite():
        return value
    if value.is_zero():  # -0 is 0, and 0E-7 would print in exponent notation: keep at most 4 places
        return Decimal(0).scaleb(min(0, max(int(value.as_tuple().exponent), -4)))
    if abs(value.adjusted()) <= _MAX_ADJUSTED_EXPONENT:
        return Decimal(format(value, "f"))
    return value


class _JsonDecimal:
    """JSON Schema of an exact decimal: a number, or a string in plain decimal notation."""

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        for branch in json_schema.get("anyOf", []):
            if branch.get("type") == "string":
                branch["pattern"] = _UNSIGNED_PLAIN_DECIMAL
        return json_schema


# Order matters in these annotations: the bounds annotate the Decimal itself (so the JSON Schema
# shows them as minimum/maximum), and `_exact` wraps the lot, so it runs first.
Amount = Annotated[
    Decimal, _JsonDecimal(), Field(ge=0, max_digits=18, decimal_places=4), BeforeValidator(_exact)
]
"""A non-negative amount of money (the currency is said elsewhere: in `Money` or in a comp plan)."""

Percent = Annotated[
    Decimal, _JsonDecimal(), Field(ge=0, le=100, max_digits=7, decimal_places=4), BeforeValidator(_exact)
]
"""A percentage from 0 to 100 with up to 4 places: ``"2.5"`` is 2.5 %, never 0.025."""

Share = Annotated[
    Decimal, _JsonDecimal(), Field(gt=0, le=100, max_digits=7, decimal_places=4), BeforeValidator(_exact)
]
"""A positive share of a whole in percent, up to 100: ``"33.34"``."""

Quantity = Annotated[
    Decimal, _JsonDecimal(), Field(ge=0, max_digits=18, decimal_places=4), BeforeValidator(_exact)
]
"""A non-negative measure in the unit its context names (days, percent of quota, a count)."""

ISO_4217_CODES: frozenset[str] = frozenset(currency.alpha_3 for currency in pycountry.currencies)
"""Every alphabetic code of the current ISO 4217 list (`pycountry`'s copy of it)."""


def _iso_4217(code: str) -> str:
    if code not in ISO_4217_CODES:
        raise ValueError(f"{code} is not an ISO 4217 currency code")
    return code


Currency = Annotated[
    str,
    StringConstraints(strict=True, pattern=r"^[A-Z]{3}$"),
    AfterValidator(_iso_4217),
    Field(json_schema_extra={"enum": sorted(ISO_4217_CODES)}),
]
"""ISO 4217 alphabetic code of the current list, e.g. ``EUR``."""


class Money(Contract):
    """An exact, non-negative amount in one currency; amounts in different currencies never add up."""

    amount: Amount = Field(description='Exact decimal; a string such as "1250.00" (or a JSON number).')
    currency: Currency = Field(description="ISO 4217 code, e.g. EUR.")

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def is_money(value: Any) -> bool:
    """Whether a raw input looks like a `Money` object (used to tell money targets from quantities)."""
    return isinstance(value, Money | dict)
