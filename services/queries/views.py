"""Query endpoints: read models merged from every worker's partials (any worker answers).

Times in queries are event times: `as_of` (ISO 8601 with a time zone) is the instant the pipeline
is looked at; it defaults to now, stamped here at the edge, never inside a fold.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import faust
from faust.web import Request, Response, View

from projections import funnel, kpi_fold, org, pipeline, rep_activity
from projections.kpi_scope import KpiValue, Membership, Scope
from projections.kpis import kpi_report
from projections.periods import period_days, period_key
from services.projector.service import Projector
from services.queries.fanout import PARTIALS, coverage, partials_body, peer_bodies, read_body
from services.settings import Settings
from services.writemodel.recorder import Runtime

GROUPINGS: dict[str, pipeline.GroupBy] = {
    "stage": "stage",
    "rep": "rep",
    "team": "team",
    "territory": "territory",
}


def jsonable(value: Any) -> Any:
    """Decimals as exact strings, durations in seconds, times in ISO 8601."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def json_response(view: View, body: Any) -> Response:
    """Our own JSON encoding (Faust's rounds floats), so a live answer and a replay match byte for byte."""
    return view.bytes(json.dumps(jsonable(body)).encode(), content_type="application/json")


class BadQuery(ValueError):
    """A query parameter that cannot be understood (answered with 400 naming it)."""


def parse_as_of(raw: str | None) -> datetime:
    if not raw:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        raise BadQuery("as_of: not an ISO 8601 date-time") from None
    if at.utcoffset() is None:
        raise BadQuery("as_of: needs a time zone")
    return at


async def merged_states(
    app: faust.App, projector: Projector, name: str
) -> tuple[list[tuple[str, Any]], dict[str, int]]:
    """(key, state) of every partial of read model `name`, from every worker, and coverage."""
    model = next(model for model in projector.models if model.name == name)
    own, covered = projector.partials(name), projector.owned()  # a snapshot, read in the thread
    bodies = await peer_bodies(projector, PARTIALS.format(name=name))

    def decoded() -> tuple[list[tuple[str, Any]], set[int]]:
        states = [(key, model.decode(key, stored).state) for _, key, stored in own()]
        partitions = set(covered)
        for body in bodies:
            theirs, their_partitions = read_body(body)
            states.extend((key, model.loaded(key, stored).state) for _, key, stored in theirs)
            partitions |= their_partitions
        return states, partitions

    states, partitions = await asyncio.to_thread(decoded)
    return states, coverage(partitions, projector.settings.topic_partitions)


def register_query_views(app: faust.App, projector: Projector, runtime: Runtime) -> None:
    process = runtime.store.process

    async def merged(name: str) -> tuple[list[tuple[str, Any]], dict[str, int]]:
        return await merged_states(app, projector, name)

    async def org_state() -> org.OrgState:
        states, _ = await merged("org")
        return org.merge_all(state for _, state in states)

    @app.page(PARTIALS)
    class PartialsView(View):
        """This worker's own partials of one read model (internal, for the worker answering)."""

        async def get(self, request: Request, name: str, **kwargs: Any) -> Response:
            if name not in {model.name for model in projector.models}:
                return self.json({"status": "not_found", "message": f"no read model {name!r}"}, status=404)
            return self.bytes(await partials_body(projector, name), content_type="application/json")

    @app.page("/v1/reps/activity")
    class AllRepsActivityView(View):
        async def get(self, request: Request, **kwargs: Any) -> Response:
            states, covered = await merged("rep-activity")
            reps = rep_activity.merge_all(states)
            return self.json({"reps": {rep: s.to_dict() for rep, s in sorted(reps.items())}, **covered})

    @app.page("/v1/reps/{rep_id}/activity")
    class RepActivityView(View):
        async def get(self, request: Request, rep_id: str, **kwargs: Any) -> Response:
            states, covered = await merged("rep-activity")
            state = rep_activity.merge_all(states).get(rep_id, rep_activity.RepActivity())
            return self.json({"rep_id": rep_id, **state.to_dict(), **covered})

    @app.page("/v1/pipeline")
    class PipelineView(View):
        """Open deals grouped by stage, rep, team or territory, with stuck deals."""

        async def get(self, request: Request, **kwargs: Any) -> Response:
            query = request.query
            try:
                as_of = parse_as_of(query.get("as_of"))
                group_by = GROUPINGS.get(query.get("group_by", "stage"))
                if group_by is None:
                    raise BadQuery("group_by: one of stage, rep, team, territory")
                days = query.get("stuck_after_days", "14")
                if not days.isdigit():
                    raise BadQuery("stuck_after_days: a whole number of days")
            except BadQuery as bad:
                return self.json(
                    {"status": "rejected", "reason": "bad_query", "message": str(bad)}, status=400
                )
            stuck_after = timedelta(days=int(days))
            states, covered = await merged("pipeline")
            deals = pipeline.deal_views((state for _, state in states), process).values()
            rows = pipeline.pipeline_summary(deals, await org_state(), process, as_of, group_by, stuck_after)
            stuck = pipeline.stuck_deals(deals, as_of, stuck_after)
            body = {
                "as_of": as_of,
                "group_by": group_by,
                "rows": [asdict(row) for row in rows],
                "stuck": [asdict(deal) for deal in stuck],
                **covered,
            }
            return json_response(self, body)

    @app.page("/v1/funnel")
    class FunnelView(View):
        """Per-stage conversion, skips and regressions, and lead-to-won conversion."""

        async def get(self, request: Request, **kwargs: Any) -> Response:
            states, covered = await merged("funnel")
            report = funnel.funnel_report(funnel.total((s for _, s in states), process), process)
            return json_response(self, {**asdict(report), **covered})


SCOPES = ("org", "rep", "team", "territory")


def kpi_body(values: dict[str, KpiValue]) -> dict[str, Any]:
    return {name: asdict(value) for name, value in values.items()}


def membership_of(state: org.OrgState) -> Membership:
    """A rep's team and territories on a day, as the organisation history says."""
    return lambda rep, day: (org.team_of(state, rep, day), org.territories_of(state, rep, day))


def parse_scope(query: Any) -> Scope:
    kind = query.get("scope", "org")
    if kind not in SCOPES:
        raise BadQuery("scope: one of org, rep, team, territory")
    scope_id = query.get("id")
    if (kind == "org") != (scope_id is None):
        raise BadQuery("id: required for rep, team and territory scopes, not for org")
    return Scope(kind, scope_id)


def parse_period(query: Any, timezone: str) -> str:
    period = query.get("period") or period_key("quarter", datetime.now(UTC), timezone)
    try:
        period_days(period)
    except ValueError:
        raise BadQuery("period: like 2026-11-02, 2026-W45, 2026-11, 2026-Q4 or 2026") from None
    return str(period)


def register_kpi_views(app: faust.App, projector: Projector, runtime: Runtime) -> None:
    """KPIs, leaderboards and forecast, computed at query time from the merged KPI partials."""
    settings: Settings = runtime.settings
    process = runtime.store.process
    timezone = settings.org_timezone

    async def book_and_org() -> tuple[kpi_fold.KpiBook, org.OrgState, dict[str, int]]:
        states, covered = await merged_states(app, projector, "kpis")
        org_states, _ = await merged_states(app, projector, "org")
        combined = org.merge_all(state for _, state in org_states)
        return kpi_fold.merge_partials(states, timezone), combined, covered

    def bad(view: View, error: BadQuery) -> Response:
        return view.json({"status": "rejected", "reason": "bad_query", "message": str(error)}, status=400)

    @app.page("/v1/kpis")
    class KpisView(View):
        """Every KPI of one scope over one period (docs/kpis.md)."""

        async def get(self, request: Request, **kwargs: Any) -> Response:
            try:
                scope, period = parse_scope(request.query), parse_period(request.query, timezone)
            except BadQuery as error:
                return bad(self, error)
            book, state, covered = await book_and_org()
            values = kpi_report(book, scope, period, membership_of(state), process)
            body = {
                "scope": scope.kind,
                "id": scope.id,
                "period": period,
                "kpis": kpi_body(values),
                **covered,
            }
            return json_response(self, body)

    @app.page("/v1/forecast")
    class ForecastView(View):
        """Weighted pipeline expected to close in the period, committed and won."""

        async def get(self, request: Request, **kwargs: Any) -> Response:
            try:
                scope, period = parse_scope(request.query), parse_period(request.query, timezone)
            except BadQuery as error:
                return bad(self, error)
            book, state, covered = await book_and_org()
            values = kpi_report(book, scope, period, membership_of(state), process)
            forecast = {k: v for k, v in values.items() if k.startswith("forecast_")}
            body = {"scope": scope.kind, "id": scope.id, "period": period, "forecast": kpi_body(forecast)}
            return json_response(self, {**body, **covered})

    @app.page("/v1/leaderboards")
    class LeaderboardView(View):
        """One KPI ranked across reps or teams (highest first; undefined values last)."""

        async def get(self, request: Request, **kwargs: Any) -> Response:
            query = request.query
            try:
                kpi, by = query.get("kpi"), query.get("by", "rep")
                if not kpi:
                    raise BadQuery("kpi: the KPI to rank by, e.g. won_revenue.EUR or win_rate")
                if by not in ("rep", "team"):
                    raise BadQuery("by: rep or team")
                period = parse_period(query, timezone)
            except BadQuery as error:
                return bad(self, error)
            book, state, covered = await book_and_org()
            first, last = period_days(period)
            members = {rep for rep in state.reps}
            ids = (
                members if by == "rep" else {org.team_of(state, r, d) for r in members for d in (first, last)}
            )
            ranking = []
            for scope_id in sorted(i for i in ids if i):
                scope = Scope("rep" if by == "rep" else "team", scope_id)
                value = kpi_report(book, scope, period, membership_of(state), process).get(kpi)
                ranking.append({"id": scope_id, **(asdict(value) if value else {"value": None})})
            ranking.sort(key=lambda row: (row["value"] is None, -(row["value"] or 0), row["id"]))
            body = {"kpi": kpi, "by": by, "period": period, "ranking": ranking, **covered}
            return json_response(self, body)
