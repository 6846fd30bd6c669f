"""The catalogue: every event type Salesledger accepts, parsed through one discriminated union."""

from __future__ import annotations

from typing import Annotated, TypeAlias

from pydantic import Field, TypeAdapter

from events.activities import CallLogged
from events.prospecting import LeadCaptured

Event: TypeAlias = Annotated[CallLogged | LeadCaptured, Field(discriminator="type")]

EVENT_TYPES: dict[str, type[CallLogged | LeadCaptured]] = {
    "CallLogged": CallLogged,
    "LeadCaptured": LeadCaptured,
}
"""Event type name -> model; the names double as bounded metric labels."""

LATEST_VERSION: dict[str, int] = {name: 1 for name in EVENT_TYPES}

EVENT_ADAPTER: TypeAdapter[CallLogged | LeadCaptured] = TypeAdapter(Event)
