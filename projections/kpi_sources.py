"""Which timeline records an event makes: the fields KPIs read, and the entity they belong to.

One event may feed two entities: `LeadQualified` is both the lead's decision and the deal's
opening; `DealWon` is both the deal's close and the customer it makes. Events that no KPI reads
(organisation, plans, payouts, enablement, follow-ups, nurture touches) make none.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from events.customers import CustomerChurned, CustomerExpanded, CustomerRenewed
from events.deals import DealLost, DealStageChanged, DealWon, ProposalSent
from events.envelope import Envelope
from events.money import Money
from events.objectives import ObjectiveSet, QuotaAssigned
from events.presentation import ObjectionRaised, ObjectionResolved, SolutionPresented
from events.prospecting import LeadCaptured
from events.qualification import LeadDisqualified, LeadQualified, NeedsAssessed
from projections.kpi_records import (
    CustomerLost,
    CustomerSale,
    CustomerWon,
    DealClosed,
    DealOpened,
    FactRecorded,
    LeadDecided,
    LeadEntered,
    ObjectionAnswered,
    ObjectiveTarget,
    QuotaSet,
    Record,
    StageMoved,
)

Located = tuple[str, str, Record]
"""``(entity kind, entity id, record)``."""


RecordsRule = Callable[[Any, datetime], tuple[Located, ...]]


def _lead_captured(event: LeadCaptured, at: datetime) -> tuple[Located, ...]:
    d = event.data
    return (("lead", d.lead_id, LeadEntered(at, event.id, d.rep_id, d.source.value)),)


def _lead_disqualified(event: LeadDisqualified, at: datetime) -> tuple[Located, ...]:
    d = event.data
    return (("lead", d.lead_id, LeadDecided(at, event.id, d.rep_id, qualified=False)),)


def _lead_qualified(event: LeadQualified, at: datetime) -> tuple[Located, ...]:
    d, eid = event.data, event.id
    budget = d.bant.budget
    amount, currency = (budget.amount, budget.currency) if budget else (None, None)
    opened = DealOpened(at, eid, d.rep_id, d.bant.decision_by, amount, currency)
    return (
        ("lead", d.lead_id, LeadDecided(at, eid, d.rep_id, qualified=True)),
        ("deal", d.deal_id, opened),
    )


def _stage_changed(event: DealStageChanged, at: datetime) -> tuple[Located, ...]:
    d = event.data
    return (("deal", d.deal_id, StageMoved(at, event.id, d.rep_id, d.to_stage)),)


def _deal_won(event: DealWon, at: datetime) -> tuple[Located, ...]:
    d, eid = event.data, event.id
    splits = tuple((split.rep_id, split.share_percent) for split in d.credit_splits)
    closed = DealClosed(at, eid, d.rep_id, True, d.amount.amount, d.amount.currency, splits)
    won = CustomerWon(at, eid, d.rep_id, d.deal_id)
    return (("deal", d.deal_id, closed), ("customer", d.customer_id, won))


def _deal_lost(event: DealLost, at: datetime) -> tuple[Located, ...]:
    d = event.data
    return (("deal", d.deal_id, DealClosed(at, event.id, d.rep_id, won=False)),)


def _needs_assessed(event: NeedsAssessed, at: datetime) -> tuple[Located, ...]:
    d = event.data
    return (("deal", d.deal_id, FactRecorded(at, event.id, d.rep_id, type(event).__name__)),)


def _solution_presented(event: SolutionPresented, at: datetime) -> tuple[Located, ...]:
    d = event.data
    return (("deal", d.deal_id, _priced(at, event.id, d.rep_id, type(event).__name__, d.proposed_amount)),)


def _proposal_sent(event: ProposalSent, at: datetime) -> tuple[Located, ...]:
    d = event.data
    return (("deal", d.deal_id, _priced(at, event.id, d.rep_id, type(event).__name__, d.amount)),)


def _objection_raised(event: ObjectionRaised, at: datetime) -> tuple[Located, ...]:
    d, kind = event.data, type(event).__name__
    raised = FactRecorded(
        at, event.id, d.rep_id, kind, objection_id=d.objection_id, category=d.category.value
    )
    return (("deal", d.deal_id, raised),)


def _objection_resolved(event: ObjectionResolved, at: datetime) -> tuple[Located, ...]:
    d = event.data
    return (("deal", d.deal_id, ObjectionAnswered(at, event.id, d.rep_id, d.objection_id)),)


def _priced(at: datetime, eid: str, rep_id: str, fact: str, money: Money) -> FactRecorded:
    return FactRecorded(at, eid, rep_id, fact, money.amount, money.currency)


def _customer_renewed(event: CustomerRenewed, at: datetime) -> tuple[Located, ...]:
    d = event.data
    sale = CustomerSale(at, event.id, d.rep_id, "renewal", d.deal_id, d.amount.amount, d.amount.currency)
    return (("customer", d.customer_id, sale),)


def _customer_expanded(event: CustomerExpanded, at: datetime) -> tuple[Located, ...]:
    d = event.data
    sale = CustomerSale(at, event.id, d.rep_id, d.kind.value, d.deal_id, d.amount.amount, d.amount.currency)
    return (("customer", d.customer_id, sale),)


def _customer_churned(event: CustomerChurned, at: datetime) -> tuple[Located, ...]:
    return (("customer", event.data.customer_id, CustomerLost(at, event.id)),)


def _quota_assigned(event: QuotaAssigned, at: datetime) -> tuple[Located, ...]:
    d = event.data
    p, money = d.period, d.amount
    quota = QuotaSet(
        at,
        event.id,
        d.assignee.value,
        d.assignee_id,
        p.start,
        p.end,
        d.metric.value,
        money.amount,
        money.currency,
    )
    return (("quota", d.quota_id, quota),)


def _objective_set(event: ObjectiveSet, at: datetime) -> tuple[Located, ...]:
    d = event.data
    target, currency = (
        (d.target.amount, d.target.currency) if isinstance(d.target, Money) else (d.target, None)
    )
    objective = ObjectiveTarget(
        at,
        event.id,
        d.scope.value,
        d.scope_id,
        d.kpi.value,
        d.period.start,
        d.period.end,
        target,
        currency,
    )
    return (("objective", d.objective_id, objective),)


_SOURCES: dict[type[Envelope], RecordsRule] = {
    LeadCaptured: _lead_captured,
    LeadDisqualified: _lead_disqualified,
    LeadQualified: _lead_qualified,
    DealStageChanged: _stage_changed,
    DealWon: _deal_won,
    DealLost: _deal_lost,
    NeedsAssessed: _needs_assessed,
    SolutionPresented: _solution_presented,
    ProposalSent: _proposal_sent,
    ObjectionRaised: _objection_raised,
    ObjectionResolved: _objection_resolved,
    CustomerRenewed: _customer_renewed,
    CustomerExpanded: _customer_expanded,
    CustomerChurned: _customer_churned,
    QuotaAssigned: _quota_assigned,
    ObjectiveSet: _objective_set,
}
_RULES: dict[type, RecordsRule | None] = {}


def records_rule(cls: type) -> RecordsRule | None:
    """The records an event of class ``cls`` makes (None for events no KPI reads); a subclass of a
    source event is that event. Looked up per class, once: the fold runs it for every event."""
    try:
        return _RULES[cls]
    except KeyError:
        rule = next((_SOURCES[base] for base in cls.__mro__ if base in _SOURCES), None)
        return _RULES.setdefault(cls, rule)
