"""The `salesledger` command: run the broker, the worker, the whole system, or demo data."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from services.auth.roles import Role
from services.settings import Settings, get_settings

Handler = Callable[[argparse.Namespace, Settings], int]


def cmd_kafka(args: argparse.Namespace, settings: Settings) -> int:
    from services import broker

    if args.action == "fetch":
        print(broker.ensure_jars(settings))
    elif args.action == "acls":
        from services.broker.acls import acl_commands, users

        print("# SCRAM users: " + ", ".join(users(settings)))
        command = "kafka-acls.sh --bootstrap-server <brokers> --command-config <admin.properties>"
        print("\n".join(f"{command} {line}" for line in acl_commands(settings)))
    elif args.action == "up":
        print(broker.up(settings).describe())
    elif args.action == "down":
        broker.down(settings)
        print("local broker stopped")
    else:
        state = broker.status(settings)
        print(state.describe())
        return 0 if state.reachable else 1
    return 0


def cmd_topics(args: argparse.Namespace, settings: Settings) -> int:
    from services.topics import ensure_topics

    created = asyncio.run(ensure_topics(settings))
    print("created: " + (", ".join(created) or "nothing (all exist)"))
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    import faust

    from services.bootstrap import create_app
    from services.log_limits import limit_repeats
    from services.topics import ensure_topics

    asyncio.run(ensure_topics(settings))
    app = create_app(settings)

    class Worker(faust.Worker):
        def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
            super().on_setup_root_logger(logger, level)
            limit_repeats(logger)  # a broker outage must not flood the log (services.log_limits)

    worker = Worker(app, loglevel=settings.log_level, quiet=True, redirect_stdouts=False)
    worker.spinner = None  # with it, Faust sets the root logger to DEBUG above info (costly)
    worker.execute_from_commandline()
    return 0


def cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    """Create, revoke and list API keys in the configured database (``SALESLEDGER_DATABASE_URL``),
    wherever the command runs: the key is printed once; only its hash is stored."""
    from services.auth.keys import ApiKeys

    keys = ApiKeys.from_url(settings.database_url)
    try:
        if args.action == "create":
            try:
                expires = expiry(args.expires)
                print(
                    keys.create(
                        args.source or (),
                        args.label,
                        role=Role(args.role),
                        subject=args.subject,
                        expires_at=expires,
                    )
                )
            except ValueError as error:
                print(f"keys create: {error}", file=sys.stderr)
                return 2
        elif args.action == "revoke":
            if not args.key_id or not keys.revoke(args.key_id):
                print(f"no active key {args.key_id!r}", file=sys.stderr)
                return 1
            print(f"revoked {args.key_id}")
        else:
            print("key_id\trole\tsources\tsubject\tcreated\texpires\tstate\tlabel")
            for key in keys.list():
                row = (key.key_id, key.role, key.source or "-", key.subject or "-", key.created_at)
                print("\t".join((*row, key.expires_at or "never", key.state(), key.label or "")))
    finally:
        keys.close()
    return 0


def expiry(text: str | None) -> datetime | None:
    """``--expires``: an ISO 8601 date-time with a zone, or a lifetime from now (``90d``, ``12h``)."""
    if not text:
        return None
    units = {"d": "days", "h": "hours", "m": "minutes"}
    if text[-1:] in units and text[:-1].isdigit():
        return datetime.now(UTC) + timedelta(**{units[text[-1]]: int(text[:-1])})
    at = datetime.fromisoformat(text)
    if at.utcoffset() is None:
        raise ValueError("--expires needs a time zone (2027-01-01T00:00:00+00:00) or a lifetime (90d)")
    return at


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from services.runner import feed_demo

    asyncio.run(feed_demo(settings, count=args.count))  # replaces the demo key in the local database
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from services.runner import run_system

    return run_system(settings, demo_count=args.demo_events, simulate_history=not args.no_history)


def cmd_what_if(args: argparse.Namespace, settings: Settings) -> int:
    """POST the proposal to a running worker's `/v1/what-if` and print the comparison per rep."""
    import json
    import urllib.error
    import urllib.request

    document = json.loads(args.plan.read_text(encoding="utf-8"))
    plan = document.get("data", document) if isinstance(document, dict) else document  # an event or its data
    body: dict[str, object] = {"period": args.period, "plan": plan}
    if args.rep:
        body["reps"] = args.rep
    url = args.url or f"http://{settings.web_host}:{settings.web_port}"
    headers = {"Content-Type": "application/json"}
    if key := args.key or os.environ.get("SALESLEDGER_API_KEY"):
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(f"{url}/v1/what-if", json.dumps(body).encode(), headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as error:
        print(error.read().decode(), file=sys.stderr)
        return 1
    currency = answer["currency"]
    print(f"{answer['period']}: plan {answer['plan_id']} v{answer['plan_version']} ({currency})")
    print(f"{'rep':<24} {'recorded':>14} {'proposed':>14} {'deals differing':>16}")
    for rep in answer["reps"]:
        row = (rep["rep_id"], rep["current_total"], rep["proposed_total"], len(rep["differences"]))
        print(f"{row[0]:<24} {row[1]:>14} {row[2]:>14} {row[3]:>16}")
    print(f"{'total':<24} {answer['current_total']:>14} {answer['proposed_total']:>14}")
    return 0


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


def _read_models(settings: Settings, names: Sequence[str] | None) -> list[Any]:
    from sales.process import load_process
    from services.projector.readmodels import read_models
    from services.replay.run import chosen

    return chosen(read_models(load_process(settings.process_file), settings.org_timezone), names)


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    """Fold the canonical log into fresh read models in memory; write them with --out."""
    from services.audit.sources import SourceError
    from services.kafka_access import kafka_access
    from services.replay.log import LogError
    from services.replay.run import replay, replay_store, write
    from services.replay.workers import ModelSpec

    try:
        models = _read_models(settings, args.model)
        progress = None if args.quiet else sys.stderr
        spec = ModelSpec(settings.process_file, settings.org_timezone, tuple(m.name for m in models))
        workers = args.workers if args.workers is not None else min(os.cpu_count() or 1, 4)
        if args.source == "store":
            url = args.database_url or settings.database_url
            replayed = replay_store(url, models, settings.topic_partitions, progress)
        else:
            replayed = asyncio.run(
                replay(
                    kafka_access(settings),
                    args.topic or settings.topic_events,
                    models,
                    None,
                    progress,
                    spec=spec,
                    workers=workers,
                )
            )
        if args.into is not None:
            _into(args, settings, replayed)
    except (ValueError, LogError, SourceError) as error:
        print(f"replay: {error}", file=sys.stderr)
        return 2
    if args.out:
        for path in write(args.out, replayed):
            print(f"wrote {path}")
    print(replayed.describe())
    return 0


def _into(args: argparse.Namespace, settings: Settings, replayed: Any) -> None:
    """Write the replay as namespace ``--into`` (and with ``--switch`` make it the live one)."""
    from services.projector.namespaces import write_pointer
    from services.replay.into import write_namespace

    if args.model or args.source != "kafka" or args.topic:
        raise ValueError(
            "--into takes a whole replay of the canonical log: no --model, --topic or --source store"
        )
    written = asyncio.run(write_namespace(settings, args.into, replayed.rebuild))
    print(f"wrote {written} records into namespace {args.into!r}")
    if args.switch:
        pointer = asyncio.run(write_pointer(settings, args.into, "salesledger replay --switch"))
        print(f"namespace {pointer.namespace!r} is live from {pointer.switched_at}: the workers follow it")


def cmd_readmodels(args: argparse.Namespace, settings: Settings) -> int:
    """Show the live read-model namespace, or switch every worker to another one."""
    import json

    from services.projector.namespaces import NamespaceError, read_pointer, write_pointer

    try:
        if args.action == "switch":
            pointer = asyncio.run(write_pointer(settings, args.namespace, "salesledger readmodels switch"))
        else:
            pointer = asyncio.run(read_pointer(settings))
    except NamespaceError as error:
        print(f"readmodels: {error}", file=sys.stderr)
        return 2
    print(
        json.dumps(
            {
                "namespace": pointer.namespace or "default",
                "switched_at": pointer.switched_at,
                "by": pointer.by,
            }
        )
    )
    return 0


def cmd_audit_compare(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 when the live read models equal a replay of what they reflect, 1 with each difference,
    2 when either side cannot be read."""
    from services.kafka_access import kafka_access
    from services.replay.live import LiveError
    from services.replay.log import LogError
    from services.replay.run import compare_live

    try:
        models = _read_models(settings, args.model)
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
        models = _read_models(settings, MODELS)
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


def cmd_config(args: argparse.Namespace, settings: Settings) -> int:
    from services.settings import settings_table

    print(settings_table(settings))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="salesledger",
        description="Event-sourced sales performance management on Kafka. "
        "Settings come from SALESLEDGER_* environment variables (docs/configuration.md).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    kafka = sub.add_parser("kafka", help="manage the local single-node Kafka broker (KRaft)")
    kafka.add_argument(
        "action",
        choices=["up", "down", "status", "fetch", "acls"],
        help="up: start (or reuse a reachable cluster); down: stop ours; "
        "status: is it reachable; fetch: download the broker jars only; "
        "acls: print the kafka-acls.sh arguments an external cluster needs (docs/security.md)",
    )
    kafka.set_defaults(handler=cmd_kafka)

    topics = sub.add_parser("topics", help="create the project's topics (idempotent)")
    topics.set_defaults(handler=cmd_topics)

    worker = sub.add_parser("worker", help="run a Faust worker: ingestor, projections and HTTP API")
    worker.set_defaults(handler=cmd_worker)

    keys = sub.add_parser(
        "keys", help="API keys with roles: create (printed once), revoke, list (docs/api.md, Access)"
    )
    keys.add_argument("action", choices=["create", "revoke", "list"])
    keys.add_argument("key_id", nargs="?", help="the key id to revoke (the part after sl_)")
    keys.add_argument(
        "--role",
        choices=[role.value for role in Role],
        default=Role.PUBLISHER.value,
        help="what the key may do (default publisher)",
    )
    keys.add_argument(
        "--source",
        action="append",
        help="a CloudEvents source it publishes as (publisher, admin; repeatable)",
    )
    keys.add_argument("--subject", help="the rep id (rep key) or manager id (manager key) it reads for")
    keys.add_argument("--expires", help="an ISO 8601 date-time with a zone, or a lifetime: 90d, 12h, 30m")
    keys.add_argument("--label", help="a note kept with the key")
    keys.set_defaults(handler=cmd_keys)

    demo = sub.add_parser("demo", help="publish demo activity to a running system (HTTP and Kafka)")
    demo.add_argument("--count", type=int, default=30, help="number of demo events (default 30)")
    demo.set_defaults(handler=cmd_demo)

    what_if = sub.add_parser(
        "what-if", help="a proposed plan over a recorded period, beside the plan in force"
    )
    what_if.add_argument("plan", type=Path, help="the proposal: a CompPlanPublished event or its data (JSON)")
    what_if.add_argument("--period", required=True, help="the period to try it over, e.g. 2026-Q3")
    what_if.add_argument(
        "--rep", action="append", help="a rep to compare (repeatable; default: those it pays)"
    )
    what_if.add_argument("--url", help="a worker's URL (default: this machine's SALESLEDGER_WEB_HOST/PORT)")
    what_if.add_argument(
        "--key", help="an admin or auditor API key (default: the SALESLEDGER_API_KEY environment variable)"
    )
    what_if.set_defaults(handler=cmd_what_if)

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

    replay = sub.add_parser(
        "replay", help="rebuild read models from the canonical log with the projector's folds (docs/audit.md)"
    )
    replay.add_argument("--model", action="append", help="a read model to rebuild (repeatable; default all)")
    replay.add_argument("--out", type=Path, help="write one JSON file per read model into this directory")
    replay.add_argument("--topic", help="the canonical topic to replay (default: SALESLEDGER_TOPIC_EVENTS)")
    replay.add_argument(
        "--source",
        choices=["kafka", "store"],
        default="kafka",
        help="fold the canonical log (default) or the event store, in its order (docs/audit.md)",
    )
    replay.add_argument(
        "--database-url", help="with --source store: the store (default SALESLEDGER_DATABASE_URL)"
    )
    replay.add_argument("--quiet", action="store_true", help="no progress on stderr")
    replay.add_argument(
        "--workers",
        type=int,
        help="processes folding the partitions in parallel (default: the CPUs, at most 4; 1: this process)",
    )
    replay.add_argument("--into", help="write the rebuilt read models as this new namespace (docs/audit.md)")
    replay.add_argument("--switch", action="store_true", help="with --into: then make it the live namespace")
    replay.set_defaults(handler=cmd_replay)

    readmodels = sub.add_parser("readmodels", help="which read-model namespace the workers answer from")
    readmodels.add_argument("action", choices=["show", "switch"])
    readmodels.add_argument("namespace", nargs="?", default="default", help="with switch: the namespace")
    readmodels.set_defaults(handler=cmd_readmodels)

    config = sub.add_parser("config", help="print every setting: variable, default, effective value")
    config.set_defaults(handler=cmd_config)

    run = sub.add_parser("run", help="run everything locally with demo data until Ctrl-C")
    run.add_argument("--demo-events", type=int, default=30, help="demo events to feed (default 30)")
    run.add_argument("--no-history", action="store_true", help="skip the simulated quarter of sales history")
    run.set_defaults(handler=cmd_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = get_settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    handler: Handler = args.handler
    return handler(args, settings)


if __name__ == "__main__":
    sys.exit(main())
