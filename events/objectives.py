"""Objective events: the measurable goals performance is judged against.

An objective names a KPI and a target for a scope (company, team, territory or rep) over a
period; a quota is the money amount a rep, team or territory is expected to be credited with,
which is what quota attainment (credited amount / quota) divides by.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, ValidationInfo, field_validator

from events.envelope import Contract, Envelope, Identifier, LongText
from events.money import Money, Quantity, is_money
from events.period import Period


class Kpi(StrEnum):
    """The KPIs Salesledger computes (definitions in DOMAIN.md); targets are in `KPI_UNITS`."""

    REVENUE = "revenue"
    DEALS_WON = "deals_won"
    AVERAGE_DEAL_SIZE = "average_deal_size"
    WEIGHTED_PIPELINE = "weighted_pipeline"
    WIN_RATE = "win_rate"
    CONVERSION_RATE = "conversion_rate"
    RETENTION_RATE = "retention_rate"
    QUOTA_ATTAINMENT = "quota_attainment"
    SALES_CYCLE_DAYS = "sales_cycle_days"
    CALLS = "calls"
    MEETINGS = "meetings"
    LEADS_CAPTURED = "leads_captured"
    RESEARCH_MINUTES = "research_minutes"


class Unit(StrEnum):
    MONEY = "money"
    PERCENT = "percent"
    """A share of a whole: 0 to 100."""
    PERCENT_OF_QUOTA = "percent_of_quota"
    """May exceed 100 (over-achievement)."""
    DAYS = "days"
    COUNT = "count"


KPI_UNITS: dict[Kpi, Unit] = {
    Kpi.REVENUE: Unit.MONEY,
    Kpi.DEALS_WON: Unit.COUNT,
    Kpi.AVERAGE_DEAL_SIZE: Unit.MONEY,
    Kpi.WEIGHTED_PIPELINE: Unit.MONEY,
    Kpi.WIN_RATE: Unit.PERCENT,
    Kpi.CONVERSION_RATE: Unit.PERCENT,
    Kpi.RETENTION_RATE: Unit.PERCENT,
    Kpi.QUOTA_ATTAINMENT: Unit.PERCENT_OF_QUOTA,
    Kpi.SALES_CYCLE_DAYS: Unit.DAYS,
    Kpi.CALLS: Unit.COUNT,
    Kpi.MEETINGS: Unit.COUNT,
    Kpi.LEADS_CAPTURED: Unit.COUNT,
    Kpi.RESEARCH_MINUTES: Unit.COUNT,
}
"""The unit every KPI's targets and thresholds are expressed in."""

LOWER_IS_BETTER: frozenset[Kpi] = frozenset({Kpi.SALES_CYCLE_DAYS})
"""KPIs met by staying at or below the target; every other KPI is met by reaching it."""


def check_kpi_value(kpi: Kpi, value: Money | Decimal) -> None:
    """Raise ValueError unless ``value`` is in the unit of ``kpi`` (shared by objectives and bonuses)."""
    unit = KPI_UNITS[kpi]
    if (unit is Unit.MONEY) != isinstance(value, Money):
        kind = "money (an amount with a currency)" if unit is Unit.MONEY else f"a plain number of {unit}"
        raise ValueError(f"{kpi} is measured in {unit}: give {kind}")
    if unit is Unit.PERCENT and isinstance(value, Decimal) and value > 100:
        raise ValueError(f"{kpi} is a percentage: at most 100")
    if unit is Unit.COUNT and isinstance(value, Decimal) and value != value.to_integral_value():
        raise ValueError(f"{kpi} is a count: a whole number")


def _target_kind(value: Any) -> str:
    return "money" if is_money(value) else "quantity"


Target = Annotated[
    Annotated[Money, Tag("money")] | Annotated[Quantity, Tag("quantity")], Discriminator(_target_kind)
]
"""Money for money KPIs, otherwise a plain decimal in the KPI's unit."""


class ObjectiveScope(StrEnum):
    COMPANY = "company"
    TEAM = "team"
    TERRITORY = "territory"
    REP = "rep"


class ObjectiveSetData(Contract):
    objective_id: Identifier = Field(description="Setting the same id again revises the objective.")
    scope: ObjectiveScope
    scope_id: Identifier = Field(description="The company, team, territory or rep it is set for.")
    kpi: Kpi
    target: Target
    period: Period
    description: LongText | None = None

    @field_validator("target")
    @classmethod
    def _target_in_kpi_unit(cls, target: Money | Decimal, info: ValidationInfo) -> Money | Decimal:
        kpi = info.data.get("kpi")
        if kpi is not None:
            check_kpi_value(kpi, target)
        return target


class ObjectiveSet(Envelope):
    """A measurable goal was set: a KPI target for a scope over a period."""

    type: Literal["ObjectiveSet"]
    data: ObjectiveSetData

    @property
    def partition_key(self) -> str:
        return self.data.objective_id


class QuotaAssignee(StrEnum):
    REP = "rep"
    TEAM = "team"
    TERRITORY = "territory"


class QuotaMetric(StrEnum):
    """Which credited amount counts toward the quota."""

    BOOKINGS = "bookings"
    REVENUE = "revenue"
    ANNUAL_RECURRING_REVENUE = "annual_recurring_revenue"
    GROSS_MARGIN = "gross_margin"


class QuotaAssignedData(Contract):
    quota_id: Identifier = Field(description="Assigning the same id again revises the quota.")
    assignee: QuotaAssignee
    assignee_id: Identifier = Field(description="The rep, team or territory expected to deliver it.")
    period: Period
    metric: QuotaMetric
    amount: Money


class QuotaAssigned(Envelope):
    """A quota was assigned: the amount a rep, team or territory should be credited with in a period."""

    type: Literal["QuotaAssigned"]
    data: QuotaAssignedData

    @property
    def partition_key(self) -> str:
        return self.data.quota_id
