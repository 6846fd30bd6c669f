"""The three pages (team overview, rep, deal), each built from the API answers of its sources.

A page handler reads the page's period and time-travel parameters, names the API requests its
sections show (`Source`), asks the API's policy whether the page's key could make each, calls the
API's handler for those it could, and renders. With ``format=numbers`` it answers the page's numbers
as JSON instead (the live stream's payload, `services.ui.live`): the same sections, the same cells.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from projections.coaching import previous_periods
from projections.periods import period_key
from services.auth.roles import Principal
from services.ui import rep_sections, sections
from services.ui.cells import Cells
from services.ui.layout import TRAVEL, frame, section, withheld
from services.ui.sources import Reader, Source, Unanswered
from services.web.routes import Call, Reply

HTML = "text/html"
Render = Callable[[Cells, list[Any]], str]


@dataclass
class Page:
    """One page being built: its key, its parameters, its cells and what its answers covered."""

    reader: Reader
    principal: Principal | None
    query: dict[str, str]
    cells: Cells = field(default_factory=Cells)
    covered: list[tuple[int, int]] = field(default_factory=list)
    charts: bool = False

    def travel(self, **query: str) -> dict[str, str]:
        """``query`` with the page's ``as_of`` and ``known_at`` (every source honours both)."""
        return {**query, **{k: self.query[k] for k in ("as_of", "known_at") if self.query.get(k)}}

    async def part(self, title: str, ident: str, sources: Sequence[Source], render: Render) -> str:
        """One section: withheld if the key could not ask the API for any of its sources."""
        for source in sources:
            why = await self.reader.reach(self.principal, source)
            if why is not None:
                return section(title, withheld(why), ident)
        try:  # one after the other, as a client would: answers in parallel threads only fight for the GIL
            bodies = [await self.reader.fetch(source) for source in sources]
        except Unanswered as refused:
            return section(title, withheld(f"the API answered {refused.status}: {refused}"), ident)
        for body in bodies:
            if isinstance(body, dict) and "partitions_total" in body:
                self.covered.append((int(body["partitions_covered"]), int(body["partitions_total"])))
        return section(title, render(self.cells, bodies), ident)

    def reply(
        self, title: str, parts: Sequence[str], call: Call, extra: dict[str, Any] | None = None
    ) -> Reply:
        covered, total = min(self.covered, default=(0, 0))
        said = {"partitions_covered": covered, "partitions_total": total, **(extra or {})}
        if call.query.get("format") == "numbers":
            return Reply(200, {"cells": self.cells.values, "shape": self.cells.shape(), **said})
        page = frame(title, "".join(parts), self.query, self.cells.shape(), self.charts)
        return Reply(200, said, raw=page.encode(), content_type=HTML)


def page_query(call: Call, timezone: str) -> dict[str, str]:
    """The page's period (the current quarter unless named) and its ``as_of`` / ``known_at``."""
    query = {k: call.query[k] for k in TRAVEL if call.query.get(k)}
    query.setdefault("period", period_key("quarter", datetime.now(UTC), timezone))
    return query


def previous(period: str) -> str:
    try:
        return next(iter(previous_periods(period, 1)), period)
    except ValueError:
        return period  # an unreadable period: the API's 400 is shown in its sections


def start(reader: Reader, call: Call) -> Page:
    return Page(reader, reader.principal(call), page_query(call, reader.guard.timezone))


async def team_page(reader: Reader, call: Call) -> Reply:
    """`/ui/teams/{team_id}`: the manager's overview of one team for the period."""
    page, team = start(reader, call), call.path["team_id"]
    period, q = page.query["period"], page.query
    scoped = {"scope": "team", "id": team}
    now = Source("/v1/kpis", query=page.travel(**scoped, period=period))
    before = Source("/v1/kpis", query=page.travel(**scoped, period=previous(period)))
    stages = Source("/v1/pipeline", query=page.travel(**scoped, group_by="stage"))
    flow = Source("/v1/funnel", query=page.travel())
    ahead = Source("/v1/forecast", query=page.travel(**scoped, period=period))
    review = Source("/v1/reviews/{team_id}/{period}", {"team_id": team, "period": period}, page.travel())
    ranked = Source("/v1/leaderboards", query=page.travel(kpi="win_rate", by="rep", period=period))
    flagged = Source("/v1/coaching/flags", query=page.travel(**scoped, period=period))
    page.charts = True
    parts = [
        await page.part(
            "KPIs", "kpis", [now, before], lambda c, b: sections.kpi_cards(c, now, b[0], before, b[1], q)
        ),
        await page.part(
            "Pipeline by stage", "pipeline", [stages], lambda c, b: sections.pipeline(c, stages, b[0], q)
        ),
        await page.part("Funnel", "funnel", [flow], lambda c, b: sections.funnel(c, flow, b[0])),
        await page.part("Forecast", "forecast", [ahead], lambda c, b: sections.forecast(c, ahead, b[0])),
        await page.part("Targets", "targets", [review], lambda c, b: sections.targets(c, review, b[0])),
        await page.part(
            "Leaderboard", "leaderboard", [ranked], lambda c, b: sections.leaderboard(c, ranked, b[0], q)
        ),
        await page.part(
            "Coaching flags", "flags", [flagged], lambda c, b: sections.flags(c, flagged, b[0], q)
        ),
        await page.part(
            "Every KPI",
            "all-kpis",
            [now, before],
            lambda c, b: sections.kpi_table(c, now, b[0], before, b[1]),
        ),
    ]
    return page.reply(f"Team {team} · {period}", parts, call)


async def rep_page(reader: Reader, call: Call) -> Reply:
    """`/ui/reps/{rep_id}`: one rep's pipeline, activity, KPIs, weak areas and statement."""
    page, rep = start(reader, call), call.path["rep_id"]
    period, q = page.query["period"], page.query
    scoped = {"scope": "rep", "id": rep}
    acts = Source("/v1/reps/{rep_id}/activity", {"rep_id": rep}, page.travel())
    now = Source("/v1/kpis", query=page.travel(**scoped, period=period))
    before = Source("/v1/kpis", query=page.travel(**scoped, period=previous(period)))
    stages = Source("/v1/pipeline", query=page.travel(**scoped, group_by="stage"))
    grows = Source("/v1/reps/{rep_id}/development", {"rep_id": rep}, page.travel(period=period))
    pays = Source("/v1/statements/{rep_id}/{period}", {"rep_id": rep, "period": period}, page.travel())
    owns = Source("/v1/deals", query=page.travel(rep=rep, limit="50"))
    parts = [
        await page.part("Activity", "activity", [acts], lambda c, b: rep_sections.activity(c, acts, b[0])),
        await page.part(
            "KPIs", "kpis", [now, before], lambda c, b: sections.kpi_cards(c, now, b[0], before, b[1], q)
        ),
        await page.part("Pipeline", "pipeline", [stages], lambda c, b: sections.pipeline(c, stages, b[0], q)),
        await page.part(
            "Weak areas and coaching",
            "development",
            [grows],
            lambda c, b: rep_sections.development(c, grows, b[0]),
        ),
        await page.part(
            "Statement", "statement", [pays], lambda c, b: rep_sections.statement(c, pays, b[0], q)
        ),
        await page.part("Deals", "deals", [owns], lambda c, b: rep_sections.deals(c, owns, b[0], q)),
    ]
    return page.reply(f"Rep {rep} · {period}", parts, call)


async def deal_page(reader: Reader, call: Call) -> Reply:
    """`/ui/deals/{deal_id}`: the deal's state, its stage timeline and every event behind it.
    The reply's body carries the deal (its ``rep_id``), so the guard decides ownership on it."""
    page, deal = start(reader, call), call.path["deal_id"]
    one = Source("/v1/deals/{deal_id}", {"deal_id": deal}, page.travel())
    try:
        body = await reader.fetch(one)
    except Unanswered as refused:
        return Reply(refused.status, {"status": "rejected", "message": str(refused)})
    q = page.query
    if "partitions_total" in body:
        page.covered.append((int(body["partitions_covered"]), int(body["partitions_total"])))
    parts = [
        section("State", rep_sections.deal_state(page.cells, one, body, q), "state"),
        section("Stage timeline", rep_sections.timeline(body), "timeline"),
        section("Event history", rep_sections.history(page.cells, one, body), "history"),
    ]
    return page.reply(f"Deal {deal}", parts, call, {"deal": body.get("deal")})
