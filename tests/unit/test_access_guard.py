"""The guard around handlers, called as a plain function over real SQLite keys (no server)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from projections.org import OrgState
from services.access.guard import Guard, guarded
from services.access.policies import Policy
from services.auth.keys import ApiKeys
from services.auth.roles import Role
from services.web.routes import Call, Reply
from tests.unit.test_access_policies import STATE

NOW = datetime(2026, 4, 15, 12, tzinfo=UTC)


@pytest.fixture
def keys(tmp_path: Path) -> ApiKeys:
    return ApiKeys(tmp_path / "keys.sqlite3", cache_seconds=0)


def guard_of(keys: ApiKeys | None, reads: list[int]) -> Guard:
    async def organisation() -> OrgState:
        reads.append(1)
        return STATE

    return Guard(keys, organisation, "UTC", clock=lambda: NOW)


def call(
    keys: ApiKeys | None, policy: Policy, key: str | None, answer: Any = None, **request: Any
) -> tuple[int, Any, list[int]]:
    handled: list[Call] = []

    async def handler(call: Call) -> Reply:
        handled.append(call)
        return Reply(200, answer if answer is not None else {"answered": True})

    reads: list[int] = []
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    reply = asyncio.run(guarded(guard_of(keys, reads), policy, handler)(Call(headers=headers, **request)))
    body = json.loads(reply.encoded())
    if reply.status in (401, 403):
        assert not handled or policy is Policy.OWNED, "a refused request never reaches its handler"
    return reply.status, body, reads


@pytest.mark.parametrize("policy", [Policy.ORG, Policy.REP, Policy.SCOPE, Policy.FILTERED, Policy.OWNED])
def test_issue_12_no_key_a_wrong_key_and_a_revoked_key_are_401_json(keys: ApiKeys, policy: Policy) -> None:
    revoked = keys.create(role=Role.AUDITOR)
    keys.revoke(revoked.split("_")[1])
    for key in (None, "sl_nope_nope", revoked, revoked[:-2]):
        status, body, _ = call(keys, policy, key)
        assert (status, body["reason"], body["status"]) == (401, "unauthorized", "rejected")
        assert key is None or key not in json.dumps(body)


def test_issue_12_out_of_reach_is_403_json_naming_why_and_in_reach_is_answered(keys: ApiKeys) -> None:
    rep = keys.create(role=Role.REP, subject="rep-a")
    status, body, reads = call(keys, Policy.REP, rep, path={"rep_id": "rep-b"})
    assert (status, body["reason"]) == (403, "forbidden") and "rep-b" in body["message"]
    assert reads == [1]
    status, body, _ = call(keys, Policy.REP, rep, path={"rep_id": "rep-a"})
    assert (status, body) == (200, {"answered": True})


def test_an_auditor_is_never_narrowed_and_the_organisation_is_not_read_for_it(keys: ApiKeys) -> None:
    auditor = keys.create(role=Role.AUDITOR)
    for policy in (Policy.ORG, Policy.REP, Policy.SCOPE, Policy.FILTERED, Policy.OWNED):
        status, _, reads = call(keys, policy, auditor, path={"rep_id": "rep-b"})
        assert status == 200 and reads == []


def test_a_deal_is_refused_on_its_answer_when_its_rep_is_out_of_reach(keys: ApiKeys) -> None:
    manager = keys.create(role=Role.MANAGER, subject="mgr-2")
    theirs = {"deal": {"deal_id": "d-1", "rep_id": "rep-b", "amount": "10.00"}}
    status, body, _ = call(keys, Policy.OWNED, manager, answer=theirs)
    assert status == 200 and body == theirs
    other = {"deal": {"deal_id": "d-1", "rep_id": "rep-a", "amount": "10.00"}}
    status, body, _ = call(keys, Policy.OWNED, manager, answer=other)
    assert (status, body["reason"]) == (403, "forbidden") and "10.00" not in json.dumps(body)


@pytest.mark.parametrize("policy", [Policy.PUBLIC, Policy.PEER, Policy.PUBLISH])
def test_open_and_self_checking_policies_pass_through(keys: ApiKeys, policy: Policy) -> None:
    assert call(keys, policy, None)[0] == 200


def test_without_required_keys_nothing_is_guarded() -> None:
    assert call(None, Policy.ORG, None)[0] == 200
