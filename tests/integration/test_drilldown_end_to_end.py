"""Drill-down over real HTTP against a real worker and broker: a deal's state and its history."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.samples import latest_sample
from tests.support import WorkerProcess, eventually, unique

pytestmark = pytest.mark.integration


def published(type_name: str, event_id: str, subject: str, **data: Any) -> dict[str, Any]:
    document = copy.deepcopy(latest_sample(type_name))
    document.update(id=event_id, source="/crm/test", subject=subject)
    document["data"].update(data)
    return document


def test_a_deal_answers_its_state_and_its_events_in_order_with_hashes(worker: WorkerProcess) -> None:
    lead, deal, rep = unique("lead"), unique("deal"), unique("rep")
    ids = [unique("evt") for _ in range(3)]
    for document in (
        published("LeadCaptured", ids[0], lead, lead_id=lead, rep_id=rep),
        published("LeadQualified", ids[1], lead, lead_id=lead, deal_id=deal, rep_id=rep),
        published("NeedsAssessed", ids[2], deal, deal_id=deal, rep_id=rep),
    ):
        response = worker.publish(document)
        assert response.status_code == 202, response.text

    def detail() -> dict[str, Any]:
        response = worker.get(f"/v1/deals/{deal}")
        return response.json() if response.status_code == 200 else {}  # type: ignore[no-any-return]

    body = eventually(detail, until=lambda b: b and b["deal"] and b["deal"]["stage"] == "needs_assessed")
    assert body["deal"]["rep_id"] == rep and body["deal"]["lead_id"] == lead
    assert body["aggregate"] == f"deal:{deal}" and body["recorded_state"]["deal_id"] == deal
    assert [(e["position"], e["kind"], e["event"]["id"]) for e in body["history"]] == [
        (1, "affected", ids[1]),
        (2, "recorded", ids[2]),
    ]
    assert body["history"][1]["prev_hash"] == "0" * 64 and len(body["history"][1]["hash"]) == 64

    lead_body = worker.get(f"/v1/leads/{lead}").json()
    captured, qualified = lead_body["history"]
    assert qualified["prev_hash"] == captured["hash"] == body["history"][0]["prev_hash"]
    assert qualified["hash"] == body["history"][0]["hash"]

    listed = worker.get("/v1/deals", params={"rep": rep}).json()
    assert [d["deal_id"] for d in listed["deals"]] == [deal]
    by_event = worker.get(f"/v1/events/{ids[2]}/history", params={"source": "/crm/test"}).json()
    assert by_event["aggregate"] == f"deal:{deal}" and by_event["history"] == body["history"]

    missing = worker.get(f"/v1/deals/{unique('deal')}")
    assert missing.status_code == 404 and missing.json()["reason"] == "not_found"
