"""The thresholds of coaching: when a rep's number is a weak area, and how "did it help" is measured.

They live in the sales-process file (an optional ``[coaching]`` table, docs/coaching.md), beside
the stages they talk about, because what counts as weak is a sales-management decision that
changes with the process, not a deployment setting. Every field has a documented default, so a
process file without the table behaves as shipped.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from events.enablement import FocusArea

Fraction01 = Annotated[Decimal, Field(ge=0, le=1)]

DEFAULT_FOCUS_KPIS: dict[str, str] = {
    "prospecting": "activities_per_day",
    "qualification": "stage_conversion.qualified",
    "needs_assessment": "stage_conversion.needs_assessed",
    "presentation": "stage_conversion.solution_presented",
    "objection_handling": "objection_resolution_rate",
    "closing": "win_rate",
}
"""Which KPI a coaching focus area aims at (areas without one, such as ``nurturing``, are listed
in a rep's development but have no before/after)."""


NAMED_KPIS = frozenset({"activities_per_day", "win_rate", "sales_cycle_days", "objection_resolution_rate"})
"""The coaching KPIs besides ``stage_conversion.<stage>`` (`projections.coaching`). A stage the
process does not have is measured as no KPI: its sessions get no before/after."""


class CoachingRules(BaseModel):
    """Thresholds of weak-area flags and of the before/after of coaching (docs/coaching.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ratio_margin: Fraction01 = Field(
        Decimal("0.15"),
        description="A ratio KPI is weak when it is below the peers' median by more than this "
        "(a fraction: 0.15 is 15 percentage points).",
    )
    confidence_z: Annotated[Decimal, Field(ge=0, le=5)] = Field(
        Decimal("1.96"),
        description="A ratio KPI is weak only when the upper end of its Wilson score interval at "
        "this many standard deviations (1.96: 95 %) is below the bar too; 0 compares the value alone.",
    )
    relative_margin: Fraction01 = Field(
        Decimal("0.25"),
        description="Activity per day is weak below the median x (1 - this); the sales cycle is "
        "weak above the median x (1 + this).",
    )
    min_deals: Annotated[int, Field(strict=True, ge=1)] = Field(
        5,
        description="Smallest sample (deals entering a stage, deals decided or won, objections "
        "raised) behind a rep's or a peer's value.",
    )
    min_days: Annotated[int, Field(strict=True, ge=1)] = Field(
        10, description="Smallest number of days in the team behind an activity-per-day value."
    )
    min_peers: Annotated[int, Field(strict=True, ge=1)] = Field(
        2, description="Fewest peers with enough data for a team median to compare with."
    )
    history_periods: Annotated[int, Field(strict=True, ge=0, le=8)] = Field(
        2, description="How many of the rep's previous periods (of the same kind) are shown beside a flag."
    )
    window_days: Annotated[int, Field(strict=True, ge=1, le=366)] = Field(
        28, description="Length of the windows before and after a coaching session or training."
    )
    focus_kpis: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_FOCUS_KPIS),
        description="Focus area -> the KPI it aims at.",
    )
    training_focus: dict[str, str] = Field(
        default_factory=dict,
        description="Training module id -> its focus area (trainings carry no focus of their own).",
    )

    @model_validator(mode="after")
    def _known_names(self) -> CoachingRules:
        areas = {area.value for area in FocusArea}
        unknown = sorted(
            {key for key in self.focus_kpis if key not in areas}
            | {area for area in self.training_focus.values() if area not in areas}
        )
        if unknown:
            raise ValueError(
                f"coaching: unknown focus areas {', '.join(unknown)} (areas: {', '.join(sorted(areas))})"
            )
        kpis = sorted(
            kpi
            for kpi in self.focus_kpis.values()
            if kpi not in NAMED_KPIS and not kpi.startswith("stage_conversion.")
        )
        if kpis:
            raise ValueError(f"coaching.focus_kpis: unknown KPIs {', '.join(kpis)}")
        return self
