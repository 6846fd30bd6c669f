"""Coaching against a live worker: a team's story published over HTTP with a publisher key, its
weak-area flag, a rep's development and the team's review read back with role keys
(docs/coaching.md)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from events import serialize_event
from services.auth.keys import ApiKeys
from services.auth.roles import Role
from tests.samples import sample_event
from tests.stories import opened_deal
from tests.support import WorkerProcess, eventually, unique

pytestmark = pytest.mark.integration

SOURCE = "/crm/test"


def publish(worker: WorkerProcess, type_name: str, day: str, **data: Any) -> None:
    event = sample_event(type_name, f"{day}T09:00:00Z", unique(type_name.lower()), **data)
    response = worker.publish(json.loads(serialize_event(event)) | {"source": SOURCE})
    assert response.status_code == 202, response.text


def test_a_weak_rep_is_flagged_to_their_manager_who_reviews_the_team_and_the_rep_sees_their_development(
    worker: WorkerProcess,
) -> None:
    team, manager = unique("team"), unique("mgr")
    reps = {unique("ada"): 1, unique("sam"): 5, unique("kim"): 6, unique("lee"): 5}  # of 6 presented
    publish(
        worker,
        "TeamFormed",
        "2026-01-02",
        team_id=team,
        name="Coached",
        manager_id=manager,
        parent_team_id=None,
    )
    for rep in reps:
        publish(
            worker,
            "RepOnboarded",
            "2026-01-05",
            rep_id=rep,
            team_id=team,
            manager_id=None,
            started_on="2026-01-05",
        )
    for rep, presented in reps.items():
        for n in range(6):
            deal = unique("deal")
            for type_name, data in opened_deal(rep, unique("lead"), deal):
                publish(worker, type_name, "2026-01-12", **data)
            publish(worker, "NeedsAssessed", "2026-01-14", deal_id=deal, rep_id=rep)
            if n < presented:
                publish(worker, "SolutionPresented", "2026-01-20", deal_id=deal, rep_id=rep)
            else:
                publish(worker, "DealLost", "2026-01-21", deal_id=deal, rep_id=rep)
    ada = next(iter(reps))
    publish(
        worker,
        "CoachingSessionHeld",
        "2026-02-02",
        rep_id=ada,
        coach_id=manager,
        focus_area="needs_assessment",
    )

    store = ApiKeys.from_url(worker.settings.database_url, cache_seconds=0)
    as_manager = {"Authorization": f"Bearer {store.create(role=Role.MANAGER, subject=manager)}"}
    as_ada = {"Authorization": f"Bearer {store.create(role=Role.REP, subject=ada)}"}
    store.close()
    flags_query = {"scope": "team", "id": team, "period": "2026-01"}

    def flags() -> httpx.Response:
        return worker.get("/v1/coaching/flags", params=flags_query, headers=as_manager)

    eventually(
        lambda: [f["kpi"] for f in flags().json()["flags"]] == ["stage_conversion.needs_assessed"], timeout=90
    )
    (flag,) = flags().json()["flags"]
    assert (flag["rep_id"], flag["value"], flag["sample"], flag["team_median"]) == (
        ada,
        "0.1667",
        6,
        "0.8333",
    )
    assert len(flag["event_ids"]) == 6 + 1

    development = worker.get(f"/v1/reps/{ada}/development", params={"period": "2026-02"}, headers=as_ada)
    assert development.status_code == 200, development.text
    (session,) = development.json()["coaching"]
    assert session["focus_area"] == "needs_assessment"
    (effect,) = development.json()["effects"]
    assert effect["rep"]["before"] == {"value": "0.1667", "sample": 6}
    assert effect["rep"]["after"] == {"value": None, "sample": 0} and effect["enough"] is False

    review = worker.get(f"/v1/reviews/{team}/2026-01", params={"format": "markdown"}, headers=as_manager)
    assert review.status_code == 200 and review.headers["content-type"].startswith("text/markdown")
    assert f"| {ada} | stage_conversion.needs_assessed | 0.1667 | 6 | 0.8333 |" in review.text
    refused = worker.get(f"/v1/reviews/{team}/2026-01", headers=as_ada)
    assert refused.status_code == 403 and refused.json()["reason"] == "forbidden"
    assert worker.get("/v1/coaching/flags", params=flags_query, headers=as_ada).status_code == 403
