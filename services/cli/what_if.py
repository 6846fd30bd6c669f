"""`salesledger what-if`: a proposed plan over a recorded period, asked of a running worker."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from services.settings import Settings


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


def add_what_if(sub: Any) -> None:
    """Add these commands to the `salesledger` parser's subcommands."""
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
