"""Number cells: each shown value, the API request and field it came from, and a stable id.

A page is rendered once into HTML and once into its numbers (``{cell id: text}``) for live updates
(`services.ui.live`); both come from the same `Cells`, so what the stream pushes is exactly what a
reload would show. An id is a hash of the API request and the field, so it survives a recompute.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from services.ui.sources import Source

MISSING = "n/a"
"""What a cell shows for a value the API answers as null (a ratio of nothing, an absent field)."""


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def lookup(body: Any, pointer: str) -> Any:
    """The value at ``pointer`` (``kpis/win_rate.EUR/value``: keys and list indexes split on ``/``),
    or None when any step is missing. Keys may hold dots (``won_revenue.EUR``), never slashes."""
    here = body
    for step in pointer.split("/"):
        if isinstance(here, Mapping):
            here = here.get(step)
        elif isinstance(here, list) and step.isdigit() and int(step) < len(here):
            here = here[int(step)]
        else:
            return None
    return here


def shown(value: Any) -> str:
    """A value as the page shows it: the API's own text (``"0.2500"``, ``"24000.00"``, ``12``)."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@dataclass
class Cells:
    """The numbers of one page, collected while it is rendered."""

    values: dict[str, str] = field(default_factory=dict)

    def num(self, source: Source, body: Any, pointer: str, css: str = "num") -> str:
        """A number cell: the value at ``pointer`` of ``source``'s answer ``body``."""
        url = source.url()
        ident = "n" + hashlib.sha1(f"{url}#{pointer}".encode()).hexdigest()[:12]
        text = shown(lookup(body, pointer))
        self.values[ident] = text
        return (
            f'<span class="{css}" id="{ident}" data-api="{esc(url)}" data-field="{esc(pointer)}">'
            f"{esc(text)}</span>"
        )

    def shape(self) -> str:
        """Which cells the page has: a page whose set of cells changed is fetched again whole."""
        return hashlib.sha1("|".join(sorted(self.values)).encode()).hexdigest()[:16]
