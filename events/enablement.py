"""Enablement events: training and coaching, aimed at the weak spots the KPIs reveal.

Focus areas follow the steps of the sales process, so a manager can set a rep's low conversion at
one stage beside the coaching they had on it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StrictBool

from events.envelope import Contract, Envelope, Identifier, LongText, ShortText


class TrainingCompletedData(Contract):
    rep_id: Identifier
    module_id: Identifier
    module_name: ShortText | None = None
    score_percent: Annotated[int, Field(strict=True, ge=0, le=100)] | None = Field(
        None, description="Assessment score; absent for modules without one."
    )
    passed: StrictBool


class TrainingCompleted(Envelope):
    """A rep completed a training module, with the assessment score if it had one."""

    type: Literal["TrainingCompleted"]
    data: TrainingCompletedData

    @property
    def partition_key(self) -> str:
        return self.data.rep_id


class FocusArea(StrEnum):
    PROSPECTING = "prospecting"
    QUALIFICATION = "qualification"
    NEEDS_ASSESSMENT = "needs_assessment"
    PRESENTATION = "presentation"
    OBJECTION_HANDLING = "objection_handling"
    CLOSING = "closing"
    FOLLOW_UP = "follow_up"
    NURTURING = "nurturing"
    PRODUCT_KNOWLEDGE = "product_knowledge"
    TIME_MANAGEMENT = "time_management"
    OTHER = "other"


class CoachingSessionHeldData(Contract):
    rep_id: Identifier = Field(description="The rep coached.")
    coach_id: Identifier
    focus_area: FocusArea
    duration_seconds: Annotated[int, Field(strict=True, ge=1, le=24 * 3600)] | None = None
    notes: LongText | None = None


class CoachingSessionHeld(Envelope):
    """A manager or peer coached a rep on one area of the sales process."""

    type: Literal["CoachingSessionHeld"]
    data: CoachingSessionHeldData

    @property
    def partition_key(self) -> str:
        return self.data.rep_id
