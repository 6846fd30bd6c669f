"""One encoder and one decoder per KPI record type, spelt out (the stored form: `kpi_codec`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

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

# --- one encoder and one decoder per record type -------------------------------------------------
# Optional values are spelt ``None if x is None else convert(x)``; a field with a default is read
# with ``d.get(name, default)``, every other field with ``d[name]``.


def _encode_lead_entered(r: LeadEntered) -> dict[str, Any]:
    return {
        "record": "LeadEntered",
        "at": r.at.isoformat(),
        "event_id": r.event_id,
        "rep_id": r.rep_id,
        "source": r.source,
    }


def _decode_lead_entered(d: dict[str, Any]) -> LeadEntered:
    return LeadEntered(datetime.fromisoformat(d["at"]), d["event_id"], d["rep_id"], d["source"])


def _encode_lead_decided(r: LeadDecided) -> dict[str, Any]:
    return {
        "record": "LeadDecided",
        "at": r.at.isoformat(),
        "event_id": r.event_id,
        "rep_id": r.rep_id,
        "qualified": r.qualified,
    }


def _decode_lead_decided(d: dict[str, Any]) -> LeadDecided:
    return LeadDecided(datetime.fromisoformat(d["at"]), d["event_id"], d["rep_id"], d["qualified"])


def _encode_deal_opened(r: DealOpened) -> dict[str, Any]:
    return {
        "record": "DealOpened",
        "at": r.at.isoformat(),
        "event_id": r.event_id,
        "rep_id": r.rep_id,
        "decision_by": None if r.decision_by is None else r.decision_by.isoformat(),
        "amount": None if r.amount is None else str(r.amount),
        "currency": r.currency,
    }


def _decode_deal_opened(d: dict[str, Any]) -> DealOpened:
    decision_by, amount = d["decision_by"], d["amount"]
    return DealOpened(
        datetime.fromisoformat(d["at"]),
        d["event_id"],
        d["rep_id"],
        None if decision_by is None else date.fromisoformat(decision_by),
        None if amount is None else Decimal(amount),
        d["currency"],
    )


def _encode_stage_moved(r: StageMoved) -> dict[str, Any]:
    return {
        "record": "StageMoved",
        "at": r.at.isoformat(),
        "event_id": r.event_id,
        "rep_id": r.rep_id,
        "to_stage": r.to_stage,
    }


def _decode_stage_moved(d: dict[str, Any]) -> StageMoved:
    return StageMoved(datetime.fromisoformat(d["at"]), d["event_id"], d["rep_id"], d["to_stage"])


def _encode_fact_recorded(r: FactRecorded) -> dict[str, Any]:
    return {
        "record": "FactRecorded",
        "at": r.at.isoformat(),
        "event_id": r.event_id,
        "rep_id": r.rep_id,
        "fact": r.fact,
        "amount": None if r.amount is None else str(r.amount),
        "currency": r.currency,
        "objection_id": r.objection_id,
        "category": r.category,
    }


def _decode_fact_recorded(d: dict[str, Any]) -> FactRecorded:
    amount = d.get("amount")
    return FactRecorded(
        datetime.fromisoformat(d["at"]),
        d["event_id"],
        d["rep_id"],
        d["fact"],
        None if amount is None else Decimal(amount),
        d.get("currency"),
        d.get("objection_id"),
        d.get("category"),
    )


def _encode_objection_answered(r: ObjectionAnswered) -> dict[str, Any]:
    return {
        "record": "ObjectionAnswered",
        "at": r.at.isoformat(),
        "event_id": r.event_id,
        "rep_id": r.rep_id,
        "objection_id": r.objection_id,
    }


def _decode_objection_answered(d: dict[str, Any]) -> ObjectionAnswered:
    return ObjectionAnswered(datetime.fromisoformat(d["at"]), d["event_id"], d["rep_id"], d["objection_id"])


def _encode_deal_closed(r: DealClosed) -> dict[str, Any]:
    return {
        "record": "DealClosed",
        "at": r.at.isoformat(),
        "event_id": r.event_id,
        "rep_id": r.rep_id,
        "won": r.won,
        "amount": None if r.amount is None else str(r.amount),
        "currency": r.currency,
        "splits": [[rep_id, str(share)] for rep_id, share in r.splits],
    }


def _decode_deal_closed(d: dict[str, Any]) -> DealClosed:
    amount = d.get("amount")
    return DealClosed(
        datetime.fromisoformat(d["at"]),
        d["event_id"],
        d["rep_id"],
        d["won"],
        None if amount is None else Decimal(amount),
        d.get("currency"),
        tuple([(rep_id, Decimal(share)) for rep_id, share in d.get("splits", ())]),
    )


def _encode_customer_won(r: CustomerWon) -> dict[str, Any]:
    return {
        "record": "CustomerWon",
        "at": r.at.isoformat(),
        "event_id": r.event_id,
        "rep_id": r.rep_id,
        "deal_id": r.deal_id,
    }


def _decode_customer_won(d: dict[str, Any]) -> CustomerWon:
    return CustomerWon(datetime.fromisoformat(d["at"]), d["event_id"], d["rep_id"], d["deal_id"])


def _encode_customer_lost(r: CustomerLost) -> dict[str, Any]:
    return {"record": "CustomerLost", "at": r.at.isoformat(), "event_id": r.event_id}


def _decode_customer_lost(d: dict[str, Any]) -> CustomerLost:
    return CustomerLost(datetime.fromisoformat(d["at"]), d["event_id"])


def _encode_customer_sale(r: CustomerSale) -> dict[str, Any]:
    return {
        "record": "CustomerSale",
        "at": r.at.isoformat(),
        "event_id": r.event_id,
        "rep_id": r.rep_id,
        "kind": r.kind,
        "deal_id": r.deal_id,
        "amount": str(r.amount),
        "currency": r.currency,
    }


def _decode_customer_sale(d: dict[str, Any]) -> CustomerSale:
    return CustomerSale(
        datetime.fromisoformat(d["at"]),
        d["event_id"],
        d["rep_id"],
        d["kind"],
        d["deal_id"],
        Decimal(d["amount"]),
        d["currency"],
    )


def _encode_quota_set(r: QuotaSet) -> dict[str, Any]:
    return {
        "record": "QuotaSet",
        "at": r.at.isoformat(),
        "event_id": r.event_id,
        "assignee": r.assignee,
        "assignee_id": r.assignee_id,
        "first": r.first.isoformat(),
        "last": r.last.isoformat(),
        "metric": r.metric,
        "amount": str(r.amount),
        "currency": r.currency,
    }


def _decode_quota_set(d: dict[str, Any]) -> QuotaSet:
    return QuotaSet(
        datetime.fromisoformat(d["at"]),
        d["event_id"],
        d["assignee"],
        d["assignee_id"],
        date.fromisoformat(d["first"]),
        date.fromisoformat(d["last"]),
        d["metric"],
        Decimal(d["amount"]),
        d["currency"],
    )


def _encode_objective_target(r: ObjectiveTarget) -> dict[str, Any]:
    return {
        "record": "ObjectiveTarget",
        "at": r.at.isoformat(),
        "event_id": r.event_id,
        "scope": r.scope,
        "scope_id": r.scope_id,
        "kpi": r.kpi,
        "first": r.first.isoformat(),
        "last": r.last.isoformat(),
        "target": str(r.target),
        "currency": r.currency,
    }


def _decode_objective_target(d: dict[str, Any]) -> ObjectiveTarget:
    return ObjectiveTarget(
        datetime.fromisoformat(d["at"]),
        d["event_id"],
        d["scope"],
        d["scope_id"],
        d["kpi"],
        date.fromisoformat(d["first"]),
        date.fromisoformat(d["last"]),
        Decimal(d["target"]),
        d["currency"],
    )


ENCODERS: dict[type[Any], Callable[[Any], dict[str, Any]]] = {
    LeadEntered: _encode_lead_entered,
    LeadDecided: _encode_lead_decided,
    DealOpened: _encode_deal_opened,
    StageMoved: _encode_stage_moved,
    FactRecorded: _encode_fact_recorded,
    ObjectionAnswered: _encode_objection_answered,
    DealClosed: _encode_deal_closed,
    CustomerWon: _encode_customer_won,
    CustomerLost: _encode_customer_lost,
    CustomerSale: _encode_customer_sale,
    QuotaSet: _encode_quota_set,
    ObjectiveTarget: _encode_objective_target,
}
DECODERS: dict[str, Callable[[dict[str, Any]], Record]] = {
    "LeadEntered": _decode_lead_entered,
    "LeadDecided": _decode_lead_decided,
    "DealOpened": _decode_deal_opened,
    "StageMoved": _decode_stage_moved,
    "FactRecorded": _decode_fact_recorded,
    "ObjectionAnswered": _decode_objection_answered,
    "DealClosed": _decode_deal_closed,
    "CustomerWon": _decode_customer_won,
    "CustomerLost": _decode_customer_lost,
    "CustomerSale": _decode_customer_sale,
    "QuotaSet": _decode_quota_set,
    "ObjectiveTarget": _decode_objective_target,
}
