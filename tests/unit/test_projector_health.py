"""Issue 15, item 2: a projector that cannot write makes the worker's health say so, with why."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from services.projector.service import Projector
from services.settings import Settings
from services.web.health import health
from services.web.routes import Call


def projector(tmp_path: Path) -> Projector:
    return Projector(Settings(data_dir=tmp_path, store="memory://"), [], "http://127.0.0.1:1")


def test_issue_15_a_projector_failing_past_the_grace_period_is_a_problem_naming_why(tmp_path: Path) -> None:
    p = projector(tmp_path)
    assert p.problem(grace=0) is None
    p._failing("writing the projection failed: OSError(28, 'No space left on device')")
    assert p.problem(grace=3600) is None, "one retried write is not a problem yet"
    problem = p.problem(grace=0)
    assert problem is not None and "No space left on device" in problem
    first = p.failing
    p._failing("writing the projection failed: again")
    assert p.failing is not None and first is not None and p.failing[0] == first[0], "since the first failure"


def test_issue_15_health_is_503_with_the_problems_and_200_without() -> None:
    def answer(ready: bool, problems: list[str]) -> tuple[int, Any]:
        reply = asyncio.run(health(lambda: (ready, ["events/0"], problems), Call()))
        return reply.status, json.loads(reply.encoded())

    status, body = answer(False, ["writing the projection failed: disk full (for 12 s)"])
    assert status == 503 and body == {
        "ready": False,
        "assigned": ["events/0"],
        "problems": ["writing the projection failed: disk full (for 12 s)"],
    }
    assert answer(True, []) == (200, {"ready": True, "assigned": ["events/0"], "problems": []})
