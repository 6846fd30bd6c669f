"""Issue 12, "one consistent API": the README and docs/api.md say what the code really does.

The README's synopsis is run exactly as written and every `print` must print what its comment
claims; docs/api.md's 422 `rule_violation` row names the fields the gate really answers with.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from sales.process import load_process
from services.auth.keys import ApiKeys
from services.gate import http as gate
from services.settings import Settings
from services.web.routes import Call
from services.writemodel.application import WriteModel
from services.writemodel.environment import write_model_env
from services.writemodel.recorder import Recorder
from tests.samples import SAMPLES, latest_sample

ROOT = Path(__file__).resolve().parents[2]
PRINTED = re.compile(r"^print\(.*\)  # (?P<claim>.+)$")


def readme_synopsis() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Synopsis", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README.md's Synopsis has a python block"
    return match.group(1)


def test_issue12_readme_synopsis_runs_as_written_and_prints_what_its_comments_claim(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = readme_synopsis()
    claims = [m["claim"] for line in code.splitlines() if (m := PRINTED.match(line))]
    assert len(claims) >= 2, "the synopsis shows what it computes"

    monkeypatch.chdir(ROOT)  # "run from the repository root", as the README says
    namespace: dict[str, object] = {"__name__": "readme_synopsis"}
    exec(compile(code, "README.md (Synopsis)", "exec"), namespace)  # as written: nothing injected

    assert capsys.readouterr().out.splitlines() == claims
    # It folds the test suite's own samples (tests/samples.py), and the claims follow from them.
    samples = Path(str(namespace["samples"]))
    assert samples.resolve() == SAMPLES
    call = latest_sample("CallLogged")["data"]
    assert f"talk_seconds={call['duration_seconds']}" in claims[0] and call["rep_id"] == "rep-ada"
    assert claims[1].split() == ["needs_assessed", latest_sample("NeedsAssessed")["data"]["rep_id"]]


def api_md_row(reason: str) -> str:
    doc = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    rows = [line for line in doc.splitlines() if line.startswith("| 422 |") and f'"{reason}"' in line]
    assert len(rows) == 1, f"docs/api.md has one 422 row for {reason}"
    return rows[0]


def test_issue12_api_md_lists_rule_violation_with_its_rule_field_among_the_422_answers(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    keys = ApiKeys.from_url(url)
    bound = gate.Gate(
        Recorder(WriteModel(load_process(None), write_model_env(Settings(database_url=url))), lambda: None),
        keys,
        True,
        65536,
        10,
    )
    needs = latest_sample("NeedsAssessed")  # for a deal whose lead was never qualified
    call = Call(
        headers={"authorization": f"Bearer {keys.create(needs['source'])}"}, body=json.dumps(needs).encode()
    )
    reply = asyncio.run(gate.post_event(bound, call))
    body = json.loads(reply.encoded())

    row = api_md_row("rule_violation")
    documented_shape = row.split("`")[1]
    assert reply.status == 422 and "| 422 |" in row
    assert re.findall(r'"(\w+)":', documented_shape) == [
        "status", "reason", "message", "errors", "field", "message", "rule", "id",
    ]  # fmt: skip
    assert list(body) == ["status", "reason", "message", "errors", "rule", "id"]
    assert (body["status"], body["reason"], body["rule"], body["id"]) == (
        "rejected", "rule_violation", "deal_not_open", needs["id"],
    )  # fmt: skip
    assert body["errors"] == [{"field": "(process)", "message": body["message"]}]
    assert '"rule": "deal_not_open"' in documented_shape and '"field": "(process)"' in documented_shape
