"""Incentives (issue #10): the time from a `DealWon` to its statement line, p50/p99, at a steady
1,000 events/s; beside it, measured in the same run, the projector's own fold latency and the
statement query's own time.

    .venv/bin/python -m bench.statement_latency                  # 20,000 events, 30 s at 1,000 ev/s (~70 s)
    .venv/bin/python -m bench.statement_latency --seconds 60 --json s.json

One run starts a private Kafka broker (free ports, temporary data dir, its own topic prefix) and
fills a fresh canonical topic DIRECTLY with the first ``--events`` events of the simulator's history
(`services.simulator`, seed 7), exactly as `bench.projection` does (its functions are reused): the
write model is bypassed. The history holds the comp plans (one per role, version 1 in force for
the whole of 2026) and every rep's assignment. One ``salesledger worker`` (own app id, Faust tables
in ``memory://``) projects the topic; once it has caught up (scraped from its metrics) and then
idled ``--settle`` seconds:

1. **Stream**: the history's continuation at ``--rate`` events/s (default 1,000) for ``--seconds``
   (default 30), each event's ``recordedtime`` stamped when it is sent (as `bench.projection`).
2. **Deals**: into the same stream (same producer, same pacing loop), every ``--deals-every``
   seconds (default 0.5) one `DealWon` more: a fresh deal id and event id, amount and products of
   the simulator's first win, credited 100 % to one rep with a plan in force today, its ``time``
   and ``recordedtime`` now (so it is credited today in the organisation's time zone and falls
   in the current quarter's statement). The rep (``--rep``, or by default the history's first
   account executive onboarded before the cut who does not leave and whose plan is in force
   today) is checked offline before the run: a `DealWon` of today puts a line naming it in their
   statement, computed as the endpoint does.
3. **Polling**: while a deal is waiting to be seen, one client (aiohttp) GETs
   ``/v1/statements/{rep_id}/{quarter}``, one request at a time and at most one every
   ``--poll-every`` seconds (default 0.01: in practice back to back, since a GET takes far
   longer); each answer settles every waiting deal one of its ``statements[].lines[]`` names.
   **The latency is the time from a deal's send to the end of the first answer naming it**, so
   it includes up to two GETs (the one in flight at the send, then one that sees the deal).
   Nearest-rank p50/p99 over the deals (about 60: p99 is the slowest); the time to the *start*
   of that request is given too (0 when it was already on its way). A deal not seen within
   ``--give-up`` seconds counts as missing. One poller, not one per deal: a statement GET costs
   the worker a few hundred ms of CPU (it decodes the whole KPI read model when a plan pays a
   KPI bonus, as the simulator's account executive plan does), and a poller per deal every 10 ms
   piled up a score of GETs at once and starved the projector (fold latency 28 s).
4. **Baselines, same run, same window**: the projector's fold latency, p50/p99 of the delta of the
   worker's ``salesledger_projection_latency_seconds`` histogram over the stream (recorded time to
   the batch acknowledged on the changelog and stored; interpolated inside a bucket as in
   `bench.projection`: 5, 10, 25, 50, 100, 250 ms ...), and the statement query's own time, the
   median (and p90) of every GET of the poller; after the run, with the worker idle, the median
   of ``--idle-gets`` more GETs of the same statement.

Queries see a batch as soon as it is folded, before its changelog write is acknowledged
(`PartitionProjection.snapshot`), so a line can appear before the fold latency has elapsed; but
the GETs run in the worker, so the polling itself loads it (the share of the window a GET was in
flight is printed) and the fold latency reported is the one under that load (`bench.projection`
gives it without queries). CPU of the worker, the broker, this process and the rest of the
machine during the stream is printed: on two cores, the figures depend on whether they are free.
The dead-letter topic must stay empty. ``--commit`` records the commit measured without asking git.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bench.ingest import BenchWorker, CpuMeter, bench_settings, machine, revision, worker_command
from bench.projection import (
    SEQ_HEADER,
    Metrics,
    deadlettered,
    fill,
    history,
    producer,
    quantile,
    records,
    wait_projected,
)
from events import Envelope
from events.deals import DealWon
from events.organisation import RepLeft, RepOnboarded, RepRole
from events.parse import parse_document, serialize_event
from projections.incentives import ledger
from projections.incentives.approvals import final_statement
from projections.incentives.facts import book_of, plan_on
from projections.periods import local_day, period_key
from services import broker
from services.settings import Settings
from services.topics import ensure_topics
from tests.support import auditor_key

SEND_TICK_SECONDS = 0.005
"""The pacing loop's sleep between bursts (as `bench.projection.steady`)."""


# --- workload ------------------------------------------------------------------------------------


def deal_won(template: DealWon, index: int, rep_id: str, at: datetime) -> DealWon:
    """The `template` win as a fresh deal (new deal, customer and event ids) credited 100 % to
    `rep_id` at `at`, parsed through the gate like any event."""
    deal = f"deal-bench-{index:05d}"
    document = template.model_dump(mode="json", exclude_none=True)
    for attribute in ("recordedtime", "causationid"):
        document.pop(attribute, None)
    document |= {
        "id": f"bench-won-{index:05d}",
        "time": at.isoformat(),
        "subject": deal,
        "correlationid": deal,
        "actor": f"user:{rep_id}",
    }
    document["data"] |= {
        "deal_id": deal,
        "customer_id": f"cust-bench-{index:05d}",
        "rep_id": rep_id,
        "credit_splits": [{"rep_id": rep_id, "share_percent": "100"}],
    }
    won = parse_document(document)
    assert isinstance(won, DealWon)
    return won


def named_deals(statement: dict[str, Any]) -> set[str]:
    """The deals named by a line of the statement's JSON (``statements[].lines[]``)."""
    return {
        line["deal_id"] for one in statement["statements"] for line in one["lines"] if line.get("deal_id")
    }


def planned_rep(
    known: Sequence[Envelope], later: Sequence[Envelope], template: DealWon, tz: str, wanted: str | None
) -> str:
    """`wanted`, or the first account executive onboarded in `known` (the events projected before
    the stream) who leaves neither there nor in `later` and whose plan is in force today; checked
    offline: a `DealWon` of today puts a line naming it in their statement of the current quarter
    (computed as the endpoint does)."""
    now = datetime.now(UTC)
    today, period = local_day(now, tz), period_key("quarter", now, tz)
    book = book_of(ledger.fold(known), tz)
    leaving = {e.data.rep_id for e in (*known, *later) if isinstance(e, RepLeft)}
    onboarded = [e.data for e in known if isinstance(e, RepOnboarded)]
    candidates = (
        [wanted]
        if wanted
        else [
            d.rep_id
            for d in onboarded
            if d.role == RepRole.ACCOUNT_EXECUTIVE
            and d.rep_id not in leaving
            and plan_on(book, d.rep_id, today) is not None
        ]
    )
    for rep in candidates:
        probe = deal_won(template, 0, rep, now)
        with_probe = ledger.fold([*known, probe])
        result = final_statement(with_probe, tz, rep, period, book_of(with_probe, tz))
        if any(line.deal_id == probe.data.deal_id for one in result.statements for line in one.lines):
            return rep
    raise RuntimeError(
        f"{wanted or 'no account executive'} of the history's first {len(known):,} events"
        f" has no plan in force on {today}"
    )


# --- measuring -----------------------------------------------------------------------------------


@dataclass
class Sighting:
    """One injected deal: when it was sent (seconds from the stream's start) and, from the send,
    when the request of the first answer naming it started (0 when it was already on its way)
    and when that answer ended (None: not seen within the give-up time)."""

    deal_id: str
    sent_s: float
    seen_s: float | None = None
    asked_s: float | None = None
    gets: int = 0


@dataclass
class Watch:
    """The deals sent and not yet seen in the statement (by deal id, with their send time)."""

    pending: dict[str, tuple[Sighting, float]] = field(default_factory=dict)
    done: list[Sighting] = field(default_factory=list)
    gets: list[tuple[float, float]] = field(default_factory=list)
    """(start, seconds) of every GET."""
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False

    def add(self, sighting: Sighting, sent: float) -> None:
        self.pending[sighting.deal_id] = (sighting, sent)
        self.wake.set()

    def close(self) -> None:
        self.closed = True
        self.wake.set()


async def watch_statement(
    session: aiohttp.ClientSession, url: str, watch: Watch, every: float, give_up: float
) -> None:
    """While a deal is pending, GET the statement at `url`, one request at a time and at most one
    every `every` seconds; each answer settles every pending deal it names. Ends once closed and
    nothing is pending."""
    while True:
        if not watch.pending:
            if watch.closed:
                return
            watch.wake.clear()
            await watch.wake.wait()
            continue
        asked = time.perf_counter()
        async with session.get(url) as response:
            body = await response.read()
        answered = time.perf_counter()
        watch.gets.append((asked, answered - asked))
        if response.status != 200:
            raise RuntimeError(f"GET {url}: HTTP {response.status} {body[:300]!r}")
        named = named_deals(json.loads(body))
        for deal_id, (sighting, sent) in list(watch.pending.items()):
            sighting.gets += 1
            if deal_id in named:
                sighting.asked_s = round(max(0.0, asked - sent), 4)
                sighting.seen_s = round(answered - sent, 4)
            elif answered - sent <= give_up:
                continue
            watch.done.append(sighting)
            del watch.pending[deal_id]
        await asyncio.sleep(max(0.0, asked + every - time.perf_counter()))


@dataclass(frozen=True)
class Deals:
    """What to inject into the stream, and how to watch for it."""

    template: DealWon
    rep: str
    every: float
    poll_every: float
    give_up: float
    tz: str


async def steady_with_deals(
    settings: Settings,
    metrics: Metrics,
    session: aiohttp.ClientSession,
    events: Sequence[Envelope],
    rate: float,
    first_seq: int,
    cpu: CpuMeter,
    deals: Deals,
) -> dict[str, Any]:
    """`bench.projection.steady`'s pacing loop with a `DealWon` more every ``deals.every`` seconds,
    each watched in the rep's statement from its send; then the worker's fold latency over the
    same window and the GETs' own times."""
    start_count = await metrics.projected()
    before = await metrics.latency_buckets()
    url = f"http://{settings.web_host}:{settings.web_port}/v1/statements/{deals.rep}"
    watch = Watch()
    watching: asyncio.Task[None] | None = None
    client = producer(settings)
    await client.start()
    try:
        cpu_before = cpu.sample()
        began = time.perf_counter()
        window = len(events) / rate
        sent, injected, seq, futures = 0, 0, first_seq, []
        while sent < len(events):
            elapsed = time.perf_counter() - began
            due = min(len(events), int(elapsed * rate) + 1)
            while sent < due:
                event = events[sent]
                value = serialize_event(event.recorded(datetime.now(UTC)))
                headers = [(SEQ_HEADER, str(seq).encode())]
                key = event.partition_key.encode()
                futures.append(await client.send(settings.topic_events, value, key=key, headers=headers))
                sent, seq = sent + 1, seq + 1
            # the deals: at every, 2 * every ... while the stream still runs
            if (injected + 1) * deals.every <= elapsed and (injected + 1) * deals.every < window:
                injected += 1
                now = datetime.now(UTC)
                won = deal_won(deals.template, injected, deals.rep, now)
                value = serialize_event(won.recorded(now))
                headers = [(SEQ_HEADER, str(seq).encode())]
                sent_at = time.perf_counter()
                futures.append(
                    await client.send(
                        settings.topic_events, value, key=won.partition_key.encode(), headers=headers
                    )
                )
                seq += 1
                watch.add(Sighting(won.data.deal_id, round(sent_at - began, 3)), sent_at)
                if watching is None:
                    period = period_key("quarter", now, deals.tz)
                    watching = asyncio.create_task(
                        watch_statement(session, f"{url}/{period}", watch, deals.poll_every, deals.give_up)
                    )
            if watching is not None and watching.done():
                watching.result()  # a failed GET fails the run now
            await asyncio.sleep(SEND_TICK_SECONDS)
        send_seconds = time.perf_counter() - began
        await asyncio.gather(*futures)
    finally:
        await client.stop()
    trace = await wait_projected(metrics, start_count + len(events) + injected)
    watch.close()
    if watching is not None:
        await watching
    ended = time.perf_counter()
    sightings = sorted(watch.done, key=lambda s: s.sent_s)
    gets = watch.gets
    usage = CpuMeter.cores(cpu_before, cpu.sample(), len(events) + injected)
    after = await metrics.latency_buckets()
    seconds = [duration for _start, duration in gets]
    return {
        "stream_events": len(events),
        "deals": injected,
        "target_rate": rate,
        "achieved_rate": round((len(events) + injected) / send_seconds),
        "send_seconds": round(send_seconds, 2),
        "drain_seconds_after_last_send": round(trace[-1][0] - (began + send_seconds), 2),
        "cpu_cores": usage,
        "fold": {
            "observations": after[float("inf")] - before.get(float("inf"), 0.0),
            "p50": quantile(0.5, before, after),
            "p99": quantile(0.99, before, after),
            "buckets_s": sorted(b for b in after if b != float("inf")),
        },
        "query": {
            "gets": len(seconds),
            **spread(seconds),
            "busy_fraction": round(sum(seconds) / (ended - began), 3),
        },
        "sightings": [asdict(s) for s in sightings],
    }


async def idle_gets(session: aiohttp.ClientSession, url: str, count: int) -> list[float]:
    """Seconds of `count` GETs of `url`, one after the other, the worker otherwise idle."""
    seconds = []
    for _ in range(count):
        asked = time.perf_counter()
        async with session.get(url) as response:
            await response.read()
        seconds.append(time.perf_counter() - asked)
        if response.status != 200:
            raise RuntimeError(f"GET {url}: HTTP {response.status}")
    return seconds


def nearest_rank(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def spread(values: Sequence[float]) -> dict[str, float | None]:
    """Median, p90, p99 (nearest rank), min and max of `values`, in seconds (None when empty)."""
    if not values:
        return dict.fromkeys(("median", "p90", "p99", "min", "max"))
    return {
        "median": round(statistics.median(values), 4),
        "p90": round(nearest_rank(values, 0.9), 4),
        "p99": round(nearest_rank(values, 0.99), 4),
        "min": round(min(values), 4),
        "max": round(max(values), 4),
    }


def deal_latencies(sightings: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Send to the answer naming the deal (and to the start of that request): p50/p99 over the
    deals seen, the missing ones counted."""
    seen = [s["seen_s"] for s in sightings if s["seen_s"] is not None]
    asked = [s["asked_s"] for s in sightings if s["asked_s"] is not None]
    gets = [s["gets"] for s in sightings]
    return {
        "deals": len(sightings),
        "seen": len(seen),
        "missing": len(sightings) - len(seen),
        "to_answer_s": spread(seen),
        "to_request_s": spread(asked),
        "gets_per_deal": {
            "median": statistics.median(gets) if gets else None,
            "max": max(gets, default=None),
        },
    }


async def measure_live(
    args: argparse.Namespace, settings: Settings, tmp: Path, broker_pid: int | None
) -> dict[str, Any]:
    n, tail = args.events, int(args.rate * args.seconds)
    events = history(n + tail, args.seed)
    if len(events) < n + tail:
        raise RuntimeError(f"the simulator gave {len(events)} events, not {n + tail}")
    template = next((e for e in events if isinstance(e, DealWon)), None)
    if template is None:
        raise RuntimeError("the history holds no DealWon to copy")
    tz = settings.org_timezone
    rep = planned_rep(events[:n], events[n:], template, tz, args.rep)
    deals = Deals(template, rep, args.deals_every, args.poll_every, args.give_up, tz)
    fill_seconds = await fill(settings, records(events[:n], 1))

    worker = BenchWorker(settings, tmp / "worker.log", worker_command(None))
    worker.start()
    assert worker.process is not None
    cpu = CpuMeter(worker.process.pid, broker_pid)
    try:
        reader = {"Authorization": f"Bearer {auditor_key(settings.database_url)}"}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60), headers=reader) as session:
            metrics = Metrics(session, settings)
            caught_up = time.perf_counter()
            await wait_projected(metrics, n)
            caught_up = time.perf_counter() - caught_up
            await asyncio.sleep(args.settle)  # let changelog flushes and commits of the catch-up finish
            run = await steady_with_deals(
                settings, metrics, session, events[n:], args.rate, n + 1, cpu, deals
            )
            quarter = period_key("quarter", datetime.now(UTC), tz)
            idle_url = f"http://{settings.web_host}:{settings.web_port}/v1/statements/{rep}/{quarter}"
            idle = await idle_gets(session, idle_url, args.idle_gets)
            dead = await deadlettered(settings)
    except Exception:
        print(worker.log_tail(), file=sys.stderr)
        raise
    finally:
        worker.stop(timeout=60)
    if dead:
        raise RuntimeError(f"{dead} events went to the dead-letter topic")
    return {
        "events": n,
        "fill_seconds": round(fill_seconds, 2),
        "catch_up_seconds": round(caught_up, 2),
        "rep": rep,
        "period": quarter,
        "timezone": tz,
        "deal": {"amount": str(template.data.amount.amount), "currency": template.data.amount.currency},
        "latency": deal_latencies(run["sightings"]),
        "idle_query_s": {"gets": len(idle), **spread(idle)},
        **run,
    }


# --- reporting -----------------------------------------------------------------------------------


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f}"


def table(result: dict[str, Any]) -> str:
    live = result["live"]
    latency, fold, query, idle = live["latency"], live["fold"], live["query"], live["idle_query_s"]
    answer, request = latency["to_answer_s"], latency["to_request_s"]
    rate = f"{live['achieved_rate']:,} ev/s"
    lines = [
        f"{'measure':<58} {'value':>24}",
        f"{'DealWon -> statement line, p50 / p99 (ms), at ' + rate:<58}"
        f" {_ms(answer['median']):>10} / {_ms(answer['p99'])}",
        f"{'  min / max (ms); deals seen of injected':<58} {_ms(answer['min']):>10} / {_ms(answer['max'])};"
        f" {latency['seen']} of {latency['deals']}",
        f"{'  to the start of the GET that named it, p50 / p99 (ms)':<58}"
        f" {_ms(request['median']):>10} / {_ms(request['p99'])}",
    ]
    for name in ("p50", "p99"):
        q = fold[name]
        lines.append(
            f"{'projector fold latency ' + name + ' (worker histogram, same window)':<58}"
            f" {q['seconds'] * 1000:>10.1f} ms (bucket {q['low'] * 1000:g}..{q['high'] * 1000:g} ms)"
        )
    lines += [
        f"{'statement GET during the run, median / p90 (ms)':<58}"
        f" {_ms(query['median']):>10} / {_ms(query['p90'])} ({query['gets']:,} GETs)",
        f"{'statement GET, worker idle, median (ms)':<58} {_ms(idle['median']):>10} ({idle['gets']} GETs)",
        f"{'GETs per deal (median / max); a GET in flight':<58}"
        f" {latency['gets_per_deal']['median']!s:>10} / {latency['gets_per_deal']['max']};"
        f" {query['busy_fraction']:.0%} of the time",
    ]
    cores = live["cpu_cores"]
    lines += [
        "",
        f"history: {live['events']:,} events projected first (caught up {live['catch_up_seconds']} s after"
        f" ready); stream: {live['stream_events']:,} events + {live['deals']} DealWon in"
        f" {live['send_seconds']} s, drained {live['drain_seconds_after_last_send']} s after the last send,"
        f" {live['fold']['observations']:.0f} fold observations",
        f"rep {live['rep']}, statement of {live['period']}"
        f" ({live['timezone']}), each deal {live['deal']['amount']} {live['deal']['currency']}",
        f"CPU during the stream, cores: worker {cores['worker']} broker {cores['broker']}"
        f" bench {cores['bench']} other {cores['other']} (steal {cores['steal']});"
        f" worker {cores['worker_us_per_event']} us/event",
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000, help="history projected first (default 20000)")
    parser.add_argument("--rate", type=float, default=1000.0, help="stream events/s (default 1000)")
    parser.add_argument("--seconds", type=float, default=30.0, help="seconds of stream (default 30)")
    parser.add_argument(
        "--deals-every", type=float, default=0.5, help="seconds between injected DealWon (default 0.5)"
    )
    parser.add_argument(
        "--poll-every", type=float, default=0.01, help="seconds between a deal's GETs at most (default 0.01)"
    )
    parser.add_argument(
        "--give-up", type=float, default=30.0, help="seconds after which an unseen deal is missing"
    )
    parser.add_argument(
        "--settle", type=float, default=10.0, help="idle seconds between catch-up and the stream"
    )
    parser.add_argument("--idle-gets", type=int, default=20, help="GETs of one statement after the run")
    parser.add_argument(
        "--rep", help="the rep credited (default: the first account executive with a plan in force today)"
    )
    parser.add_argument("--seed", type=int, default=7, help="simulator seed")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this path")
    parser.add_argument(
        "--commit", help="the commit measured, for the results (default: asked of git, as the other benches)"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    started, host = datetime.now(UTC), machine()
    commit = args.commit or revision()
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="salesledger-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        settings = bench_settings(tmp, "memory")
        state = broker.up(settings)
        try:
            asyncio.run(ensure_topics(settings))
            result["live"] = asyncio.run(measure_live(args, settings, tmp, state.pid))
        finally:
            broker.down(settings)
    result |= {
        "date": started.isoformat(timespec="seconds"),
        "command": " ".join(
            [".venv/bin/python -m bench.statement_latency", *(argv if argv is not None else sys.argv[1:])]
        ),
        "commit": commit,
        "machine": host,
        "setup": {"partitions": settings.topic_partitions, "store": settings.store},
    }
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
