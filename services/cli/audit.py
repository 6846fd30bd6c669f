"""`salesledger audit`: verify the hash chains, check completeness, compare with a replay, explain a
rep's figures."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from services.cli.replay import read_models
from services.settings import Settings


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 when everything verifies, 1 with the findings otherwise, 2 when a source cannot be read."""
    import json

    from services.audit.report import as_json, as_text
    from services.audit.sources import SourceError
    from services.audit.verify import verify
    from services.kafka_access import kafka_access

    try:
        report = verify(
            args.source if args.action == "verify" else "both",
            kafka_access(settings),
            args.topic or settings.topic_events,
            args.database_url or settings.database_url,
            chains=args.action == "verify",
        )
    except SourceError as error:
        print(f"audit {args.action}: {error}", file=sys.stderr)
        return 2
    print(json.dumps(as_json(report), indent=2) if args.json else as_text(report))
    return 0 if report.ok else 1


def cmd_audit_compare(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 when the live read models equal a replay of what they reflect, 1 with each difference,
    2 when either side cannot be read."""
    from services.kafka_access import kafka_access
    from services.replay.live import LiveError
    from services.replay.log import LogError
    from services.replay.run import compare_live

    try:
        models = read_models(settings, args.model)
        compared = asyncio.run(
            compare_live(
                kafka_access(settings),
                args.topic or settings.topic_events,
                f"{settings.app_id}-projector",
                settings.topic_partitions,
                models,
                args.url,
                args.to_end,
                None if args.quiet else sys.stderr,
            )
        )
    except (ValueError, LogError, LiveError) as error:
        print(f"audit compare: {error}", file=sys.stderr)
        return 2
    shown = compared.differences[: args.limit]
    for difference in shown:
        print(difference.describe())
    if len(compared.differences) > len(shown):
        print(f"... and {len(compared.differences) - len(shown)} more")
    print(compared.replayed.describe())
    verdict = "differ" if compared.differences else "equal"
    print(
        f"{compared.live_partials} live partials from {', '.join(compared.urls)} and the replay "
        f"{verdict}: {len(compared.differences)} difference(s)"
    )
    return 1 if compared.differences else 0


def cmd_audit_explain(args: argparse.Namespace, settings: Settings) -> int:
    """Every KPI and payout figure of a rep for a period with the events behind it, computed here
    from the live read models' partials; exit 2 when the workers cannot be read or do not cover the log."""
    from sales.process import load_process
    from services.audit.explain import MODELS, explanation_of, render
    from services.replay.live import LiveError, check_coverage, gather

    try:
        models = read_models(settings, MODELS)
        urls = args.url or asyncio.run(_worker_urls(settings))
        live, covered = asyncio.run(gather(urls, MODELS))
        check_coverage(covered, settings.topic_partitions)
        process = load_process(settings.process_file)
        explanation = explanation_of(live, models, process, settings.org_timezone, args.rep, args.period)
    except (ValueError, LiveError) as error:
        print(f"audit explain: {error}", file=sys.stderr)
        return 2
    text = render(explanation, args.format)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


async def _worker_urls(settings: Settings) -> list[str]:
    """Every worker of the projector group (its directory on the broker); failing that, this
    machine's SALESLEDGER_WEB_HOST/PORT."""
    from aiokafka.errors import KafkaError

    from services.kafka_access import kafka_access
    from services.replay.live import directory

    try:
        found = await directory(kafka_access(settings), f"{settings.app_id}-projector")
    except (KafkaError, OSError):
        found = {}
    return sorted(found) or [f"http://{settings.web_host}:{settings.web_port}"]


def add_audit(sub: Any) -> None:
    """Add these commands to the `salesledger` parser's subcommands."""
    audit = sub.add_parser(
        "audit", help="auditors' commands: prove the recorded history intact, explain the figures"
    )
    audit_actions = audit.add_subparsers(dest="action", required=True)
    verify = audit_actions.add_parser(
        "verify",
        help="walk every aggregate's hash chain on the Kafka log and in the event store (docs/audit.md)",
    )
    verify.add_argument(
        "--source",
        choices=["kafka", "store", "both"],
        default="both",
        help="what to verify; both also checks each holds every event of the other (default both)",
    )
    verify.add_argument("--topic", help="the Kafka topic to verify (default: the canonical events topic)")
    verify.add_argument(
        "--database-url", help="the event store to verify (default: SALESLEDGER_DATABASE_URL)"
    )
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    verify.set_defaults(handler=cmd_audit)
    completeness = audit_actions.add_parser(
        "completeness",
        help="the event store and the Kafka log against each other, event by event: every event "
        "missing on either side named (docs/audit.md)",
    )
    completeness.add_argument("--topic", help="the Kafka topic (default: the canonical events topic)")
    completeness.add_argument("--database-url", help="the event store (default: SALESLEDGER_DATABASE_URL)")
    completeness.add_argument("--json", action="store_true", help="print the report as JSON")
    completeness.set_defaults(handler=cmd_audit)

    compare = audit_actions.add_parser(
        "compare",
        help="diff the live read models with a fresh replay of the log; exit 1 on any difference",
    )
    compare.add_argument(
        "--url", action="append", help="a worker's URL (repeatable; default: every worker of the group)"
    )
    compare.add_argument("--model", action="append", help="a read model to compare (repeatable; default all)")
    compare.add_argument("--topic", help="the canonical topic to replay (default: SALESLEDGER_TOPIC_EVENTS)")
    compare.add_argument(
        "--to-end",
        action="store_true",
        help="replay the whole log, not only what the live partials reflect (for a caught-up system)",
    )
    compare.add_argument("--limit", type=int, default=50, help="differences printed at most (default 50)")
    compare.add_argument("--quiet", action="store_true", help="no progress on stderr")
    compare.set_defaults(handler=cmd_audit_compare)

    explain = audit_actions.add_parser(
        "explain",
        help="every KPI and payout figure of a rep for a period, with the events behind it (docs/audit.md)",
    )
    explain.add_argument("--rep", required=True, help="the rep's id")
    explain.add_argument("--period", required=True, help="the period, e.g. 2026-Q3, 2026-08, 2026-W32")
    explain.add_argument(
        "--format", choices=["text", "csv", "json"], default="text", help="how to write it (default text)"
    )
    explain.add_argument("--out", type=Path, help="write it to this file instead of stdout")
    explain.add_argument(
        "--url",
        action="append",
        help="a worker's URL (repeatable; default: every worker of the group, else this machine's)",
    )
    explain.set_defaults(handler=cmd_audit_explain)
