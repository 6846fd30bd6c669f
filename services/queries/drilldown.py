"""Drill-down: lists of deals and leads, one deal or lead with its whole recorded history, and the
history of any event's aggregate (docs/api.md, "Drill-down").

States come from the read models (the pipeline's deal views, and the funnel's lead tracks for a
lead's status); histories come from the write model's event store (`services.writemodel.history`),
read in a thread because the store blocks.

Lists are ordered by id and paged by keyset: ``limit`` (default 100, at most 1000) items after
``cursor`` (the ``next_cursor`` of the previous page; absent for the first). ``next_cursor`` is null
on the last page. "Last change" is the time of the last stage change the read model knows: for a
deal its entry into its current stage (its opening if it never moved); for a lead its
qualification (leads not qualified yet have none, so a date filter leaves them out).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from projections import funnel, numbers, org, pipeline, pipeline_as_of
from projections.funnel_as_of import tracks_as_of
from services.queries import params
from services.queries.handlers import Queries, TimeTravel, time_travel
from services.queries.params import BadQuery
from services.refusals import Refusal
from services.web.routes import Call, Reply, refusal
from services.writemodel.history import AggregateHistory

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
FILTERS = ("stage", "rep", "team", "territory", "source")


class EventStore(Protocol):
    """Recorded histories (`services.writemodel.history.StoreHistory`); blocking calls."""

    def history(self, kind: str, key: str) -> AggregateHistory | None: ...
    def history_of_event(self, source: str, event_id: str) -> AggregateHistory | None: ...


@dataclass(frozen=True)
class Drilldown:
    queries: Queries
    store: EventStore


def answering(
    handler: Callable[[Drilldown, Call], Awaitable[Reply]],
) -> Callable[[Drilldown, Call], Awaitable[Reply]]:
    """A `BadQuery` raised while parsing becomes a 400 naming the parameter."""

    async def answer(drill: Drilldown, call: Call) -> Reply:
        try:
            return await handler(drill, call)
        except BadQuery as bad:
            return refusal(Refusal.BAD_QUERY, str(bad))

    answer.__doc__, answer.__name__ = handler.__doc__, handler.__name__
    return answer


# --- parameters ---------------------------------------------------------------------------------


def checked(query: Mapping[str, str]) -> None:
    """Every list parameter parsed once up front, so a bad one is a 400 before anything is read."""
    limit_of(query)
    params.instant(query, "changed_from")
    params.instant(query, "changed_to")


def limit_of(query: Mapping[str, str]) -> int:
    return params.whole_number(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)


# --- pure answers -------------------------------------------------------------------------------


def _time(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _money(money: Any) -> dict[str, str] | None:
    """An amount at its currency's scale (docs/api.md, "Numbers"): ``"1250.00"`` EUR, ``"1250"`` JPY."""
    return (
        None
        if money is None
        else {"amount": numbers.money(money.amount, money.currency), "currency": money.currency}
    )


def _membership(state: org.OrgState, rep: str | None, at: datetime) -> tuple[str | None, list[str]]:
    if rep is None:
        return None, []
    return org.team_of(state, rep, at.date()), list(org.territories_of(state, rep, at.date()))


def deal_body(deal: pipeline.DealView, state: org.OrgState, as_of: datetime) -> dict[str, Any]:
    team, territories = _membership(state, deal.rep_id, as_of)
    return {
        "deal_id": deal.deal_id,
        "stage": deal.stage,
        "status": deal.status,
        "rep_id": deal.rep_id,
        "team": team,
        "territories": territories,
        "lead_id": deal.lead_id,
        "source": deal.lead_source,
        "opened_at": _time(deal.opened_at),
        "stage_entered_at": _time(deal.stage_entered_at),
        "last_changed_at": _time(deal.stage_entered_at or deal.opened_at),
        "expected_amount": _money(deal.expected_amount),
        "won_amount": _money(deal.won_amount),
        "closed_at": _time(deal.closed_at),
    }


def lead_bodies(
    parts: Iterable[pipeline.Part], tracks: Iterable[funnel.Track], state: org.OrgState, as_of: datetime
) -> dict[str, dict[str, Any]]:
    """Every lead the read models know, by id: the pipeline's lead part joined with its funnel track."""
    leads = {p.lead_id: p for p in parts if isinstance(p, pipeline.LeadPart)}
    flags = {t.lead_id: t for t in tracks if isinstance(t, funnel.LeadTrack)}
    bodies = {}
    for lead_id in sorted(leads.keys() | flags.keys()):
        part, track = leads.get(lead_id, pipeline.LeadPart(lead_id)), flags.get(lead_id)
        status = (
            "disqualified"
            if track and track.disqualified
            else "qualified"
            if (track and track.qualified) or part.deal_id
            else "captured"
        )
        team, territories = _membership(state, part.owner, as_of)
        bodies[lead_id] = {
            "lead_id": lead_id,
            "status": status,
            "rep_id": part.owner,
            "team": team,
            "territories": territories,
            "source": part.source,
            "deal_id": part.deal_id,
            "qualified_at": _time(part.qualified_at),
            "last_changed_at": _time(part.qualified_at),
        }
    return bodies


def matches(item: Mapping[str, Any], stage_field: str, query: Mapping[str, str]) -> bool:
    """Whether an item passes every filter given: stage, rep, team, territory, source, changed_*."""
    wanted = {name: query[name] for name in FILTERS if query.get(name)}
    fields = {"stage": stage_field, "rep": "rep_id", "team": "team", "source": "source"}
    for name, value in wanted.items():
        if name == "territory":
            if value not in item["territories"]:
                return False
        elif item[fields[name]] != value:
            return False
    since, until = params.instant(query, "changed_from"), params.instant(query, "changed_to")
    if since is None and until is None:
        return True
    changed = item["last_changed_at"]
    if changed is None:
        return False
    at = datetime.fromisoformat(changed)
    return (since is None or at >= since) and (until is None or at < until)


Items = Iterable[tuple[str, dict[str, Any]]]


def page(items: Items, query: Mapping[str, str]) -> tuple[list[Any], str | None]:
    """Up to ``limit`` items (ordered by id) after ``cursor``, and the cursor of the next page."""
    size, after = limit_of(query), query.get("cursor", "")
    taken: list[tuple[str, dict[str, Any]]] = []
    for item_id, item in items:
        if item_id > after:
            if len(taken) == size:
                return [i for _, i in taken], taken[-1][0]
            taken.append((item_id, item))
    return [i for _, i in taken], None


# --- handlers -----------------------------------------------------------------------------------

LIVE = TimeTravel(None, None)


async def _deals(
    drill: Drilldown, as_of: datetime, travel: TimeTravel = LIVE
) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    """Every deal: from the live pipeline read model, or as they stood at ``travel``'s instant, as
    known at its recorded time (rebuilt from the KPI timelines as `GET /v1/pipeline?as_of=` does)."""
    queries = drill.queries
    if travel.at is None:
        states, covered = await queries.read.states("pipeline")
        views = pipeline.deal_views((s for _, s in states), queries.process)
    else:
        book, covered = await queries.book(pipeline_as_of.KINDS)
        views = pipeline_as_of.deal_views_as_of(travel.timelines(book), queries.process)
    state = await queries.organisation()
    return {deal_id: deal_body(view, state, as_of) for deal_id, view in views.items()}, covered


async def _leads(
    drill: Drilldown, as_of: datetime, travel: TimeTravel = LIVE
) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    """Every lead, live or as it stood at ``travel``'s instants (as `_deals`)."""
    queries = drill.queries
    state = await queries.organisation()
    if travel.at is None:
        parts, covered = await queries.read.states("pipeline")
        tracks, _ = await queries.read.states("funnel")
        return lead_bodies((p for _, p in parts), (t for _, t in tracks), state, as_of), covered
    book, covered = await queries.book(pipeline_as_of.KINDS)
    book = travel.timelines(book)
    leads = pipeline_as_of.lead_parts_as_of(book).values()
    return lead_bodies(leads, tracks_as_of(book, queries.process).values(), state, as_of), covered


def _time_travel(call: Call) -> tuple[datetime, TimeTravel, dict[str, Any]]:
    """(the instant teams are taken at, the time axes asked, what the answer says)."""
    travel = time_travel(call)
    return travel.at or params.as_of(call.query), travel, {"state": travel.state}


def _listed(
    name: str, stage_field: str, items: dict[str, dict[str, Any]], covered: dict[str, int], call: Call
) -> Reply:
    chosen = [(item_id, item) for item_id, item in items.items() if matches(item, stage_field, call.query)]
    listed, next_cursor = page(sorted(chosen, key=lambda pair: pair[0]), call.query)
    return Reply(200, {name: listed, "next_cursor": next_cursor, **covered})


@answering
async def list_deals(drill: Drilldown, call: Call) -> Reply:
    """`GET /v1/deals`: deals filtered by stage, rep, team, territory, lead source, last change."""
    at, asked, said = _time_travel(call)
    checked(call.query)
    deals, covered = await _deals(drill, at, asked)
    return _listed("deals", "stage", deals, {**covered, **said}, call)


@answering
async def list_leads(drill: Drilldown, call: Call) -> Reply:
    """`GET /v1/leads`: leads filtered by status (``stage``), rep, team, territory, source, last change."""
    at, asked, said = _time_travel(call)
    checked(call.query)
    leads, covered = await _leads(drill, at, asked)
    return _listed("leads", "status", leads, {**covered, **said}, call)


def history_body(history: AggregateHistory) -> dict[str, Any]:
    return {
        "aggregate": history.name,
        "recorded_state": history.state,
        "history": [entry.to_dict() for entry in history.entries],
    }


async def _one(
    drill: Drilldown,
    call: Call,
    kind: str,
    read: Callable[[Drilldown, datetime, TimeTravel], Any],
) -> Reply:
    key = call.path[f"{kind}_id"]
    at, asked, said = _time_travel(call)
    items, covered = await read(drill, at, asked)
    history = await asyncio.to_thread(drill.store.history, kind, key)
    item = items.get(key)
    if item is None and history is None:
        return refusal(Refusal.NOT_FOUND, f"no {kind} {key!r}")
    none: dict[str, Any] = {"aggregate": f"{kind}:{key}", "recorded_state": None, "history": []}
    recorded = history_body(history) if history else none
    return Reply(200, {kind: item, **recorded, **covered, **said})


@answering
async def deal(drill: Drilldown, call: Call) -> Reply:
    """`GET /v1/deals/{deal_id}`: the deal's current state and every event of its aggregate."""
    return await _one(drill, call, "deal", _deals)


@answering
async def lead(drill: Drilldown, call: Call) -> Reply:
    """`GET /v1/leads/{lead_id}`: the lead's current state and every event of its aggregate."""
    return await _one(drill, call, "lead", _leads)


async def event_history(drill: Drilldown, call: Call) -> Reply:
    """`GET /v1/events/{event_id}/history?source=S`: the history of the aggregate the event is in."""
    event_id, source = call.path["event_id"], call.query.get("source", "")
    if not source:
        return refusal(Refusal.BAD_QUERY, "source: the event's CloudEvents source (ids are per source)")
    history = await asyncio.to_thread(drill.store.history_of_event, source, event_id)
    if history is None:
        return refusal(Refusal.NOT_FOUND, f"no event {event_id!r} from source {source!r}")
    return Reply(200, {"event_id": event_id, "source": source, **history_body(history)})
