"""`salesledger audit explain` against a real broker and worker: a small story published onto the
inbound topic (a plan, an assignment, two deals won and one lost by one rep), projected, then
explained by the command from the worker's live partials."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from typing import Any

import pytest

from events import serialize_event
from services.settings import Settings
from tests.samples import sample_event
from tests.stories import opened_deal, won_deal
from tests.support import ROOT, WorkerProcess, eventually, kcat, settings_env, unique

pytestmark = pytest.mark.integration

PERIOD = "2026-Q3"


class Story:
    """Events of one test, in order, all under one Kafka key (one partition: one order)."""

    def __init__(self, kafka: Settings) -> None:
        self.kafka, self.key, self.minute = kafka, unique("story"), 0

    def add(self, type_name: str, day: str, **data: Any) -> str:
        self.minute += 1
        event_id = unique(type_name.lower())
        at = f"{day}T09:{self.minute:02d}:00Z"
        kcat(self.kafka, serialize_event(sample_event(type_name, at, event_id, **data)), self.key)
        return event_id

    def opened(self, rep: str, day: str) -> tuple[str, str, str]:
        lead, deal = unique("lead"), unique("deal")
        captured, _ = [self.add(type_name, day, **data) for type_name, data in opened_deal(rep, lead, deal)]
        return deal, captured, lead

    def won(self, rep: str, amount: str, day: str) -> tuple[str, str]:
        lead, deal = unique("lead"), unique("deal")
        *_, won = [self.add(type_name, day, **data) for type_name, data in won_deal(rep, lead, deal, amount)]
        return deal, won

    def lost(self, rep: str, day: str) -> tuple[str, str]:
        deal, _, _ = self.opened(rep, day)
        return deal, self.add("DealLost", day, deal_id=deal, rep_id=rep)


def explain(worker: WorkerProcess, rep: str, *options: str) -> str:
    command = [sys.executable, "-m", "services.cli", "audit", "explain", "--rep", rep, "--period", PERIOD]
    return subprocess.run(
        [*command, "--url", worker.url, *options],
        env=settings_env(worker.settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def test_explain_lists_the_published_wins_losses_and_the_statement_lines_events(
    worker: WorkerProcess, kafka: Settings, tmp_path: Any
) -> None:
    story, plan, ada = Story(kafka), unique("plan"), unique("rep-ada")
    rule = {"kind": "marginal_tiers", "rule_id": "base", "tiers": [{"threshold": "0", "rate_percent": "5"}]}
    story.add(
        "CompPlanPublished",
        "2026-01-02",
        plan_id=plan,
        plan_version=1,
        effective_from="2026-01-01",
        effective_to=None,
        rules=[rule],
    )
    story.add(
        "RepOnboarded", "2026-01-05", rep_id=ada, team_id=None, manager_id=None, started_on="2026-01-05"
    )
    story.add("CompPlanAssigned", "2026-01-06", rep_id=ada, plan_id=plan, effective_from="2026-01-01")
    first, first_won = story.won(ada, "10000.00", "2026-07-07")
    second, second_won = story.won(ada, "20000.00", "2026-08-11")
    lost, lost_event = story.lost(ada, "2026-09-01")
    story.won(ada, "99999.00", "2026-10-05")  # next quarter: not in the explanation

    def projected() -> Any:
        kpis = worker.get("/v1/kpis", params={"scope": "rep", "id": ada, "period": PERIOD}).json()
        statement = worker.get(f"/v1/statements/{ada}/{PERIOD}").json()
        return kpis.get("kpis", {}), statement.get("totals")

    eventually(
        projected,
        until=lambda seen: seen[0].get("deals_lost", {}).get("value") == 1 and seen[1] == {"EUR": "1500.00"},
        timeout=60,
    )

    body = json.loads(explain(worker, ada, "--format", "json"))
    assert (body["rep_id"], body["period"], body["totals"]) == (ada, PERIOD, {"EUR": "1500.00"})
    kpis = {figure["name"]: figure for figure in body["kpis"]}
    assert kpis["deals_won"]["value"] == "2" and kpis["deals_won"]["explained"]
    assert [(e["role"], e["event_id"], e["entity"]) for e in kpis["deals_won"]["events"]] == [
        ("won", first_won, first),
        ("won", second_won, second),
    ]
    assert [(e["role"], e["event_id"]) for e in kpis["win_rate"]["events"]] == [
        ("won", first_won),
        ("won", second_won),
        ("lost", lost_event),
    ]
    assert [e["entity"] for e in kpis["deals_lost"]["events"]] == [lost]
    assert kpis["won_revenue.EUR"]["value"] == "30000.0000"
    assert len(kpis["new_leads"]["events"]) == 3
    lines = [line for line in body["payouts"] if line["kind"] == "commission"]
    assert sorted((line["deal_id"], line["event_ids"], line["earning"]) for line in lines) == sorted(
        [(first, [first_won], "500.00"), (second, [second_won], "1000.00")]
    )
    assert all(
        (line["plan_id"], line["plan_version"], line["rule_id"]) == (plan, 1, "base") for line in lines
    )

    out = tmp_path / "explain.csv"
    explain(worker, ada, "--format", "csv", "--out", str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    won_rows = [r for r in rows if r["figure"] == "kpi" and r["name"] == "deals_won"]
    assert [r["event_id"] for r in won_rows] == [first_won, second_won]
    paid = {r["event_id"] for r in rows if r["figure"] == "payout" and r["name"] == "commission"}
    assert paid == {first_won, second_won}

    text = explain(worker, ada)
    assert text.startswith(f"{ada}, {PERIOD}: 2026-07-01 to 2026-09-30")
    assert first_won in text and lost_event in text and "Total: 1500.00 EUR" in text
