"""The coaching endpoints: weak-area flags, a rep's development, a team's review.

Handlers are module-level functions of the bound `Queries` and a `Call`, like
`services.queries.handlers`. They merge the KPI book, the organisation and the development read
model from every worker, then run the pure functions of `projections.coaching*` in a thread (a
team's checks fold every deal of the book several times) and write the answer with
`coaching_answers`. Thresholds are the process file's ``[coaching]`` table (docs/coaching.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from projections import development, org
from projections.coaching import Deals, days_of, previous_periods
from projections.coaching_effects import effects_of
from projections.coaching_flags import flags_of, team_checks, team_in
from projections.coaching_reviews import review
from projections.kpi_scope import Window
from projections.kpis import prepare
from services.queries import answers, params
from services.queries.coaching_answers import (
    checks_body,
    effect_body,
    enablement_body,
    review_body,
    rules_body,
)
from services.queries.coaching_markdown import review_markdown
from services.queries.handlers import Queries, answering_bad_queries, time_travel
from services.queries.params import BadQuery
from services.web.routes import Call, Reply

FLAG_SCOPES = ("team", "territory", "org")


async def _read(
    queries: Queries, call: Call
) -> tuple[Deals, org.OrgState, dict[str, development.Development], dict[str, Any]]:
    """The deals, organisation and developments, as the call's ``as_of`` and ``known_at`` ask
    (`TimeTravel`: the KPI book, and the enablement records by event and recorded time)."""
    travel = time_travel(call)
    book, state, covered = await queries.book_and_org()
    states, _ = await queries.read.states("development")
    merged = development.merge_all(states)
    developments = {rep: mine.travelled(travel.as_of, travel.known_at) for rep, mine in merged.items()}
    deals = await asyncio.to_thread(lambda: Deals.of(prepare(travel.book(book), queries.process)))
    return deals, state, developments, {**covered, **travel.said()}


def _reps_in_scope(state: org.OrgState, kind: str, ident: str | None, window: Window) -> list[str]:
    """The reps a flags query is about: a team's (by `team_in`), a territory's owners in the
    period, or everybody."""
    if kind == "team":
        return [rep for rep in sorted(state.reps) if team_in(state, rep, window) == ident]
    if kind == "territory" and ident is not None:
        owners = (org.owner_of(state, ident, day) for day in days_of(window))
        return sorted({owner for owner in owners if owner is not None})
    return sorted(state.reps)


@answering_bad_queries
async def coaching_flags(queries: Queries, call: Call) -> Reply:
    """`GET /v1/coaching/flags`: the weak-area flags of a team's, territory's or everybody's reps."""
    scope, period = params.scope(call.query), params.period(call.query, queries.timezone)
    if scope.kind not in FLAG_SCOPES:
        raise BadQuery("scope: team, territory or org (one rep's checks: /v1/reps/{rep_id}/development)")
    deals, state, developments, covered = await _read(queries, call)
    rules, roles = queries.process.coaching, development.roles_of(developments)

    def flagged() -> list[dict[str, Any]]:
        window = Window.of(period, queries.timezone)
        reps = _reps_in_scope(state, scope.kind, scope.id, window)
        found = flags_of(team_checks(deals, state, roles, rules, period, reps)) if reps else ()
        return checks_body(found, roles)

    body = {"scope": scope.kind, "id": scope.id, "period": period, "rules": rules_body(rules)}
    return Reply(200, {**body, "flags": await asyncio.to_thread(flagged), **covered})


@answering_bad_queries
async def rep_development(queries: Queries, call: Call) -> Reply:
    """`GET /v1/reps/{rep_id}/development`: a rep's trainings and coaching in the period, every
    weak-area check of the period, and the before/after of each focused session."""
    rep_id, period = call.path["rep_id"], params.period(call.query, queries.timezone)
    deals, state, developments, covered = await _read(queries, call)
    rules, roles = queries.process.coaching, development.roles_of(developments)
    mine = developments.get(rep_id, development.Development())

    def developed() -> dict[str, Any]:
        window = Window.of(period, queries.timezone)
        held = [record for record in mine.enablement if window.holds(record.at)]
        checks = team_checks(deals, state, roles, rules, period, [rep_id]) if rep_id in state.reps else ()
        return {
            "rep_id": rep_id,
            "period": period,
            "role": mine.role,
            "team_id": team_in(state, rep_id, window),
            "trainings": [enablement_body(r) for r in held if r.kind == "training"],
            "coaching": [enablement_body(r) for r in held if r.kind == "coaching"],
            "checks": checks_body(checks, roles),
            "effects": [effect_body(e) for e in effects_of(deals, state, roles, rules, rep_id, held)],
            "rules": rules_body(rules),
        }

    return Reply(200, {**await asyncio.to_thread(developed), **covered})


def wants_markdown(call: Call) -> bool:
    """Markdown by ``?format=markdown`` or ``Accept: text/markdown``; JSON otherwise."""
    requested = call.query.get("format")
    if requested not in (None, "json", "markdown"):
        raise BadQuery("format: json or markdown")
    return requested == "markdown" or (requested is None and "text/markdown" in call.header("Accept"))


@answering_bad_queries
async def team_review(queries: Queries, call: Call) -> Reply:
    """`GET /v1/reviews/{team_id}/{period}`: the team's review of the period, JSON or Markdown."""
    team_id = call.path["team_id"]
    period = params.period({"period": call.path.get("period") or "-"}, queries.timezone)
    as_markdown = wants_markdown(call)
    deals, state, developments, covered = await _read(queries, call)
    rules, roles = queries.process.coaching, development.roles_of(developments)
    membership = answers.membership_of(state)

    def reviewed() -> dict[str, Any]:
        previous = next(iter(previous_periods(period, 1)), None)
        done = review(deals, state, membership, rules, developments, team_id, period, previous)
        return review_body(done, roles)

    body: Mapping[str, Any] = await asyncio.to_thread(reviewed)
    if as_markdown:
        return Reply(200, raw=review_markdown(body).encode(), content_type="text/markdown")
    return Reply(200, {**body, **covered})
