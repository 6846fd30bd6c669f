"""`salesledger replay` and `salesledger readmodels`: rebuild read models, write them as a namespace,
and switch the workers to it."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from services.settings import Settings


def read_models(settings: Settings, names: Sequence[str] | None) -> list[Any]:
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
        models = read_models(settings, args.model)
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


def add_replay(sub: Any) -> None:
    """Add these commands to the `salesledger` parser's subcommands."""
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
