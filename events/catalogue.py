"""The catalogue: every event type Salesledger accepts, parsed through one discriminated union.

Types are listed in the order of the business: organisation and objectives, the sales process from
prospecting to nurturing, then incentives and enablement. Docs and metrics follow this order.
"""

from __future__ import annotations

from typing import Annotated, TypeAlias, get_args

from pydantic import Field, TypeAdapter

from events.activities import (
    CallLogged,
    EmailReplied,
    EmailSent,
    MeetingHeld,
    SocialTouch,
    meeting_held_v1_to_v2,
)
from events.customers import CustomerChurned, CustomerExpanded, CustomerRenewed, FollowUpDone, NurtureTouch
from events.deals import DealLost, DealStageChanged, DealWon, ProposalSent
from events.enablement import CoachingSessionHeld, TrainingCompleted
from events.envelope import Envelope
from events.incentives import (
    CommissionAdjusted,
    CompPlanAssigned,
    CompPlanPublished,
    PayoutApproved,
    SpiffAnnounced,
    comp_plan_assigned_v1_to_v2,
    comp_plan_published_v1_to_v2,
)
from events.objectives import ObjectiveSet, QuotaAssigned
from events.organisation import (
    RepLeft,
    RepMovedTeam,
    RepOnboarded,
    TeamFormed,
    TerritoryAssigned,
    TerritoryDefined,
)
from events.presentation import ObjectionRaised, ObjectionResolved, SolutionPresented
from events.prospecting import LeadCaptured, ProspectResearchLogged
from events.qualification import LeadDisqualified, LeadQualified, NeedsAssessed
from events.versions import Upcasters

AnyEvent: TypeAlias = (
    RepOnboarded
    | RepMovedTeam
    | RepLeft
    | TeamFormed
    | TerritoryDefined
    | TerritoryAssigned
    | ObjectiveSet
    | QuotaAssigned
    | LeadCaptured
    | ProspectResearchLogged
    | CallLogged
    | EmailSent
    | EmailReplied
    | MeetingHeld
    | SocialTouch
    | LeadQualified
    | LeadDisqualified
    | NeedsAssessed
    | SolutionPresented
    | ObjectionRaised
    | ObjectionResolved
    | ProposalSent
    | DealStageChanged
    | DealWon
    | DealLost
    | FollowUpDone
    | NurtureTouch
    | CustomerRenewed
    | CustomerChurned
    | CustomerExpanded
    | CompPlanPublished
    | CompPlanAssigned
    | SpiffAnnounced
    | CommissionAdjusted
    | PayoutApproved
    | TrainingCompleted
    | CoachingSessionHeld
)

Event: TypeAlias = Annotated[AnyEvent, Field(discriminator="type")]


def type_name(model: type[Envelope]) -> str:
    """The ``type`` attribute value a model accepts (its ``Literal``)."""
    (name,) = get_args(model.model_fields["type"].annotation)
    return str(name)


EVENT_TYPES: dict[str, type[Envelope]] = {type_name(model): model for model in get_args(AnyEvent)}
"""Event type name -> model; the names double as bounded metric labels."""

UPCASTERS = Upcasters(
    {
        ("MeetingHeld", 1): meeting_held_v1_to_v2,
        ("CompPlanPublished", 1): comp_plan_published_v1_to_v2,
        ("CompPlanAssigned", 1): comp_plan_assigned_v1_to_v2,
    }
)
"""Every upcasting step of every type; a type's latest version is one past its last step."""

LATEST_VERSION: dict[str, int] = {name: UPCASTERS.latest(name) for name in EVENT_TYPES}

EVENT_ADAPTER: TypeAdapter[AnyEvent] = TypeAdapter(Event)
