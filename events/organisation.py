"""Organisation events: who sells, in which team, over which territory, and since when.

Credit, quotas and plans hang off these facts, so moves and assignments carry the business date
they take effect, which may differ from the time the event was published.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, ValidationInfo, field_validator

from events.envelope import Contract, Envelope, Identifier, ShortText
from events.period import Day, EffectiveDated


class RepRole(StrEnum):
    SALES_DEVELOPMENT_REP = "sales_development_rep"
    ACCOUNT_EXECUTIVE = "account_executive"
    ACCOUNT_MANAGER = "account_manager"
    SALES_ENGINEER = "sales_engineer"
    SALES_MANAGER = "sales_manager"


class RepOnboardedData(Contract):
    rep_id: Identifier
    display_name: ShortText = Field(description="Name shown on statements and leaderboards.")
    role: RepRole
    team_id: Identifier | None = Field(None, description="First team, if already placed in one.")
    manager_id: Identifier | None = None
    started_on: Day = Field(description="First working day; credit and quota start here.")


class RepOnboarded(Envelope):
    """A rep joined the sales organisation and can be credited from their first day."""

    type: Literal["RepOnboarded"]
    data: RepOnboardedData

    @property
    def partition_key(self) -> str:
        return self.data.rep_id


class RepMovedTeamData(Contract):
    rep_id: Identifier
    from_team_id: Identifier | None = Field(None, description="Previous team; absent if they had none.")
    to_team_id: Identifier
    effective_from: Day = Field(description="First day in the new team; team roll-ups switch here.")

    @field_validator("to_team_id")
    @classmethod
    def _is_a_move(cls, to_team_id: str, info: ValidationInfo) -> str:
        if to_team_id == info.data.get("from_team_id"):
            raise ValueError("to_team_id must differ from from_team_id")
        return to_team_id


class RepMovedTeam(Envelope):
    """A rep changed team; their earlier results stay with the old team."""

    type: Literal["RepMovedTeam"]
    data: RepMovedTeamData

    @property
    def partition_key(self) -> str:
        return self.data.rep_id


class RepLeftData(Contract):
    rep_id: Identifier
    last_day: Day = Field(description="Last working day; nothing is credited to them after it.")


class RepLeft(Envelope):
    """A rep left the organisation; their open deals and territories need a new owner."""

    type: Literal["RepLeft"]
    data: RepLeftData

    @property
    def partition_key(self) -> str:
        return self.data.rep_id


class TeamFormedData(Contract):
    team_id: Identifier
    name: ShortText
    manager_id: Identifier | None = Field(None, description="The manager whose numbers roll up from it.")
    parent_team_id: Identifier | None = Field(None, description="Team it rolls up into, if any.")

    @field_validator("parent_team_id")
    @classmethod
    def _not_its_own_parent(cls, parent: str | None, info: ValidationInfo) -> str | None:
        if parent is not None and parent == info.data.get("team_id"):
            raise ValueError("a team cannot roll up into itself")
        return parent


class TeamFormed(Envelope):
    """A team was formed: a unit whose results roll up to a manager (and to a parent team)."""

    type: Literal["TeamFormed"]
    data: TeamFormedData

    @property
    def partition_key(self) -> str:
        return self.data.team_id


class Segment(StrEnum):
    SMB = "smb"
    MID_MARKET = "mid_market"
    ENTERPRISE = "enterprise"


CountryCode = Annotated[str, StringConstraints(strict=True, pattern=r"^[A-Z]{2}$")]
"""ISO 3166-1 alpha-2, e.g. ``DE``."""


class TerritoryDefinedData(Contract):
    """Criteria a customer must meet to fall in the territory; an empty list places no constraint."""

    territory_id: Identifier
    name: ShortText
    countries: tuple[CountryCode, ...] = Field((), max_length=250)
    segments: tuple[Segment, ...] = Field((), max_length=3)
    industries: tuple[ShortText, ...] = Field((), max_length=100)
    account_ids: tuple[Identifier, ...] = Field((), max_length=1000, description="Named accounts.")


class TerritoryDefined(Envelope):
    """A territory was defined (or redefined): which customers belong to it."""

    type: Literal["TerritoryDefined"]
    data: TerritoryDefinedData

    @property
    def partition_key(self) -> str:
        return self.data.territory_id


class TerritoryAssignedData(EffectiveDated):
    territory_id: Identifier
    rep_id: Identifier = Field(description="The rep who owns the territory over the effective dates.")


class TerritoryAssigned(Envelope):
    """A territory was given to a rep for a range of days; deals in it are credited to them."""

    type: Literal["TerritoryAssigned"]
    data: TerritoryAssignedData

    @property
    def partition_key(self) -> str:
        return self.data.territory_id
