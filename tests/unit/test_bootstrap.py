"""The bootstrap composes exactly the roles a worker is configured to run, and its route table."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from services.bootstrap import compose, routes
from services.settings import ROLES, Settings

INGESTION = {("POST", "/v1/events"), ("POST", "/v1/events:batch")}
QUERIES = {("GET", "/v1/pipeline"), ("GET", "/v1/kpis"), ("GET", "/v1/leaderboards")}
ALWAYS = {("GET", "/v1/health"), ("GET", "/v1/openapi.json"), ("GET", "/v1/schemas/{event_type}")}


def settings(tmp_path: Path, roles: str) -> Settings:
    return Settings(
        roles=roles,
        database_url=f"sqlite:///{tmp_path / 'ledger.sqlite3'}",
        data_dir=tmp_path / "data",
        store="memory://",
    )


def served(tmp_path: Path, roles: str) -> set[tuple[str, str]]:
    worker = compose(settings(tmp_path, roles), "http://127.0.0.1:6066")
    return {(route.method, route.path) for route in routes(worker, app=None)}  # type: ignore[arg-type]


def test_every_role_by_default_serves_ingestion_queries_and_contracts(tmp_path: Path) -> None:
    assert Settings().role_set == set(ROLES)
    worker = compose(settings(tmp_path, ",".join(ROLES)), "http://127.0.0.1:6066")
    assert worker.recorder is not None and worker.relay is not None and worker.projector is not None
    assert served(tmp_path, ",".join(ROLES)) >= INGESTION | QUERIES | ALWAYS


def test_a_gate_only_worker_records_but_neither_relays_nor_projects(tmp_path: Path) -> None:
    worker = compose(settings(tmp_path, "gate"), "http://127.0.0.1:6066")
    assert worker.recorder is not None and worker.relay is None and worker.projector is None
    paths = served(tmp_path, "gate")
    assert paths >= INGESTION | ALWAYS and not paths & QUERIES


def test_a_projector_and_queries_worker_has_no_write_side(tmp_path: Path) -> None:
    worker = compose(settings(tmp_path, "projector,queries"), "http://127.0.0.1:6066")
    assert worker.recorder is None and worker.relay is None and worker.projector is not None
    paths = served(tmp_path, "projector,queries")
    assert paths >= QUERIES | ALWAYS and not paths & INGESTION


def test_each_route_is_in_the_table_once(tmp_path: Path) -> None:
    worker = compose(settings(tmp_path, ",".join(ROLES)), "http://127.0.0.1:6066")
    table = [(route.method, route.path) for route in routes(worker, app=None)]  # type: ignore[arg-type]
    assert len(table) == len(set(table))


@pytest.mark.parametrize(
    ("roles", "complaint"),
    [("gate,planner", "planner"), ("queries", "needs projector"), (" , ", "none given")],
)
def test_unknown_or_incomplete_roles_are_refused_at_start_up(roles: str, complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        Settings(roles=roles)


def test_roles_are_kept_in_a_canonical_order() -> None:
    assert Settings(roles="queries, projector,gate").roles == "gate,projector,queries"
