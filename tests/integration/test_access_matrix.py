"""Issue 12's access matrix: every role x every endpoint of the OpenAPI document x ids in and out of
the key's reach, against a live worker over real HTTP. Nothing out of reach is ever answered (0
leaks); every refusal is a 401 or 403 with the standard JSON body; no key appears in any answer, in
the worker's log or in its metrics.

The operations come from the document the worker serves, so an endpoint added without an access
policy fails here (and in `services.bootstrap.routes`). What each key should see is written here
independently of the code under test: the organisation below, and who is whose.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from events import serialize_event
from services.auth.keys import ApiKeys
from services.auth.roles import Role
from tests.samples import sample_event
from tests.stories import opened_deal, won_deal
from tests.support import WorkerProcess, eventually, unique

pytestmark = pytest.mark.integration

SOURCE = "/crm/test"
"""The source the story is published as (the session's keys cover it)."""


@dataclass(frozen=True)
class World:
    """The organisation one module publishes: who manages whom, and the ids in it."""

    team_1: str
    team_2: str
    mgr_1: str
    mgr_2: str
    rep_a: str  # team 1 all year; owns terr_a; has deal_a and lead_a
    rep_b: str  # team 2 all year; owns terr_b; has deal_b and lead_b
    rep_c: str  # team 2 until February, team 1 from 1 March
    terr_a: str
    terr_b: str
    deal_a: str
    deal_b: str
    lead_a: str
    lead_b: str
    event_id: str
    event_source: str


def publish(worker: WorkerProcess, type_name: str, day: str, **data: Any) -> tuple[str, str]:
    event = sample_event(type_name, f"{day}T09:00:00Z", unique(type_name.lower()), **data)
    document = json.loads(serialize_event(event)) | {"source": SOURCE}
    response = worker.publish(document)
    assert response.status_code == 202, response.text
    return event.id, SOURCE


@pytest.fixture(scope="module")
def world(worker: WorkerProcess) -> World:
    ids = {name: unique(name.replace("_", "-")) for name in World.__dataclass_fields__}
    for team, manager in (("team_1", "mgr_1"), ("team_2", "mgr_2")):
        publish(
            worker,
            "TeamFormed",
            "2026-01-02",
            team_id=ids[team],
            name=team,
            manager_id=ids[manager],
            parent_team_id=None,
        )
    for rep, team in (("rep_a", "team_1"), ("rep_b", "team_2"), ("rep_c", "team_2")):
        publish(
            worker,
            "RepOnboarded",
            "2026-01-05",
            rep_id=ids[rep],
            team_id=ids[team],
            manager_id=None,
            started_on="2026-01-05",
        )
    publish(
        worker,
        "RepMovedTeam",
        "2026-02-20",
        rep_id=ids["rep_c"],
        from_team_id=ids["team_2"],
        to_team_id=ids["team_1"],
        effective_from="2026-03-01",
    )
    for territory, rep in (("terr_a", "rep_a"), ("terr_b", "rep_b")):
        publish(
            worker,
            "TerritoryAssigned",
            "2026-01-05",
            territory_id=ids[territory],
            rep_id=ids[rep],
            effective_from="2026-01-05",
            effective_to=None,
        )
    steps = [
        *won_deal(ids["rep_a"], ids["lead_a"], ids["deal_a"], "1000"),
        *won_deal(ids["rep_b"], ids["lead_b"], ids["deal_b"], "777777"),
        *opened_deal(ids["rep_a"], unique("lead"), unique("open")),  # and an open deal each
        *opened_deal(ids["rep_b"], unique("lead"), unique("open")),
    ]
    for type_name, data in steps:
        publish(worker, type_name, "2026-01-20", **data)
    ids["event_id"], ids["event_source"] = publish(
        worker, "CallLogged", "2026-01-21", rep_id=ids["rep_a"], lead_id=ids["lead_a"]
    )
    made = World(**ids)
    # projected: the deals are listed and rep C's move is known
    eventually(lambda: worker.get(f"/v1/deals/{made.deal_b}").status_code == 200, timeout=90)
    eventually(lambda: worker.get(f"/v1/leads/{made.lead_b}").status_code == 200, timeout=90)
    eventually(
        lambda: len(worker.get("/v1/deals", params={"rep": made.rep_b}).json()["deals"]) == 2, timeout=90
    )
    return made


@dataclass(frozen=True)
class Key:
    name: str
    role: Role | None  # None: not a valid key at all
    token: str | None
    subject: str | None = None


@pytest.fixture(scope="module")
def keys(worker: WorkerProcess, world: World) -> Iterator[dict[str, Key]]:
    store = ApiKeys.from_url(worker.settings.database_url, cache_seconds=0)
    revoked = store.create(role=Role.AUDITOR)
    store.revoke(revoked.split("_")[1])
    made = {
        "none": Key("none", None, None),
        "garbage": Key("garbage", None, "sl_0123456789ab_not-a-secret"),
        "expired": Key(
            "expired",
            None,
            store.create(role=Role.AUDITOR, expires_at=datetime.now(UTC) - timedelta(seconds=1)),
        ),
        "revoked": Key("revoked", None, revoked),
        "publisher": Key("publisher", Role.PUBLISHER, worker.api_keys["/dialer/test"]),
        "rep": Key("rep", Role.REP, store.create(role=Role.REP, subject=world.rep_a), world.rep_a),
        "manager": Key(
            "manager", Role.MANAGER, store.create(role=Role.MANAGER, subject=world.mgr_1), world.mgr_1
        ),
        "auditor": Key("auditor", Role.AUDITOR, store.create(role=Role.AUDITOR)),
        "admin": Key("admin", Role.ADMIN, store.create(role=Role.ADMIN)),
    }
    store.close()
    yield made


def operations(worker: WorkerProcess) -> list[tuple[str, str, str]]:
    """(method, path, policy) of every operation the worker's own OpenAPI document lists."""
    document = worker.get("/v1/openapi.json").json()
    found = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            access = operation.get("x-salesledger-access")
            assert access is not None, f"{method.upper()} {path} states no access policy"
            found.append((method.upper(), path, access["policy"]))
    return found


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: bytes | None
    in_reach: bool  # whether a rep key of rep A / manager key of team 1 may see it


def requests_for(method: str, path: str, policy: str, world: World) -> list[Request]:
    """The requests one operation is tried with: about ids in reach of rep A's and manager 1's keys
    (rep A, team 1, territory A, deal and lead A), and out of it (rep B, team 2, territory B, ...)."""
    if policy == "peer":
        return []  # signed by workers, not keyed: tests/integration/test_peer_trust.py
    sides = [
        (
            True,
            {
                "rep": world.rep_a,
                "team": world.team_1,
                "territory": world.terr_a,
                "deal": world.deal_a,
                "lead": world.lead_a,
            },
        ),
        (
            False,
            {
                "rep": world.rep_b,
                "team": world.team_2,
                "territory": world.terr_b,
                "deal": world.deal_b,
                "lead": world.lead_b,
            },
        ),
    ]
    made: list[Request] = []
    for in_reach, ids in sides:
        concrete = (
            path.replace("{rep_id}", ids["rep"])
            .replace("{period}", "2026-Q1")
            .replace("{deal_id}", ids["deal"])
            .replace("{lead_id}", ids["lead"])
            .replace("{event_id}", world.event_id)
            .replace("{event_type}", "CallLogged")
            .replace("{team_id}", ids["team"])
        )
        body = None
        if path == "/v1/events":
            call = sample_event("CallLogged", "2026-01-22T10:00:00Z", unique("call"), rep_id=world.rep_a)
            body = json.dumps(json.loads(serialize_event(call)) | {"source": "/dialer/test"}).encode()
        elif path == "/v1/events:batch":
            body = b"[]"
        elif path == "/v1/what-if":
            body = json.dumps({"period": "2026-Q1", "plan": {}}).encode()
        queries: list[dict[str, str]] = [{}]
        if policy == "scope":
            queries = [{"scope": kind, "id": ids[kind]} for kind in ("rep", "team", "territory")]
        elif policy == "filtered":
            queries = [{"rep": ids["rep"]}, {"team": ids["team"]}, {"territory": ids["territory"]}]
        elif path == "/v1/events/{event_id}/history":
            queries = [{"source": world.event_source}]
        made += [Request(method, concrete, query, body, in_reach) for query in queries]
        if policy in ("public", "org", "publish"):
            break  # no ids to be in or out of reach of
    return made


def expected(key: Key, policy: str, request: Request) -> int | None:
    """401 or 403 when ``key`` must be refused, None when it must be answered."""
    if policy == "public":
        return None
    if key.role is None:
        return 401
    if policy == "publish":
        return None if key.role is Role.PUBLISHER else 403  # this admin key holds no source
    if key.role in (Role.AUDITOR, Role.ADMIN):
        return None
    if key.role is Role.PUBLISHER or policy == "org":
        return 403
    if key.role is Role.REP and (request.query.get("scope") == "team" or "team" in request.query):
        return 403  # a rep reads no team's numbers
    if key.role is Role.REP and policy == "team":
        return 403  # nor a team's review
    return None if request.in_reach else 403


def send(worker: WorkerProcess, key: Key, request: Request) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key.token}"} if key.token else {}
    if request.method == "GET":
        return worker.get(request.path, params=request.query, headers=headers)
    return worker.post(request.path, params=request.query, content=request.body, headers=headers)


def test_issue_12_access_matrix_every_role_every_endpoint_in_and_out_of_reach_0_leaks(
    worker: WorkerProcess, world: World, keys: dict[str, Key]
) -> None:
    tried, wrong, answers = 0, [], []
    for method, path, policy in operations(worker):
        for request in requests_for(method, path, policy, world):
            for key in keys.values():
                response = send(worker, key, request)
                tried += 1
                answers.append(response.text)
                asked = f"{key.name} {method} {request.path} {request.query}: {response.status_code}"
                refused = expected(key, policy, request)
                if refused is None:
                    if response.status_code in (401, 403) or response.status_code >= 500:
                        wrong.append(f"{asked} {response.text[:200]}")
                    continue
                if response.status_code != refused:
                    wrong.append(f"LEAK? {asked}, not {refused}: {response.text[:200]}")
                    continue
                body = response.json()
                reason = "unauthorized" if refused == 401 else "forbidden"
                if (
                    body.get("status") != "rejected"
                    or body.get("reason") != reason
                    or "777777" in response.text
                ):
                    wrong.append(f"{key.name} {method} {request.path}: refusal body {body}")
    assert not wrong, f"{len(wrong)} of {tried} answers wrong:\n" + "\n".join(wrong)
    assert tried > 400
    tokens = [key.token for key in keys.values() if key.token]
    secrets = [token.split("_", 2)[2] for token in tokens if token.count("_") >= 2]
    metrics = worker.get("/metrics").text
    log = worker.log_path.read_text(errors="replace")
    for secret in secrets:
        assert not any(secret in answer for answer in answers), "a key's secret is in an answer"
        assert secret not in metrics and secret not in log, "a key's secret is in the metrics or the log"


def test_issue_12_a_rep_moved_in_march_is_the_new_managers_from_march_and_the_old_ones_before(
    worker: WorkerProcess, world: World
) -> None:
    store = ApiKeys.from_url(worker.settings.database_url, cache_seconds=0)
    old = {"Authorization": f"Bearer {store.create(role=Role.MANAGER, subject=world.mgr_2)}"}
    new = {"Authorization": f"Bearer {store.create(role=Role.MANAGER, subject=world.mgr_1)}"}
    store.close()
    for period, sees, does_not in (("2026-03", new, old), ("2026-02", old, new)):
        path = f"/v1/statements/{world.rep_c}/{period}"
        assert worker.get(path, headers=sees).status_code == 200
        refused = worker.get(path, headers=does_not)
        assert refused.status_code == 403 and refused.json()["reason"] == "forbidden"
        kpis = {"scope": "rep", "id": world.rep_c, "period": period}
        assert worker.get("/v1/kpis", params=kpis, headers=sees).status_code == 200
        assert worker.get("/v1/kpis", params=kpis, headers=does_not).status_code == 403


def test_issue_12_a_narrowed_key_lists_only_what_is_in_its_reach(
    worker: WorkerProcess, world: World, keys: dict[str, Key]
) -> None:
    manager = {"Authorization": f"Bearer {keys['manager'].token}"}
    listed = worker.get("/v1/deals", params={"team": world.team_1}, headers=manager)
    assert listed.status_code == 200
    assert {item["rep_id"] for item in listed.json()["deals"]} == {world.rep_a}
    by_rep = {"group_by": "rep"}
    pipeline = worker.get(
        "/v1/pipeline", params={"scope": "team", "id": world.team_1, **by_rep}, headers=manager
    )
    assert pipeline.status_code == 200
    assert {row["group"] for row in pipeline.json()["rows"]} == {world.rep_a}
    everyone = {row["group"] for row in worker.get("/v1/pipeline", params=by_rep).json()["rows"]}
    assert {world.rep_a, world.rep_b} <= everyone  # the auditor's whole-organisation pipeline
