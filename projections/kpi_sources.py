"""Which timeline records an event makes: the fields KPIs read, and the entity they belong to.

One event may feed two entities: `LeadQualified` is both the lead's decision and the deal's
opening; `DealWon` is both the deal's close and the customer it makes. Events that no KPI reads
(organisation, plans, payouts, enablement, follow-ups, nurture touches) make none.
"""

from __future__ import annotations

from datetime import datetime

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


def records_of(event: Envelope, at: datetime) -> tuple[Located, ...]:
    """The records ``event`` (which happened at ``at``, in UTC) adds, with the entity of each."""
    return _lead_and_deal(event, at) or _deal_facts(event, at) or _accounts(event, at)


def _lead_and_deal(event: Envelope, at: datetime) -> tuple[Located, ...]:
    eid = event.id
    match event:
        case LeadCaptured(data=d):
            return (("lead", d.lead_id, LeadEntered(at, eid, d.rep_id, d.source.value)),)
        case LeadDisqualified(data=d):
            return (("lead", d.lead_id, LeadDecided(at, eid, d.rep_id, qualified=False)),)
        case LeadQualified(data=d):
            budget = d.bant.budget
            amount, currency = (budget.amount, budget.currency) if budget else (None, None)
            opened = DealOpened(at, eid, d.rep_id, d.bant.decision_by, amount, currency)
            return (
                ("lead", d.lead_id, LeadDecided(at, eid, d.rep_id, qualified=True)),
                ("deal", d.deal_id, opened),
            )
        case DealStageChanged(data=d):
            return (("deal", d.deal_id, StageMoved(at, eid, d.rep_id, d.to_stage)),)
        case DealWon(data=d):
            splits = tuple((split.rep_id, split.share_percent) for split in d.credit_splits)
            closed = DealClosed(at, eid, d.rep_id, True, d.amount.amount, d.amount.currency, splits)
            won = CustomerWon(at, eid, d.rep_id, d.deal_id)
            return (("deal", d.deal_id, closed), ("customer", d.customer_id, won))
        case DealLost(data=d):
            return (("deal", d.deal_id, DealClosed(at, eid, d.rep_id, won=False)),)
    return ()


def _deal_facts(event: Envelope, at: datetime) -> tuple[Located, ...]:
    eid, kind = event.id, type(event).__name__
    match event:
        case NeedsAssessed(data=d):
            return (("deal", d.deal_id, FactRecorded(at, eid, d.rep_id, kind)),)
        case SolutionPresented(data=d):
            return (("deal", d.deal_id, _priced(at, eid, d.rep_id, kind, d.proposed_amount)),)
        case ProposalSent(data=d):
            return (("deal", d.deal_id, _priced(at, eid, d.rep_id, kind, d.amount)),)
        case ObjectionRaised(data=d):
            raised = FactRecorded(
                at, eid, d.rep_id, kind, objection_id=d.objection_id, category=d.category.value
            )
            return (("deal", d.deal_id, raised),)
        case ObjectionResolved(data=d):
            return (("deal", d.deal_id, ObjectionAnswered(at, eid, d.rep_id, d.objection_id)),)
    return ()


def _priced(at: datetime, eid: str, rep_id: str, fact: str, money: Money) -> FactRecorded:
    return FactRecorded(at, eid, rep_id, fact, money.amount, money.currency)


def _accounts(event: Envelope, at: datetime) -> tuple[Located, ...]:
    eid = event.id
    match event:
        case CustomerRenewed(data=d):
            sale = CustomerSale(at, eid, d.rep_id, "renewal", d.deal_id, d.amount.amount, d.amount.currency)
            return (("customer", d.customer_id, sale),)
        case CustomerExpanded(data=d):
            sale = CustomerSale(
                at, eid, d.rep_id, d.kind.value, d.deal_id, d.amount.amount, d.amount.currency
            )
            return (("customer", d.customer_id, sale),)
        case CustomerChurned(data=d):
            return (("customer", d.customer_id, CustomerLost(at, eid)),)
        case QuotaAssigned(data=d):
            p, money = d.period, d.amount
            quota = QuotaSet(
                at,
                eid,
                d.assignee.value,
                d.assignee_id,
                p.start,
                p.end,
                d.metric.value,
                money.amount,
                money.currency,
            )
            return (("quota", d.quota_id, quota),)
        case ObjectiveSet(data=d):
            target, currency = (
                (d.target.amount, d.target.currency) if isinstance(d.target, Money) else (d.target, None)
            )
            objective = ObjectiveTarget(
                at,
                eid,
                d.scope.value,
                d.scope_id,
                d.kpi.value,
                d.period.start,
                d.period.end,
                target,
                currency,
            )
            return (("objective", d.objective_id, objective),)
    return ()
