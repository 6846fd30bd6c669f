"""Compact facts per lead, deal, customer, quota and objective: what KPIs need that counters cannot hold.

Some KPIs need to join facts recorded in different partitions or on different days: a deal's
cycle length needs its opening (`LeadQualified`, keyed by the lead) and its close (keyed by the
deal); an objection's resolution names no category; a deal won twice (reopened) counts once; a
quota revision replaces the amount. Such facts are kept as a `Timeline` per entity: the few fields
each KPI reads from an event, one record per event.

A timeline merges with another by **set union** (records are identified by their event id), so
partials from different source partitions merge in any order, and merging a record twice changes
nothing. Everything else (which win counts, which revision wins) is decided at query time from
the whole timeline, so the result never depends on delivery order.

Instants are stored in UTC; amounts as exact decimals with their currency.
"""

from __future__ import annotations

import types
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeAlias, Union, get_args, get_origin, get_type_hints


@dataclass(frozen=True, slots=True)
class LeadEntered:
    """`LeadCaptured`: a lead entered the funnel from ``source``."""

    at: datetime
    event_id: str
    rep_id: str | None
    source: str


@dataclass(frozen=True, slots=True)
class LeadDecided:
    """`LeadQualified` (``qualified``) or `LeadDisqualified`."""

    at: datetime
    event_id: str
    rep_id: str
    qualified: bool


@dataclass(frozen=True, slots=True)
class DealOpened:
    """`LeadQualified`, seen from the deal it opens: the owner, the buyer's decision date, the budget."""

    at: datetime
    event_id: str
    rep_id: str
    decision_by: date | None
    amount: Decimal | None
    currency: str | None


@dataclass(frozen=True, slots=True)
class StageMoved:
    """`DealStageChanged`: the owner moved the deal (or reopened it) into ``to_stage``."""

    at: datetime
    event_id: str
    rep_id: str
    to_stage: str


@dataclass(frozen=True, slots=True)
class FactRecorded:
    """A deal fact that may move it forward: `NeedsAssessed`, `SolutionPresented`, `ProposalSent`
    or `ObjectionRaised` (``fact`` is the event type); the amount pitched or proposed, if any."""

    at: datetime
    event_id: str
    rep_id: str
    fact: str
    amount: Decimal | None = None
    currency: str | None = None
    objection_id: str | None = None
    category: str | None = None


@dataclass(frozen=True, slots=True)
class ObjectionAnswered:
    """`ObjectionResolved`: joined to its `ObjectionRaised` by ``objection_id``."""

    at: datetime
    event_id: str
    rep_id: str
    objection_id: str


@dataclass(frozen=True, slots=True)
class DealClosed:
    """`DealWon` (``won``, with amount and credit splits) or `DealLost`."""

    at: datetime
    event_id: str
    rep_id: str
    won: bool
    amount: Decimal | None = None
    currency: str | None = None
    splits: tuple[tuple[str, Decimal], ...] = ()


@dataclass(frozen=True, slots=True)
class CustomerWon:
    """`DealWon`, seen from the customer it makes (or wins back)."""

    at: datetime
    event_id: str
    rep_id: str
    deal_id: str


@dataclass(frozen=True, slots=True)
class CustomerLost:
    """`CustomerChurned`."""

    at: datetime
    event_id: str


@dataclass(frozen=True, slots=True)
class CustomerSale:
    """`CustomerRenewed` (``kind`` renewal) or `CustomerExpanded` (upsell, cross_sell)."""

    at: datetime
    event_id: str
    rep_id: str
    kind: str
    deal_id: str | None
    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class QuotaSet:
    """A revision of a `QuotaAssigned`; the latest by time (then event id) is the quota."""

    at: datetime
    event_id: str
    assignee: str
    assignee_id: str
    first: date
    last: date
    metric: str
    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class ObjectiveTarget:
    """A revision of an `ObjectiveSet`; ``currency`` is set for money targets."""

    at: datetime
    event_id: str
    scope: str
    scope_id: str
    kpi: str
    first: date
    last: date
    target: Decimal
    currency: str | None


Record: TypeAlias = (
    LeadEntered
    | LeadDecided
    | DealOpened
    | StageMoved
    | FactRecorded
    | ObjectionAnswered
    | DealClosed
    | CustomerWon
    | CustomerLost
    | CustomerSale
    | QuotaSet
    | ObjectiveTarget
)
RECORD_TYPES: dict[str, type[Any]] = {cls.__name__: cls for cls in get_args(Record)}


def _order(record: Record) -> tuple[datetime, str, str]:
    return record.at, record.event_id, type(record).__name__


@dataclass(frozen=True, slots=True)
class Timeline:
    """The records of one entity in time order (then event id): a set that merges by union."""

    records: tuple[Record, ...] = ()

    def merge(self, other: Timeline) -> Timeline:
        """Union of both record sets; an event already present is not added again."""
        if not other.records:
            return self
        if len(other.records) == 1:
            return self._add(other.records[0])
        unique = {(record.event_id, type(record).__name__): record for record in self.records}
        for record in other.records:
            unique.setdefault((record.event_id, type(record).__name__), record)
        return Timeline(tuple(sorted(unique.values(), key=_order)))

    def _add(self, record: Record) -> Timeline:
        """`merge` with one record (what folding an event does): no re-sort, no rebuilt index.

        The order is total (an event id and record type name a record), so inserting at the
        bisection point gives exactly the tuple the sort in `merge` gives."""
        records = self.records
        event_id, kind = record.event_id, type(record)
        for present in records:
            if present.event_id == event_id and type(present) is kind:
                return self
        order = _order(record)
        if not records or _order(records[-1]) < order:
            return Timeline((*records, record))  # the usual case: events arrive in time order
        index = bisect_right(records, order, key=_order)
        return Timeline((*records[:index], record, *records[index:]))

    def of(self, kind: type[Any]) -> tuple[Any, ...]:
        """The records of one type, in time order."""
        return tuple(record for record in self.records if isinstance(record, kind))

    def to_dict(self) -> dict[str, Any]:
        encoders = _ENCODERS
        return {"records": [encoders[type(record)](record) for record in self.records]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Timeline:
        decoders = _DECODERS
        return cls(tuple([decoders[item["record"]](item) for item in data.get("records", ())]))


# The stored form of a record is ``{"record": <class name>, <field>: _encode(value), ...}`` in field
# order, read back field by field with `_decode` and the field's type. Both run for every stored
# partial, so each record class gets an encoder and a decoder generated once, at import, from its
# fields and types (as `dataclasses` generates ``__init__``): straight-line code, no type
# inspection per value. They give exactly what `_encode` and `_decode` give: a value whose class
# is not the one its type names goes through `_encode`, a field of any other type through
# `_decode`, and a stored record missing a field through `_decode_fields`.


def _encode(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):  # a datetime is a date too
        return value.isoformat()
    if isinstance(value, tuple):
        return [_encode(item) for item in value]
    return value


def _decode(value: Any, hint: Any) -> Any:
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        return None if value is None else _decode(value, next(arg for arg in args if arg is not type(None)))
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(item, args[0]) for item in value)
        return tuple(_decode(item, arg) for item, arg in zip(value, args, strict=True))
    if hint is Decimal:
        return Decimal(value)
    if hint is datetime:
        return datetime.fromisoformat(value)
    if hint is date:
        return date.fromisoformat(value)
    return value


# Resolved field types of each record class, by `_generate` (resolving compiles annotations: once).
_HINTS: dict[type[Any], dict[str, Any]] = {}


def _decode_fields(cls: type[Any], data: dict[str, Any]) -> Any:
    """A record of class ``cls`` from its stored form; a field it lacks takes its default."""
    hints = _HINTS[cls]
    return cls(**{f.name: _decode(data[f.name], hints[f.name]) for f in fields(cls) if f.name in data})


_AS_IS = (str, bool, int)
# Source of each conversion of a value ``v`` (names as bound in the generated code's namespace).
_CLASS = {Decimal: "_Decimal", datetime: "_datetime", date: "_date"}
_CONVERTED = {Decimal: "str({v})", datetime: "{v}.isoformat()", date: "{v}.isoformat()"}
_PARSED = {
    Decimal: "_Decimal({v})",
    datetime: "_datetime.fromisoformat({v})",
    date: "_date.fromisoformat({v})",
}


def _optional(hint: Any) -> tuple[Any, bool]:
    """``(X, True)`` for ``X | None``, else ``(hint, False)``."""
    args = get_args(hint)
    if get_origin(hint) in (Union, types.UnionType) and len(args) == 2 and type(None) in args:
        return next(arg for arg in args if arg is not type(None)), True
    return hint, False


def _stored_as_is(hint: Any) -> bool:
    if get_origin(hint) in (Union, types.UnionType):
        return all(arg is type(None) or _stored_as_is(arg) for arg in get_args(hint))
    return hint in _AS_IS


def _encoding(name: str, hint: Any) -> str:
    """Source of an expression encoding field ``name`` of record ``r`` as `_encode` does."""
    value = f"r.{name}"
    if _stored_as_is(hint):
        return value
    inner, _ = _optional(hint)
    if inner not in _CONVERTED:
        return f"_encode({value})"
    converted = _CONVERTED[inner].format(v=value)
    return f"({converted} if {value}.__class__ is {_CLASS[inner]} else _encode({value}))"


def _decoding(name: str, hint: Any) -> str:
    """Source of an expression decoding field ``name`` of stored record ``d`` as `_decode` does."""
    value = f"d[{name!r}]"
    if _stored_as_is(hint):
        return value
    inner, optional = _optional(hint)
    if inner not in _PARSED:
        return f"_decode({value}, _hints[{name!r}])"
    parsed = _PARSED[inner].format(v=value)
    return f"(None if {value} is None else {parsed})" if optional else parsed


def _generate(cls: type[Any]) -> tuple[Callable[[Any], dict[str, Any]], Callable[[dict[str, Any]], Any]]:
    """The encoder and decoder of one record class.

    The decoder sets the fields of a new record as the frozen dataclass's ``__init__`` does
    (``object.__setattr__`` each, in order) without the call through it, unless the class has a
    ``__post_init__`` to run; a stored record missing a field goes through `_decode_fields`."""
    hints = _HINTS[cls] = get_type_hints(cls)
    names = [f.name for f in fields(cls)]
    encoded = ", ".join([f'"record": {cls.__name__!r}', *(f"{n!r}: {_encoding(n, hints[n])}" for n in names)])
    if hasattr(cls, "__post_init__"):
        build = [f"return _cls({', '.join(_decoding(n, hints[n]) for n in names)})"]
    else:
        build = ["r = _new(_cls)", *(f"_set(r, {n!r}, {_decoding(n, hints[n])})" for n in names), "return r"]
    source = "\n".join(
        [
            "def encode(r):",
            f"    return {{{encoded}}}",
            "def decode(d):",
            "    try:",
            *(f"        {line}" for line in build),
            "    except KeyError:",
            "        return _decode_fields(_cls, d)",
        ]
    )
    namespace: dict[str, Any] = {
        "_cls": cls,
        "_new": object.__new__,
        "_set": object.__setattr__,
        "_hints": hints,
        "_encode": _encode,
        "_decode": _decode,
        "_decode_fields": _decode_fields,
        "_Decimal": Decimal,
        "_datetime": datetime,
        "_date": date,
    }
    exec(compile(source, f"<kpi_records codec {cls.__name__}>", "exec"), namespace)
    return namespace["encode"], namespace["decode"]


_ENCODERS: dict[type, Callable[[Any], dict[str, Any]]] = {}
_DECODERS: dict[str, Callable[[dict[str, Any]], Any]] = {}
for _name, _cls in RECORD_TYPES.items():
    _ENCODERS[_cls], _DECODERS[_name] = _generate(_cls)


def _encode_record(record: Record) -> dict[str, Any]:
    return _ENCODERS[type(record)](record)


def _decode_record(data: dict[str, Any]) -> Record:
    record: Record = _DECODERS[data["record"]](data)
    return record
