"""Pipeline and funnel as of a past instant (issue #11): the query's cost over a simulated year,
beside the live pipeline's over the same history in the same run (pure functions, no worker).

    .venv/bin/python -m bench.as_of                       # 500 reps, 40,000 leads, 52 weeks (~3 min)
    .venv/bin/python -m bench.as_of --reps 100 --leads 8000 --runs 3   # quicker

The KPI partials are folded per source partition as the projector keeps them (``--partitions``);
X is the end of 2026-Q3. Every event is recorded some hours to 12 days after it happened (a
backlog), so that ``known_at`` has late facts to leave out. Timed, ``--runs`` times (medians): the
as-of pipeline (merge the lead and deal partials, truncate at X, trace every deal, summary and
stuck deals), the as-of funnel, the pipeline known at X (the same with the book as recorded by X),
and, as the baseline, the live pipeline's answer (`pipeline.deal_views` over the pipeline read
model's parts, summary and stuck deals at X) over the same history.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from projections import funnel, kpi_fold, org, pipeline
from projections.funnel_as_of import tracks_as_of
from projections.pipeline_as_of import deal_views_as_of, leads_and_deals
from sales.process import load_process
from services.outbox.relay import partition_for
from services.simulator import simulate_envelopes

TZ = "Europe/Berlin"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=500)
    parser.add_argument("--leads", type=int, default=40_000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    process = load_process(None)
    t0 = time.perf_counter()
    events = [
        event.recorded(event.time + timedelta(hours=(index * 29) % 300))
        for index, event in enumerate(
            simulate_envelopes(7, reps=args.reps, leads=args.leads, start=date(2026, 1, 5), weeks=args.weeks)
        )
    ]
    t1 = time.perf_counter()
    # per-partition partials, as the projector keeps them: (key, partial) per source partition
    by_partition: dict[int, dict[str, kpi_fold.Partial]] = defaultdict(dict)
    for event in events:
        p = partition_for(event.partition_key, args.partitions)
        mine = by_partition[p]
        for key, part in kpi_fold.contributions(event, TZ):
            current = mine.get(key)
            mine[key] = part if current is None else kpi_fold.merge(current, part)
    partials = [(k, v) for mine in by_partition.values() for k, v in mine.items()]
    state = org.fold(events)
    parts = list(pipeline.fold(events, process).values())  # the live pipeline read model
    t2 = time.perf_counter()
    instant = datetime(2026, 9, 30, 23, 59, 59, tzinfo=ZoneInfo(TZ))  # end of a past quarter
    deals_n = sum(1 for k, _ in partials if k.startswith("deal|"))
    print(
        f"{len(events):,} events ({args.reps} reps, {args.leads} leads, {args.weeks} weeks); "
        f"{len(partials):,} KPI partials on {args.partitions} partitions, {deals_n:,} deal timelines; "
        f"simulate {t1 - t0:.1f} s, fold {t2 - t1:.1f} s"
    )
    timings: dict[str, list[float]] = defaultdict(list)
    narrow = [(k, v) for k, v in partials if k.startswith(("lead|", "deal|"))]  # what the handler merges
    for _ in range(args.runs):
        a = time.perf_counter()
        book = kpi_fold.merge_partials(narrow, TZ)
        b = time.perf_counter()
        known = leads_and_deals(book, instant)
        c = time.perf_counter()
        views = deal_views_as_of(known, process)
        d = time.perf_counter()
        rows = pipeline.pipeline_summary(views.values(), state, process, instant, "team", timedelta(days=14))
        stuck = pipeline.stuck_deals(views.values(), instant, timedelta(days=14))
        e = time.perf_counter()
        report = funnel.funnel_report(
            funnel.total(tracks_as_of(book, process, instant).values(), process), process
        )
        f = time.perf_counter()
        live = pipeline.deal_views(parts, process)
        pipeline.pipeline_summary(live.values(), state, process, instant, "team", timedelta(days=14))
        pipeline.stuck_deals(live.values(), instant, timedelta(days=14))
        g = time.perf_counter()
        recorded = kpi_fold.merge_partials(narrow, TZ).travelled(instant, instant)  # as the handler asks
        known_views = deal_views_as_of(recorded, process)
        pipeline.pipeline_summary(known_views.values(), state, process, instant, "team", timedelta(days=14))
        pipeline.stuck_deals(known_views.values(), instant, timedelta(days=14))
        h = time.perf_counter()
        for name, span in (
            ("merge lead+deal", b - a),
            ("as_of", c - b),
            ("trace+views", d - c),
            ("summary+stuck", e - d),
            ("pipeline total", e - a),
            ("funnel (as_of+tracks+report)", f - e),
            ("funnel total", (f - e) + (b - a)),
            ("baseline: live pipeline", g - f),
            ("pipeline known_at total", h - g),
        ):
            timings[name].append(span)
    open_deals = sum(1 for v in views.values() if v.status == "open")
    print(
        f"as of {instant.isoformat()}: {len(views):,} deals ({open_deals:,} open), {len(rows)} rows, "
        f"{len(stuck)} stuck; funnel leads {report.leads:,}"
    )
    for name, spans in timings.items():
        middle = statistics.median(spans)
        print(f"  {name:24s} median {middle:.3f} s  (min {min(spans):.3f}, max {max(spans):.3f})")
    ratio = statistics.median(timings["pipeline total"]) / statistics.median(
        timings["baseline: live pipeline"]
    )
    print(f"  as-of pipeline / live pipeline (medians): {ratio:.1f}")
    known_ratio = statistics.median(timings["pipeline known_at total"]) / statistics.median(
        timings["baseline: live pipeline"]
    )
    print(f"  known-at pipeline / live pipeline (medians): {known_ratio:.1f}")
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        book = kpi_fold.merge_partials(narrow, TZ)
        views = deal_views_as_of(book, process, instant)
        pipeline.pipeline_summary(views.values(), state, process, instant, "team", timedelta(days=14))
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(18)


if __name__ == "__main__":
    main()
