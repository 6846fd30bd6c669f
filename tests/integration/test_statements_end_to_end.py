"""Worked examples of docs/incentives.md end to end: published with kcat onto the inbound topic,
through the write model, the relay and the projector, read back from the statement endpoint."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from events import serialize_event
from services.settings import Settings
from tests.samples import money, sample_event
from tests.support import WorkerProcess, eventually, kcat, unique

pytestmark = pytest.mark.integration


class Story:
    """Events of one test, in order, all under one Kafka key (one partition: one order)."""

    def __init__(self, kafka: Settings) -> None:
        self.kafka, self.key, self.minute, self.ids = kafka, unique("story"), 0, []

    def add(self, type_name: str, day: str, **data: Any) -> str:
        self.minute += 1
        event_id = unique(type_name.lower())
        at = f"{day}T09:{self.minute:02d}:00Z"
        kcat(self.kafka, serialize_event(sample_event(type_name, at, event_id, **data)), self.key)
        return event_id

    def rep(self, rep: str, plan: str) -> None:
        self.add(
            "RepOnboarded", "2026-01-05", rep_id=rep, team_id=None, manager_id=None, started_on="2026-01-05"
        )
        self.add("CompPlanAssigned", "2026-01-06", rep_id=rep, plan_id=plan, effective_from="2026-01-01")

    def plan(self, plan: str, *rules: dict[str, Any]) -> None:
        self.add(
            "CompPlanPublished",
            "2026-01-02",
            plan_id=plan,
            plan_version=1,
            effective_from="2026-01-01",
            effective_to=None,
            rules=list(rules),
        )

    def deal(self, amount: str, day: str, *splits: tuple[str, str]) -> tuple[str, str, str]:
        """A lead captured, qualified, assessed, presented, moved to closing and won."""
        lead, deal, customer = unique("lead"), unique("deal"), unique("cust")
        owner = splits[0][0]
        self.add("LeadCaptured", day, lead_id=lead, rep_id=owner)
        self.add("LeadQualified", day, lead_id=lead, deal_id=deal, rep_id=owner)
        self.add("NeedsAssessed", day, deal_id=deal, rep_id=owner)
        self.add("SolutionPresented", day, deal_id=deal, rep_id=owner, proposed_amount=money(amount))
        self.add(
            "DealStageChanged",
            day,
            deal_id=deal,
            rep_id=owner,
            from_stage="solution_presented",
            to_stage="closing",
        )
        won = self.add(
            "DealWon",
            day,
            deal_id=deal,
            customer_id=customer,
            rep_id=owner,
            amount=money(amount),
            credit_splits=[{"rep_id": rep, "share_percent": share} for rep, share in splits],
        )
        return deal, customer, won


def marginal(*tiers: tuple[str, str]) -> dict[str, Any]:
    return {
        "kind": "marginal_tiers",
        "rule_id": "base",
        "tiers": [{"threshold": t, "rate_percent": r} for t, r in tiers],
    }


def statement(worker: WorkerProcess, rep: str, period: str, total: str) -> dict[str, Any]:
    def ask() -> Any:
        response = worker.get(f"/v1/statements/{rep}/{period}")
        assert response.status_code == 200, response.text
        return response.json()

    return eventually(ask, until=lambda body: body["totals"] == {"EUR": total}, timeout=60)  # type: ignore[no-any-return]


def lines(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for one in body["statements"]:
        yield from one["lines"]


def test_marginal_tiers_pay_2050_on_30000_and_name_the_won_event(
    worker: WorkerProcess, kafka: Settings
) -> None:
    story, plan, ada = Story(kafka), unique("plan"), unique("rep-ada")
    story.plan(plan, marginal(("0", "5"), ("10000", "7"), ("25000", "10")))
    story.rep(ada, plan)
    deal, _, won = story.deal("30000.00", "2026-08-03", (ada, "100"))
    body = statement(worker, ada, "2026-Q3", "2050.00")
    paid = [line for line in lines(body) if line["deal_id"] == deal]
    assert sorted(line["earning"] for line in paid) == ["1050.00", "500.00", "500.00"]
    assert all(line["event_ids"] == [won] and line["plan_id"] == plan for line in paid)
    csv = worker.get(f"/v1/statements/{ada}/2026-Q3", params={"format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv") and won in csv.text


def test_period_to_date_tiers_pay_380_on_deals_of_4000_and_8000(
    worker: WorkerProcess, kafka: Settings
) -> None:
    story, plan, sam = Story(kafka), unique("plan"), unique("rep-sam")
    story.plan(plan, marginal(("0", "2"), ("5000", "4")))
    story.rep(sam, plan)
    story.deal("4000.00", "2026-08-03", (sam, "100"))
    story.deal("8000.00", "2026-08-10", (sam, "100"))
    statement(worker, sam, "2026-Q3", "380.00")


def test_a_1000_deal_split_50_50_credits_500_each(worker: WorkerProcess, kafka: Settings) -> None:
    story, plan = Story(kafka), unique("plan")
    kim, lee = unique("rep-kim"), unique("rep-lee")
    story.plan(plan, marginal(("0", "10")))
    story.rep(kim, plan)
    story.rep(lee, plan)
    story.deal("1000.00", "2026-08-03", (kim, "50"), (lee, "50"))
    for rep in (kim, lee):
        body = statement(worker, rep, "2026-Q3", "50.00")
        assert [one["credited"] for one in body["statements"]] == ["500.00"]
    payouts = worker.get("/v1/payouts", params={"period": "2026-Q3"}).json()["payouts"]
    assert {row["rep_id"]: row["totals"] for row in payouts if row["rep_id"] in (kim, lee)} == {
        kim: {"EUR": "50.00"},
        lee: {"EUR": "50.00"},
    }


def test_a_churn_in_august_claws_back_the_500_paid_in_june(worker: WorkerProcess, kafka: Settings) -> None:
    story, plan, max_ = Story(kafka), unique("plan"), unique("rep-max")
    story.plan(plan, marginal(("0", "5")), {"kind": "clawback", "rule_id": "clawback", "window_days": 180})
    story.rep(max_, plan)
    deal, customer, won = story.deal("10000.00", "2026-06-10", (max_, "100"))
    churn = story.add(
        "CustomerChurned", "2026-08-20", customer_id=customer, deal_ids=[deal], lost_amount=None
    )
    statement(worker, max_, "2026-06", "500.00")
    august = statement(worker, max_, "2026-08", "-500.00")
    (line,) = [line for line in lines(august) if Decimal(line["earning"]) != 0]
    assert line["kind"] == "clawback" and line["deal_id"] == deal and line["event_ids"] == [won, churn]


def test_what_if_over_http_and_from_the_cli_compares_a_proposal_with_the_plan_in_force(
    worker: WorkerProcess, kafka: Settings, tmp_path: Path
) -> None:
    story, plan, zoe = Story(kafka), unique("plan"), unique("rep-zoe")
    story.plan(plan, marginal(("0", "5"), ("10000", "7"), ("25000", "10")))
    story.rep(zoe, plan)
    story.deal("30000.00", "2026-08-03", (zoe, "100"))
    statement(worker, zoe, "2026-Q3", "2050.00")
    proposal = {
        "plan_id": plan,
        "plan_version": 2,
        "name": "Flat ten",
        "currency": "EUR",
        "effective_from": "2027-01-01",
        "rules": [marginal(("0", "10"))],
    }
    answer = worker.post("/v1/what-if", json={"period": "2026-Q3", "plan": proposal}, headers=worker.reader())
    assert answer.status_code == 200, answer.text
    (rep,) = answer.json()["reps"]
    assert (rep["rep_id"], rep["current_total"], rep["proposed_total"]) == (zoe, "2050.00", "3000.00")
    path = tmp_path / "proposal.json"
    path.write_text(json.dumps(proposal))
    printed = subprocess.run(
        [
            sys.executable,
            "-m",
            "services.cli",
            "what-if",
            str(path),
            "--period",
            "2026-Q3",
            "--url",
            worker.url,
            "--key",
            worker.reader()["Authorization"].removeprefix("Bearer "),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert f"plan {plan} v2 (EUR)" in printed
    assert any(line.split() == [zoe, "2050.00", "3000.00", "1"] for line in printed.splitlines())
