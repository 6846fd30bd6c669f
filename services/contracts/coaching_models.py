"""The bodies of the coaching endpoints (`services.queries.coaching`), as pydantic models.

Numbers follow docs/api.md "Numbers": ratios and activity per day as 4-place decimal strings, the
sales cycle in whole seconds (``sales_cycle_seconds``), samples and counts as integers.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from services.contracts.models import Body, Coverage, KpiValue, Ratio, Travelled

Figure = Annotated[
    str | int,
    Field(
        description='A ratio or activity per day as a 4-place decimal string (`"0.2500"`), or the sales '
        "cycle in whole seconds (an integer)."
    ),
]
Signed = Annotated[
    str | int,
    Field(description="A change (after - before): a signed 4-place decimal string, or signed whole seconds."),
]
Unit = Literal["ratio", "per_day", "seconds"]


class Rules(Body):
    """The thresholds the answer was computed with (the process file's `[coaching]`, docs/coaching.md)."""

    ratio_margin: Ratio
    relative_margin: Ratio
    confidence_z: Annotated[str, Field(pattern=r"^[0-9]+\.[0-9]{4}$")]
    min_deals: int = Field(ge=1)
    min_days: int = Field(ge=1)
    min_peers: int = Field(ge=1)
    window_days: int = Field(ge=1)


class PastValue(Body):
    period: str
    value: Figure | None
    sample: int = Field(ge=0)


class Check(Body):
    """One rep's KPI against the peers of their team and role: a flag when `flagged`."""

    rep_id: str
    team_id: str
    role: str | None
    kpi: str = Field(
        description="`stage_conversion.<stage>`, `activities_per_day`, `win_rate`, "
        "`sales_cycle_seconds` or `objection_resolution_rate`."
    )
    unit: Unit
    value: Figure | None
    sample: int = Field(ge=0, description="The deals, objections or active days behind the value.")
    team_median: Figure | None
    team_q1: Figure | None
    team_q3: Figure | None
    peers: int = Field(ge=0, description="Peers with enough data of their own.")
    threshold: Figure | None = Field(description="The bar past which the KPI is weak (null: not judged).")
    upper_bound: Figure | None = Field(description="A ratio's Wilson upper bound compared with the bar.")
    flagged: bool
    why: str
    previous: list[PastValue] = Field(description="The rep's own previous periods, latest first.")
    event_ids: list[str] = Field(description="The events behind the rep's value (none for activity).")


class Flags(Coverage, Travelled):
    """The weak-area flags of a team's, a territory's or every rep (docs/coaching.md)."""

    scope: Literal["team", "territory", "org"]
    id: str | None
    period: str
    rules: Rules
    flags: list[Check]


class Enablement(Body):
    """A training completed or a coaching session held."""

    event_id: str
    kind: Literal["training", "coaching"]
    at: str
    coach_id: str | None = None
    focus_area: str | None = None
    duration_seconds: int | None = None
    module_id: str | None = None
    module_name: str | None = None
    score_percent: int | None = None
    passed: bool | None = None


class Days(Body):
    first: str
    last: str


class Sampled(Body):
    value: Figure | None
    sample: int = Field(ge=0)


class BeforeAfter(Body):
    before: Sampled
    after: Sampled
    change: Signed | None


class Effect(Body):
    """The focused KPI before and after a session, the rep's and the team baseline's: an
    observation, not causal proof (docs/coaching.md)."""

    event_id: str
    kind: Literal["training", "coaching"]
    at: str
    focus_area: str
    kpi: str
    unit: Unit
    before: Days
    after: Days
    rep: BeforeAfter
    team_id: str | None
    team: BeforeAfter | None
    enough: bool = Field(description="Whether both of the rep's windows hold the minimum sample.")
    event_ids: list[str]


class Development(Coverage, Travelled):
    """A rep's trainings and coaching in the period, every weak-area check, and the before/afters."""

    rep_id: str
    period: str
    role: str | None
    team_id: str | None
    trainings: list[Enablement]
    coaching: list[Enablement]
    checks: list[Check]
    effects: list[Effect]
    rules: Rules


class ObjectiveAttainment(Body):
    objective_id: str
    kpi: str
    attainment: KpiValue = Field(description="Actual (numerator) over target (denominator).")


class ReviewFlags(Body):
    raised: list[Check] = Field(description="Flagged this period, not the previous one.")
    cleared: list[Check] = Field(
        description="Flagged the previous period, not this one (as they stood then)."
    )
    open: list[Check] = Field(description="Flagged in both.")


class CoachingDone(Enablement):
    rep_id: str


class Review(Coverage, Travelled):
    """A team's review of a period (Markdown with `Accept: text/markdown` or `format=markdown`)."""

    team_id: str
    period: str
    previous_period: str | None
    reps: list[str]
    objectives: list[ObjectiveAttainment]
    quotas: dict[str, KpiValue]
    kpis: dict[str, KpiValue]
    flags: ReviewFlags
    coaching: list[CoachingDone]
