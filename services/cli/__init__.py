"""The `salesledger` command: run the broker, the worker, the whole system, or demo data.

The system commands live here; each other group has its own module, which adds its subcommands
to the parser: `keys`, `what_if`, `audit`, `replay` (with `readmodels`).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Callable, Sequence

from services.cli.audit import add_audit
from services.cli.keys import add_keys
from services.cli.replay import add_replay
from services.cli.what_if import add_what_if
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


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from services.runner import feed_demo

    asyncio.run(feed_demo(settings, count=args.count))  # replaces the demo key in the local database
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from services.runner import run_system

    return run_system(settings, demo_count=args.demo_events, simulate_history=not args.no_history)


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

    add_keys(sub)

    demo = sub.add_parser("demo", help="publish demo activity to a running system (HTTP and Kafka)")
    demo.add_argument("--count", type=int, default=30, help="number of demo events (default 30)")
    demo.set_defaults(handler=cmd_demo)

    add_what_if(sub)
    add_audit(sub)
    add_replay(sub)

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
