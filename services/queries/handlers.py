"""The query endpoints: parse the query, read the merged read models, answer with a pure function.

Each handler is a module-level function of a `Queries` (what it reads from) and a `Call`; the
bootstrap binds the first and puts the result in the route table. A `ReadSide` is anything that
gives the merged states of a read model: every worker's partials in a worker
(`services.queries.fanout.FannedOut`), or a fold of a list of events in a test.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from projections import funnel_as_of, kpi_fold, org, pipeline_as_of
from projections import rep_activity as rep_activity_fold
from projections.kpi_scope import scope_filter
from projections.periods import local_day
from projections.pipeline import deal_views
from sales.process import ProcessConfig
from services.queries import answers, params
from services.queries.leaderboards import Leaderboards
from services.queries.params import BadQuery
from services.refusals import Refusal
from services.web.routes import Call, Handler, Reply, refusal

Coverage = dict[str, int]
"""``partitions_covered`` and ``partitions_total``: how much of the log an answer reflects."""


class ReadSide(Protocol):
    """The merged states of a read model, and how many of the log's partitions they cover."""

    def names(self) -> frozenset[str]: ...
    async def states(self, name: str) -> tuple[list[tuple[str, Any]], Coverage]: ...


@dataclass(frozen=True)
class Queries:
    read: ReadSide
    process: ProcessConfig
    timezone: str
    leaderboards: Leaderboards = field(default_factory=Leaderboards, compare=False)

    async def organisation(self) -> org.OrgState:
        states, _ = await self.read.states("org")
        return org.merge_all(state for _, state in states)

    async def book(self, kinds: tuple[str, ...] | None = None) -> tuple[kpi_fold.KpiBook, Coverage]:
        """The merged KPI book; with ``kinds``, only the partials of those kinds (``lead``,
        ``deal``, ...), which is all the pipeline and funnel as of an instant read."""
        states, covered = await self.read.states("kpis")
        if kinds is not None:
            prefixes = tuple(f"{kind}|" for kind in kinds)
            states = [(key, partial) for key, partial in states if key.startswith(prefixes)]
        return kpi_fold.merge_partials(states, self.timezone), covered

    async def book_and_org(self) -> tuple[kpi_fold.KpiBook, org.OrgState, Coverage]:
        book, covered = await self.book()
        return book, await self.organisation(), covered

    async def book_as_of(self, call: Call) -> tuple[kpi_fold.KpiBook, org.OrgState, dict[str, Any]]:
        """The KPI book as the query's ``as_of`` and ``known_at`` ask (`TimeTravel`), the
        organisation, and the coverage with what was asked."""
        travel = time_travel(call)
        book, state, covered = await self.book_and_org()
        return travel.book(book), state, {**covered, **travel.said()}


@dataclass(frozen=True)
class TimeTravel:
    """The two time axes a query may name (docs/audit.md, "What was known when"):

    - ``as_of``, an event time: what had happened by then ("the pipeline on 30 June");
    - ``known_at``, a recorded time: what the system had recorded by then ("what we knew on 3
      July"): facts recorded later, however early they happened, are left out.

    Both together: what had happened by ``as_of`` as known at ``known_at``. Neither: live."""

    as_of: datetime | None
    known_at: datetime | None

    @property
    def at(self) -> datetime | None:
        """The instant the answer stands at (ages, days): ``as_of``, else ``known_at``; None: live."""
        return self.as_of if self.as_of is not None else self.known_at

    @property
    def state(self) -> str:
        return "live" if self.at is None else "known_at" if self.known_at is not None else "as_of"

    def book(self, book: kpi_fold.KpiBook) -> kpi_fold.KpiBook:
        """The book as known at ``known_at``, as it stood at ``as_of`` (one pass)."""
        return book.travelled(self.as_of, self.known_at)

    def timelines(self, book: kpi_fold.KpiBook) -> kpi_fold.KpiBook:
        """The book as it stood at `at` as known at ``known_at`` (one pass): what the pipeline,
        the funnel and the drill-down rebuild from (a fact recorded by ``known_at`` but dated
        after it is not in the pipeline as it stood then)."""
        return book.travelled(self.at, self.known_at)

    def said(self) -> dict[str, Any]:
        """What the answer says it used."""
        return {"as_of": self.as_of, "known_at": self.known_at, "state": self.state}


def time_travel(call: Call) -> TimeTravel:
    return TimeTravel(params.instant(call.query, "as_of"), params.instant(call.query, "known_at"))


NOT_READY = (
    "no partition of the event log is covered yet (the worker is starting, or its group rebalancing):"
    " retry shortly"
)


def when_covered(handler: Handler) -> Handler:
    """``handler``, answering 503 ``not_ready`` instead of an answer that covers no partition of
    the log at all: a client that ignores ``partitions_covered`` must not read a worker that has
    just started as "0 calls". An answer covering some partitions is given, with its coverage."""

    async def answer(call: Call) -> Reply:
        reply = await handler(call)
        body = reply.body
        uncovered = (
            isinstance(body, dict) and body.get("partitions_total") and body.get("partitions_covered") == 0
        )
        return refusal(Refusal.NOT_READY, NOT_READY) if reply.status == 200 and uncovered else reply

    answer.__doc__ = handler.__doc__
    return answer


def answering_bad_queries(
    handler: Callable[[Queries, Call], Awaitable[Reply]],
) -> Callable[[Queries, Call], Awaitable[Reply]]:
    """A `BadQuery` raised while parsing becomes a 400 naming the parameter."""

    async def answer(queries: Queries, call: Call) -> Reply:
        try:
            return await handler(queries, call)
        except BadQuery as bad:
            return refusal(Refusal.BAD_QUERY, str(bad))

    answer.__doc__, answer.__name__ = handler.__doc__, handler.__name__
    return answer


@answering_bad_queries
async def all_reps_activity(queries: Queries, call: Call) -> Reply:
    """`GET /v1/reps/activity`: every rep's activity counts, live or as `TimeTravel` asks."""
    states, covered, travel = await activity_states(queries, call)
    return Reply(200, {**answers.all_reps_activity(states), **covered, **travel.said()})


@answering_bad_queries
async def rep_activity(queries: Queries, call: Call) -> Reply:
    """`GET /v1/reps/{rep_id}/activity`: one rep's activity counts (zeros for a rep never seen)."""
    states, covered, travel = await activity_states(queries, call)
    body = answers.rep_activity_of(states, call.path["rep_id"])
    return Reply(200, {**body, **covered, **travel.said()})


async def activity_states(
    queries: Queries, call: Call
) -> tuple[list[tuple[str, rep_activity_fold.RepActivity]], Coverage, TimeTravel]:
    """The rep-activity partials: the live read model's, or, with ``as_of`` or ``known_at``, those
    of the KPI book as it stood or was known then (`projections.rep_activity.from_book`)."""
    travel = time_travel(call)
    if travel.at is None:
        states, covered = await queries.read.states("rep-activity")
        return states, covered, travel
    book, covered = await queries.book(("activity", "lead"))
    return rep_activity_fold.from_book(travel.book(book)), covered, travel


@answering_bad_queries
async def pipeline(queries: Queries, call: Call) -> Reply:
    """`GET /v1/pipeline`: open deals grouped by stage, rep, team or territory, with stuck deals;
    with ``scope`` and ``id``, only the deals of that rep, team or territory on the ``as_of`` day.

    Without ``as_of`` or ``known_at``: the live pipeline read model, aged at now (``"state":
    "live"``). With them: the pipeline as it stood at that event time, as known at that recorded
    time, rebuilt from the KPI timelines (`projections.pipeline_as_of`, `TimeTravel`)."""
    travel, grouping, stuck = time_travel(call), params.group_by(call.query), params.stuck_after(call.query)
    if travel.at is None:
        states, covered = await queries.read.states("pipeline")
        deals = deal_views((state for _, state in states), queries.process)
        state = await queries.organisation()
    else:
        book, covered = await queries.book(pipeline_as_of.KINDS)
        state = await queries.organisation()
        deals = pipeline_as_of.deal_views_as_of(travel.timelines(book), queries.process)
    at, scope = travel.at or params.as_of(call.query), params.scope(call.query)
    includes = scope_filter(scope, answers.membership_of(state))
    day = local_day(at, queries.timezone)
    scoped = [deal for deal in deals.values() if includes(deal.rep_id, day)]
    body = answers.pipeline_answer(scoped, state, queries.process, at, grouping, stuck)
    answered = {**body, "scope": scope.kind, "id": scope.id, **travel.said(), "as_of": at}
    return Reply(200, {**answered, **covered})


@answering_bad_queries
async def funnel(queries: Queries, call: Call) -> Reply:
    """`GET /v1/funnel`: per-stage conversion, skips and regressions, lead-to-won conversion.

    Without ``as_of`` or ``known_at``: the live funnel read model (``"state": "live"``). With
    them: the funnel of what had happened by that event time as known at that recorded time,
    folded from the KPI timelines (`projections.funnel_as_of`, `TimeTravel`)."""
    travel = time_travel(call)
    if travel.at is None:
        states, covered = await queries.read.states("funnel")
        tracks = [state for _, state in states]
    else:
        book, covered = await queries.book(pipeline_as_of.KINDS)
        tracks = list(funnel_as_of.tracks_as_of(travel.timelines(book), queries.process).values())
    body = answers.funnel_of(tracks, queries.process)
    return Reply(200, {**body, **travel.said(), **covered})


@answering_bad_queries
async def kpis(queries: Queries, call: Call) -> Reply:
    """`GET /v1/kpis`: every KPI of one scope over one period."""
    scope, period = params.scope(call.query), params.period(call.query, queries.timezone)
    book, state, covered = await queries.book_as_of(call)
    return Reply(200, {**answers.kpis_of(book, state, queries.process, scope, period), **covered})


@answering_bad_queries
async def forecast(queries: Queries, call: Call) -> Reply:
    """`GET /v1/forecast`: weighted pipeline expected to close in the period, committed and won."""
    scope, period = params.scope(call.query), params.period(call.query, queries.timezone)
    book, state, covered = await queries.book_as_of(call)
    return Reply(200, {**answers.forecast_of(book, state, queries.process, scope, period), **covered})


@answering_bad_queries
async def leaderboard(queries: Queries, call: Call) -> Reply:
    """`GET /v1/leaderboards`: one KPI ranked across reps or teams.

    Only that KPI is computed for each (`projections.kpi_parts`), in a thread, a few at a time,
    and the answer is kept a few seconds per (kpi, by, period, as_of)
    (`services.queries.leaderboards`)."""
    kpi, by = params.ranking(call.query, queries.process)
    period = params.period(call.query, queries.timezone)
    travel = time_travel(call)

    async def compute() -> dict[str, Any]:
        states, covered = await queries.read.states("kpis")
        state = await queries.organisation()

        def ranked() -> dict[str, Any]:
            book = travel.book(kpi_fold.merge_partials(states, queries.timezone))
            return answers.leaderboard_of(book, state, queries.process, kpi, by, period)

        return {**await asyncio.to_thread(ranked), **covered, **travel.said()}

    key = (kpi, by, period, travel.as_of, travel.known_at)
    return Reply(200, await queries.leaderboards.answer(key, compute))
