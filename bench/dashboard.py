"""The dashboard's team overview (issue #17): page weight and time to first render, over a simulated
organisation, beside the API answers the page is built from, measured in the same run.

    .venv/bin/python -m bench.dashboard                          # 500 reps, 20,000 leads, 40 weeks
    .venv/bin/python -m bench.dashboard --reps 100 --leads 4000  # quicker
    .venv/bin/python -m bench.dashboard --no-browser             # server side only

No worker and no broker: the read models are folded in this process as the projector folds them
(`PartitionProjection`, ``--partitions`` source partitions) and the page is the worker's own handler
(`services.ui.pages.team_page`) over them. Timed, ``--runs`` times (medians):

- the baseline: the API answers the team overview shows (its `Source` requests), each called through
  its own handler, one after the other, as a client of the API would ask them;
- the page: the team overview's handler rendering the same answers into HTML (it calls those
  handlers itself), and its ``format=numbers`` answer (what the live stream recomputes);
- in a headless Chromium (unless ``--no-browser``): the page served over loopback by a small aiohttp
  server with the worker's static files; first contentful paint and DOMContentLoaded from the
  browser's own timing API (the chart library is parsed before DOMContentLoaded: it is deferred).

Page weight is the HTML plus the stylesheet, our script and the vendored Chart.js, raw and gzipped.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from aiohttp import web

from events import Envelope
from projections import org
from sales.process import load_process
from services.access.guard import Guard
from services.outbox.relay import partition_for
from services.projector.partition import PartitionProjection
from services.projector.readmodels import read_models
from services.projector.store import MemoryStore
from services.queries import drilldown, handlers
from services.simulator import simulate_envelopes
from services.ui import browser, pages
from services.ui.routes import reader_of
from services.web.routes import Call

TZ = "Europe/Berlin"


class Folded:
    """Every read model folded once per source partition, as the projector keeps them."""

    def __init__(self, events: list[Envelope], partitions: int) -> None:
        models = read_models(load_process(None), TZ)
        projections: dict[int, PartitionProjection] = {}
        for offset, event in enumerate(events):
            partition = partition_for(event.partition_key, partitions)
            projection = projections.get(partition)
            if projection is None:
                projection = projections[partition] = PartitionProjection(partition, models, MemoryStore())
            projection.fold(offset, event)
        self.partials = {
            model.name: [
                (key, model.decode(key, stored).state)
                for projection in projections.values()
                for key, stored in projection.partials(model.name)
            ]
            for model in models
        }
        self.covered = {"partitions_covered": partitions, "partitions_total": partitions}

    def names(self) -> frozenset[str]:
        return frozenset(self.partials)

    async def states(self, name: str) -> tuple[list[tuple[str, Any]], dict[str, int]]:
        return self.partials[name], self.covered


class NoStore:
    """The team overview reads no event history."""

    def history(self, kind: str, key: str) -> None:
        return None

    def history_of_event(self, source: str, event_id: str) -> None:
        return None


async def timed(runs: int, work: Callable[[], Awaitable[Any]]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=500)
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--weeks", type=int, default=40)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--period", default="2026-Q3")
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args)), indent=2))


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    events = list(
        simulate_envelopes(5, reps=args.reps, leads=args.leads, start=date(2026, 1, 5), weeks=args.weeks)
    )
    read = Folded(events, args.partitions)
    folded = time.perf_counter() - started
    queries = handlers.Queries(read, load_process(None), TZ)
    state = await queries.organisation()
    team = max(
        state.teams,
        key=lambda t: sum(1 for rep in state.reps if org.team_of(state, rep, date(2026, 9, 30)) == t),
    )
    reader = reader_of(drilldown.Drilldown(queries, NoStore()), Guard(None, queries.organisation, TZ))
    call = Call(path={"team_id": team}, query={"period": args.period})
    reply = await pages.team_page(reader, call)
    html = reply.encoded()
    sources = team_sources(team, args.period)

    async def baseline() -> None:
        for source in sources:
            await reader.fetch(source)

    statics = browser.static_files()
    weight = {
        name: statics[name].read_bytes() for name in ("ui.css", "ui.js", "chart.umd.js") if name in statics
    }
    result: dict[str, Any] = {
        "organisation": {"reps": args.reps, "leads": args.leads, "events": len(events), "team": team},
        "folded_seconds": round(folded, 1),
        "baseline_api_answers_seconds": round(await timed(args.runs, baseline), 4),
        "page_html_seconds": round(await timed(args.runs, lambda: pages.team_page(reader, call)), 4),
        "page_numbers_seconds": round(
            await timed(
                args.runs,
                lambda: pages.team_page(
                    reader, Call(path=call.path, query={**call.query, "format": "numbers"})
                ),
            ),
            4,
        ),
        "html_bytes": len(html),
        "html_gzip_bytes": len(gzip.compress(html)),
        "static_bytes": {name: len(body) for name, body in weight.items()},
        "total_bytes": len(html) + sum(len(b) for b in weight.values()),
        "total_gzip_bytes": len(gzip.compress(html)) + sum(len(gzip.compress(b)) for b in weight.values()),
        "number_cells": html.count(b"data-api="),
    }
    result["page_to_baseline"] = round(
        result["page_html_seconds"] / result["baseline_api_answers_seconds"], 2
    )
    if not args.no_browser:
        result["browser"] = await first_render(html, statics, team, args.runs)
    return result


def team_sources(team: str, period: str) -> list[Any]:
    """The API requests the team overview shows (as `services.ui.pages.team_page` names them)."""
    from services.ui.sources import Source

    scoped = {"scope": "team", "id": team}
    previous = pages.previous(period)
    return [
        Source("/v1/kpis", query={**scoped, "period": period}),
        Source("/v1/kpis", query={**scoped, "period": previous}),
        Source("/v1/pipeline", query={**scoped, "group_by": "stage"}),
        Source("/v1/funnel"),
        Source("/v1/forecast", query={**scoped, "period": period}),
        Source("/v1/reviews/{team_id}/{period}", {"team_id": team, "period": period}),
        Source("/v1/leaderboards", query={"kpi": "win_rate", "by": "rep", "period": period}),
        Source("/v1/coaching/flags", query={**scoped, "period": period}),
    ]


async def first_render(html: bytes, statics: dict[str, Any], team: str, runs: int) -> dict[str, Any]:
    """The page (already rendered) served over loopback; the browser's own paint timings."""
    from tests.ui_support import chromium

    async def page(request: web.Request) -> web.Response:
        return web.Response(body=html, content_type="text/html")

    async def static(request: web.Request) -> web.Response:
        found = statics[request.match_info["name"]]
        kind = "text/css" if found.suffix == ".css" else "text/javascript"
        return web.Response(body=found.read_bytes(), content_type=kind)

    app = web.Application()
    app.router.add_get("/ui/teams/{team}", page)
    app.router.add_get("/ui/static/{name}", static)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    script = (
        "const n = performance.getEntriesByType('navigation')[0];"
        " const p = performance.getEntriesByName('first-contentful-paint')[0];"
        " return {fcp: p ? p.startTime : null, dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd};"
    )

    def browse() -> list[dict[str, float]]:
        found = []
        with chromium() as driver:
            for _ in range(runs + 1):  # the first warms the browser's caches of its own
                driver.get(f"http://127.0.0.1:{port}/ui/teams/{team}")
                time.sleep(0.5)  # let the load event finish before reading its timing
                found.append(driver.execute_script(script))
        return found[1:]

    try:
        timings = await asyncio.to_thread(browse)
    finally:
        await runner.cleanup()
    return {
        key + "_ms": round(statistics.median(t[key] for t in timings if t[key] is not None), 1)
        for key in ("fcp", "dcl", "load")
    }


if __name__ == "__main__":
    main()
