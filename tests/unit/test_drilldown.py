"""Drill-down handlers called as plain functions: read models folded from a history, histories
read back from a real (SQLite) event store that recorded the same history."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from events import Envelope, serialize_event
from services.queries import drilldown, handlers
from services.web.routes import Call
from services.writemodel.aggregates import GENESIS, chain_hash
from services.writemodel.history import StoreHistory
from tests.unit.test_query_handlers import PROCESS, TZ, FoldedReadSide
from tests.unit.test_write_model import event, open_model, sample

AS_OF = "2026-10-31T12:00:00+00:00"


def history() -> list[Envelope]:
    lead2 = {"id": "evt-lead-2", "subject": "lead-002", "data": {"lead_id": "lead-002", "source": "inbound"}}
    return [
        event(sample("LeadCaptured")),
        event(sample("LeadQualified")),
        event(sample("NeedsAssessed")),
        event(sample("LeadCaptured", **lead2)),
    ]


@pytest.fixture
def drill(tmp_path: Path) -> drilldown.Drilldown:
    events = history()
    model = open_model(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    assert {r.outcome.value for r in model.record(events)} == {"accepted"}
    recorded = [json.loads(e) for e in (r.body for r in model.read_after(0, 100))]
    read_side = FoldedReadSide([event(document) for document in recorded])
    return drilldown.Drilldown(handlers.Queries(read_side, PROCESS, TZ), StoreHistory(model))


def ask(handler: Any, drill: drilldown.Drilldown, path: dict[str, str] | None = None, **query: str) -> Any:
    reply = asyncio.run(handler(drill, Call(path=path or {}, query={"as_of": AS_OF, **query})))
    return reply.status, json.loads(reply.encoded())


def test_a_deal_has_its_state_and_its_whole_history_in_order_with_hashes(drill: drilldown.Drilldown) -> None:
    status, body = ask(drilldown.deal, drill, {"deal_id": "deal-001"})
    assert status == 200
    assert body["deal"]["stage"] == "needs_assessed" and body["deal"]["rep_id"] == "rep-ada"
    assert body["deal"]["lead_id"] == "lead-001" and body["deal"]["source"] == "referral"
    assert body["aggregate"] == "deal:deal-001" and body["recorded_state"]["stage"] == "needs_assessed"
    entries = body["history"]
    assert [(e["position"], e["kind"], e["aggregate"], e["event"]["id"]) for e in entries] == [
        (1, "affected", "lead:lead-001", "evt-leadqualified-1"),
        (2, "recorded", "deal:deal-001", "evt-needsassessed-1"),
    ]
    own = entries[1]
    assert own["prev_hash"] == GENESIS
    canonical = serialize_event(event(own["event"])).decode()  # the JSON the hash binds
    assert own["hash"] == chain_hash(GENESIS, "/crm/salesforce\nevt-needsassessed-1", canonical)
    assert body["partitions_covered"] == body["partitions_total"] == 2


def test_a_lead_history_chains_its_own_events(drill: drilldown.Drilldown) -> None:
    status, body = ask(drilldown.lead, drill, {"lead_id": "lead-001"})
    assert status == 200 and body["lead"]["status"] == "qualified" and body["lead"]["deal_id"] == "deal-001"
    first, second = body["history"]
    assert [first["event"]["type"], second["event"]["type"]] == ["LeadCaptured", "LeadQualified"]
    assert first["prev_hash"] == GENESIS and second["prev_hash"] == first["hash"]
    assert first["version"] < second["version"]


def test_an_events_history_is_its_aggregates(drill: drilldown.Drilldown) -> None:
    status, body = ask(
        drilldown.event_history, drill, {"event_id": "evt-needsassessed-1"}, source="/crm/salesforce"
    )
    assert status == 200 and body["aggregate"] == "deal:deal-001" and len(body["history"]) == 2
    status, body = ask(drilldown.event_history, drill, {"event_id": "evt-needsassessed-1"})
    assert status == 400 and body["reason"] == "bad_query"
    status, body = ask(drilldown.event_history, drill, {"event_id": "nope"}, source="/crm/salesforce")
    assert status == 404 and body["reason"] == "not_found"


def test_unknown_ids_are_404_with_a_json_body(drill: drilldown.Drilldown) -> None:
    for handler, path in ((drilldown.deal, {"deal_id": "deal-x"}), (drilldown.lead, {"lead_id": "lead-x"})):
        status, body = ask(handler, drill, path)
        assert status == 404 and body["status"] == "rejected" and body["reason"] == "not_found"


def test_lists_filter_and_page(drill: drilldown.Drilldown) -> None:
    status, body = ask(drilldown.list_leads, drill)
    assert status == 200 and [lead["lead_id"] for lead in body["leads"]] == ["lead-001", "lead-002"]
    assert body["next_cursor"] is None
    _, body = ask(drilldown.list_leads, drill, limit="1")
    assert [lead["lead_id"] for lead in body["leads"]] == ["lead-001"] and body["next_cursor"] == "lead-001"
    _, body = ask(drilldown.list_leads, drill, limit="1", cursor="lead-001")
    assert [lead["lead_id"] for lead in body["leads"]] == ["lead-002"] and body["next_cursor"] is None
    _, body = ask(drilldown.list_leads, drill, source="inbound")
    assert [(lead["lead_id"], lead["status"]) for lead in body["leads"]] == [("lead-002", "captured")]
    _, body = ask(drilldown.list_leads, drill, stage="qualified", rep="rep-ada")
    assert [lead["lead_id"] for lead in body["leads"]] == ["lead-001"]

    _, body = ask(drilldown.list_deals, drill, stage="needs_assessed", source="referral")
    assert [deal["deal_id"] for deal in body["deals"]] == ["deal-001"]
    changed = datetime.fromisoformat(body["deals"][0]["last_changed_at"])
    assert changed == datetime.fromisoformat("2026-10-06T15:00:00+02:00")  # as of an instant: in UTC
    _, body = ask(drilldown.list_deals, drill, changed_from="2026-10-07T00:00:00+00:00")
    assert body["deals"] == []
    _, body = ask(drilldown.list_deals, drill, changed_to="2026-10-07T00:00:00+00:00", rep="rep-ada")
    assert len(body["deals"]) == 1
    _, body = ask(drilldown.list_deals, drill, stage="won")
    assert body["deals"] == []


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "1001"}, {"changed_from": "2026-10-07"}])
def test_bad_list_parameters_are_400(drill: drilldown.Drilldown, query: dict[str, str]) -> None:
    status, body = ask(drilldown.list_deals, drill, **query)
    assert status == 400 and body["reason"] == "bad_query"


def test_without_as_of_the_lists_are_live_and_with_it_as_they_stood_then(drill: drilldown.Drilldown) -> None:
    live = json.loads(asyncio.run(drilldown.list_deals(drill, Call())).encoded())
    assert live["state"] == "live" and [d["stage"] for d in live["deals"]] == ["needs_assessed"]
    _, now = ask(drilldown.list_deals, drill)
    assert now["state"] == "as_of" and [d["stage"] for d in now["deals"]] == ["needs_assessed"]
    _, before = ask(drilldown.list_deals, drill, as_of="2026-10-06T14:30:00+02:00")  # before the assessment
    assert [(d["deal_id"], d["stage"]) for d in before["deals"]] == [("deal-001", "qualified")]
    _, earlier = ask(drilldown.list_leads, drill, as_of="2026-01-01T00:00:00+00:00")
    assert earlier["leads"] == [] and earlier["state"] == "as_of"
    status, detail = ask(drilldown.deal, drill, {"deal_id": "deal-001"}, as_of="2026-10-06T14:30:00+02:00")
    assert status == 200 and detail["deal"]["stage"] == "qualified" and detail["state"] == "as_of"
    assert len(detail["history"]) == 2  # the recorded history is the store's, whatever the as_of


def test_issue_11_with_known_at_the_lists_hold_what_had_been_recorded_by_then(
    drill: drilldown.Drilldown,
) -> None:
    _, known_now = ask(drilldown.list_deals, drill, known_at="2100-01-01T00:00:00+00:00")
    assert known_now["state"] == "known_at" and [d["stage"] for d in known_now["deals"]] == ["needs_assessed"]
    _, known_before = ask(drilldown.list_deals, drill, known_at="2020-01-01T00:00:00+00:00")  # before any
    assert known_before["state"] == "known_at" and known_before["deals"] == []
    status, detail = ask(drilldown.deal, drill, {"deal_id": "deal-001"}, known_at="2020-01-01T00:00:00+00:00")
    assert status == 200 and detail["deal"] is None and len(detail["history"]) == 2
