"""Response bodies of the drill-down endpoints (`services.queries.drilldown`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from services.contracts.models import Amount, Body, Coverage

Hash = str


class MoneyBody(Body):
    """An amount at its currency's scale (docs/api.md, Numbers)."""

    amount: Amount
    currency: str


class DealItem(Body):
    """A deal as the pipeline read model sees it; team and territories of its rep as of `as_of`."""

    deal_id: str
    stage: str
    status: Literal["open", "won", "lost"]
    rep_id: str | None
    team: str | None
    territories: list[str]
    lead_id: str | None
    source: str | None = Field(description="The source of the lead the deal came from.")
    opened_at: str | None
    stage_entered_at: str | None
    last_changed_at: str | None = Field(description="Its last stage change (its opening if none).")
    expected_amount: MoneyBody | None
    won_amount: MoneyBody | None
    closed_at: str | None


class LeadItem(Body):
    """A lead as the read models see it (rep: the qualifying rep, null until qualified)."""

    lead_id: str
    status: Literal["captured", "qualified", "disqualified"]
    rep_id: str | None
    team: str | None
    territories: list[str]
    source: str | None
    deal_id: str | None
    qualified_at: str | None
    last_changed_at: str | None = Field(description="Its qualification (null before).")


class DealList(Coverage):
    deals: list[DealItem]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")
    state: Literal["live", "as_of", "known_at"] = Field(
        "live",
        description="live: the read models now; as_of: as they stood at the event time asked;"
        " known_at: only the facts recorded by the recorded time asked.",
    )


class LeadList(Coverage):
    leads: list[LeadItem]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")
    state: Literal["live", "as_of", "known_at"] = Field(
        "live",
        description="live: the read models now; as_of: as they stood at the event time asked;"
        " known_at: only the facts recorded by the recorded time asked.",
    )


class HistoryEntry(Body):
    """One event of the aggregate, as recorded in the event store."""

    position: int = Field(ge=1, description="1-based place in the aggregate's history.")
    version: int = Field(ge=2, description="The aggregate version the store recorded it at.")
    recorded_at: str
    kind: Literal["recorded", "affected"] = Field(
        description="recorded: the event is this aggregate's own; affected: an event recorded in "
        "another aggregate that changed this one (e.g. the LeadQualified that opened a deal)."
    )
    aggregate: str = Field(description="`kind:key` of the aggregate whose hash chain the hashes are of.")
    event: dict[str, Any] = Field(description="The event as published on the canonical log.")
    prev_hash: Hash
    hash: Hash


class Recorded(Body):
    aggregate: str = Field(description="`kind:key`, e.g. `deal:deal-7`.")
    recorded_state: dict[str, Any] | None = Field(description="The write model's state after the last event.")
    history: list[HistoryEntry]


class DealDetail(Recorded, Coverage):
    deal: DealItem | None = Field(description="Null while the read model has not caught up.")
    state: Literal["live", "as_of", "known_at"] = Field(
        "live",
        description="live: the read models now; as_of: as they stood at the event time asked;"
        " known_at: only the facts recorded by the recorded time asked.",
    )


class LeadDetail(Recorded, Coverage):
    lead: LeadItem | None = Field(description="Null while the read model has not caught up.")
    state: Literal["live", "as_of", "known_at"] = Field(
        "live",
        description="live: the read models now; as_of: as they stood at the event time asked;"
        " known_at: only the facts recorded by the recorded time asked.",
    )


class EventHistory(Recorded):
    event_id: str
    source: str
