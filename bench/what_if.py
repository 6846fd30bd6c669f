"""What-if over a quarter for a large organisation, against the recorded statements in the same run.

    .venv/bin/python -m bench.what_if                       # 500 reps, 26 weeks, what-if over 2026-Q2
    .venv/bin/python -m bench.what_if --reps 100 --leads 4000 --repeat 3   # quick run

The history is the simulator's (`services.simulator`, seed 7): ``--reps`` reps, ``--leads``
leads over ``--weeks`` weeks from 2026-01-05, with its plans, assignments, quotas, SPIFFs and wins.
Not timed: simulating it and folding it into the incentive ledger (`projections.incentives.ledger`,
what the projector keeps). Timed, each ``--repeat`` times (min and median reported):

- **book**: the merged ledger read back into an `IncentiveBook` (what every statement query does);
- **one statement**: the ledger read back and the statement of the rep with the most lines, the
  query-time part of the delay from a `DealWon` to its statement line (the rest is the projector's
  fold latency, measured by `bench.projection`);
- **baseline, payouts**: every rep's final statement for the quarter (`approvals.final_payouts`
  with the organisation and the KPI reports, `context.context_of`), the work of `GET /v1/payouts`;
- **what-if**: the proposal (the plan in force with every rate raised by one point) over the same
  quarter for every rep it pays (`what_if.compare`, final statements on the standing side), the
  work of `POST /v1/what-if`.

Each timed repetition starts from a fresh context, as each query does: the organisation and KPI
read models merged (not timed: the merge is the same for every query), the deals' paths traced
for KPI bonuses on the first report asked (timed).

The ratio what-if / payouts says what trying a plan costs beside reading the recorded one; the
aim for the what-if itself is under 5 seconds for a 500-rep organisation.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from projections import kpi_fold, org
from projections.incentives import ledger
from projections.incentives.approvals import approvals_by_rep, final_payouts, final_statement
from projections.incentives.books import RepStatement, payouts
from projections.incentives.context import Context, context_of
from projections.incentives.facts import IncentiveBook, book_of
from projections.incentives.terms import FlatTerms, MarginalTerms, PlanTerms, Tier
from projections.incentives.what_if import compare
from sales.process import default_process
from services.simulator import simulate_envelopes

TZ = "Europe/Berlin"


def raised(plan: PlanTerms) -> PlanTerms:
    """The plan with every tier's rate one point higher: a proposal that changes every line."""

    def up(tiers: tuple[Tier, ...]) -> tuple[Tier, ...]:
        return tuple(replace(tier, rate_percent=tier.rate_percent + 1) for tier in tiers)

    rules = tuple(
        replace(rule, tiers=up(rule.tiers)) if isinstance(rule, MarginalTerms | FlatTerms) else rule
        for rule in plan.rules
    )
    return replace(plan, plan_version=plan.plan_version + 1, rules=rules)


def busiest_plan(book: IncentiveBook, period: str) -> PlanTerms:
    """The plan version that rated the most statements in the period."""
    counts: dict[tuple[str, int], int] = {}
    for result in payouts(book, period):
        for one in result.statements:
            counts[(one.plan_id, one.plan_version)] = counts.get((one.plan_id, one.plan_version), 0) + 1
    (plan_id, version), _ = max(counts.items(), key=lambda item: item[1])
    return next(plan for plan in book.plans[plan_id] if plan.plan_version == version)


def timed(work: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return times, result


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    events = list(
        simulate_envelopes(7, reps=args.reps, leads=args.leads, start=date(2026, 1, 5), weeks=args.weeks)
    )
    merged = ledger.fold(events)
    organisation, kpis, process = org.fold(events), kpi_fold.fold(events, TZ), default_process()
    prepared = time.perf_counter() - started

    def context() -> Context:
        return context_of(organisation, kpis, process)

    book_times, book = timed(lambda: book_of(merged, TZ), args.repeat)
    payout_times, recorded = timed(
        lambda: final_payouts(merged, TZ, args.period, context=context(), book=book), args.repeat
    )
    busiest = max(recorded, key=lambda r: sum(len(one.lines) for one in r.statements)).rep_id
    one_times, _ = timed(
        lambda: final_statement(merged, TZ, busiest, args.period, book_of(merged, TZ), context=context()),
        args.repeat,
    )
    proposal = raised(busiest_plan(book, args.period))

    def what_if() -> Any:
        around, approvals = context(), approvals_by_rep(merged)

        def standing(rep: str) -> RepStatement:
            return final_statement(
                merged, TZ, rep, args.period, book, context=around, approvals=approvals.get(rep, [])
            )

        return compare(book, proposal, args.period, context=around, current=standing)

    what_if_times, result = timed(what_if, args.repeat)
    credited = sum(len(one.lines) for r in recorded for one in r.statements)
    return {
        "events": len(events),
        "ledger_entries": sum(len(entries.items) for entries in merged.values()),
        "reps_with_statements": sum(1 for r in recorded if r.statements),
        "statement_lines": credited,
        "what_if_reps": len(result.reps),
        "current_total": str(result.current_total),
        "proposed_total": str(result.proposed_total),
        "prepare_seconds": round(prepared, 2),
        "book_seconds": [round(t, 3) for t in book_times],
        "payouts_seconds": [round(t, 3) for t in payout_times],
        "one_statement_seconds": [round(t, 4) for t in one_times],
        "what_if_seconds": [round(t, 3) for t in what_if_times],
    }


def report(figures: dict[str, Any], args: argparse.Namespace) -> None:
    def row(name: str, times: list[float]) -> str:
        return f"{name:<28} min {min(times):7.3f} s   median {statistics.median(times):7.3f} s"

    print(f"{figures['events']:,} events, {args.reps} reps, what-if over {args.period}")
    entries, with_statements = figures["ledger_entries"], figures["reps_with_statements"]
    print(f"ledger entries {entries:,}; reps with statements {with_statements}")
    print(f"statement lines {figures['statement_lines']:,}; reps the proposal pays {figures['what_if_reps']}")
    print(f"totals recorded {figures['current_total']} / proposed {figures['proposed_total']}")
    print(row("book (ledger read back)", figures["book_seconds"]))
    print(row("one statement (with book)", figures["one_statement_seconds"]))
    print(row("baseline: every payout", figures["payouts_seconds"]))
    print(row("what-if", figures["what_if_seconds"]))
    ratio = statistics.median(figures["what_if_seconds"]) / statistics.median(figures["payouts_seconds"])
    print(f"what-if / payouts (medians)  {ratio:.2f}")
    prepared = figures["prepare_seconds"]
    print(f"python {platform.python_version()}, {os.cpu_count()} cpus; simulate + fold {prepared} s")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=500)
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--weeks", type=int, default=26)
    parser.add_argument("--period", default="2026-Q2")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", help="also write the figures to this file")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    figures = run(args)
    report(figures, args)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(figures, out, indent=2)


if __name__ == "__main__":
    main()
