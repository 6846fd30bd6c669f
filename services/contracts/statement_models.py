"""The bodies of the statement endpoints (`services.queries.statements`), as pydantic models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from services.contracts.models import Amount as Number
from services.contracts.models import Body, Coverage, Rate, Ratio


class StatementLine(Body):
    """One explained line: what earned it, at which rate, and the events behind it."""

    kind: Literal[
        "commission", "kpi_bonus", "spiff", "cap", "draw", "draw_recovery", "clawback", "adjustment"
    ]
    rule_id: str | None = Field(description="The plan rule (None only when no rule of the plan applies).")
    plan_id: str
    plan_version: int
    deal_id: str | None
    rate: Rate | None = Field(description="The rate the rule applied, as a fraction (null: a fixed amount).")
    base: Number
    earning: Number
    event_ids: list[str] = Field(description="Ids of the events that earned (or reversed) the line.")
    explanation: str


class PlanStatement(Body):
    """The lines one plan version rated in the period, and their totals (docs/incentives.md)."""

    rep_id: str
    plan_id: str
    plan_version: int
    currency: str
    lines: list[StatementLine]
    total: Number = Field(description="The exact sum of the lines.")
    credited: Number
    attainment: Ratio | None = Field(description="Credited ÷ quota (null: no usable quota).")
    draw_balance: Number


class CreditLine(Body):
    """A rep's share of a won deal, as credited."""

    deal_id: str
    rep_id: str
    amount: Number
    currency: str
    credited_on: str = Field(description="The local day credited (ISO 8601 date).")
    share: Rate = Field(description="The rep's share of the deal's credit, as a fraction.")
    event_ids: list[str]
    deal_amount: Number | None
    products: list[str]
    team_id: str | None
    overlay_of: list[str] = Field(description="Overlay credit: the reps whose credit it overlays.")


class Adjustment(Body):
    """A manual adjustment listed apart: no plan in force on the period's last day, or another currency."""

    adjustment_id: str
    amount: Number = Field(description="Signed: a deduction is negative.")
    currency: str
    reason: str
    requested_by: str
    event_id: str
    deal_id: str | None


class RepStatement(Coverage):
    """A rep's statement for a period: one part per plan version in force, and unrated credit."""

    rep_id: str
    period: str
    statements: list[PlanStatement]
    unrated: list[CreditLine] = Field(description="Credit with no plan in force on its day: earns nothing.")
    adjustments: list[Adjustment] = Field(description="Manual adjustments on no plan's statement.")
    totals: dict[str, Number] = Field(description="Total per currency.")
    as_of: str | None = Field(None, description="The event time asked for (null: everything so far).")
    known_at: str | None = Field(None, description="The recorded time asked for (null: known now).")


class Payout(Body):
    rep_id: str
    totals: dict[str, Number]


class Payouts(Coverage):
    """Every rep's totals for the period."""

    period: str
    payouts: list[Payout]
    as_of: str | None = Field(None, description="The event time asked for (null: everything so far).")
    known_at: str | None = Field(None, description="The recorded time asked for (null: known now).")


class Approval(Body):
    rep_id: str
    period: str | None
    first: str
    last: str
    recorded: str
    event_id: str


class LineDifference(Body):
    plan_id: str
    plan_version: int
    kind: str
    rule_id: str | None
    deal_id: str | None
    currency: str
    approved: Number
    now: Number
    event_ids: list[str]


class StatementBody(Body):
    """A statement without coverage (inside another answer)."""

    rep_id: str
    period: str
    statements: list[PlanStatement]
    unrated: list[CreditLine]
    adjustments: list[Adjustment]
    totals: dict[str, Number]


class RestatedStatement(Coverage):
    """A period as approved (null if never approved) and as known now, and what differs."""

    rep_id: str
    period: str
    approval: Approval | None
    approved: StatementBody | None
    now: StatementBody
    differences: list[LineDifference]
    totals_difference: dict[str, Number]
    late_event_ids: list[str] = Field(description="Events behind the lines now, recorded after the approval.")


class WhatIfRequest(Body):
    """A proposed plan to try over a recorded period."""

    period: str | None = Field(None, description="A period key (default: this quarter).")
    plan: dict[str, Any] = Field(description="The proposal, as the `data` of a `CompPlanPublished`.")
    reps: list[str] | None = Field(None, description="Reps to compare (default: those the plan would pay).")


class DealDifference(Body):
    deal_id: str
    current: Number
    proposed: Number


class RepWhatIf(Body):
    rep_id: str
    current_total: Number = Field(description="As recorded, in the proposal's currency.")
    proposed_total: Number
    differences: list[DealDifference] = Field(description="Deals whose earnings differ.")
    proposed_lines: list[StatementLine] = Field(description="The proposal's lines for those deals.")


class WhatIf(Coverage):
    """Per rep and in total, the payout as recorded and under the proposal."""

    period: str
    plan_id: str
    plan_version: int
    currency: str
    current_total: Number
    proposed_total: Number
    reps: list[RepWhatIf]
