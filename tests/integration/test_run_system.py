"""`salesledger run` (what `make run` calls): up with demo data, then Ctrl-C leaves nothing behind."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from services.auth.keys import ApiKeys
from services.runner import DEMO_KEY_LABEL
from services.settings import Settings
from tests.support import ROOT, eventually, free_port, processes_with_env, settings_env

pytestmark = pytest.mark.integration


DEMO_REPS = ("rep-ada", "rep-grace", "rep-alan")


def demo(body: dict[str, dict[str, dict[str, int]]]) -> list[dict[str, int]]:
    return [state for rep, state in body["reps"].items() if rep in DEMO_REPS]


def seen(body: dict[str, dict[str, dict[str, int]]]) -> int:
    return sum(rep["calls"] + rep["leads_captured"] for rep in demo(body))


def readme_example() -> tuple[dict[str, object], dict[str, object], str, dict[str, object]]:
    """The README's first example: the event it posts, the answer it claims, then the activity
    query it makes and the answer it claims (each claim is the `# {...}` comment under the command)."""
    block = (ROOT / "README.md").read_text(encoding="utf-8").split("```bash\n", 2)[2]
    posted = re.search(r"-d '(\{.*?\})'\n# (\{[^\n]*\})\n", block, re.S)
    queried = re.search(r"curl -s localhost:6066(/v1/reps/[\w-]+/activity).*\n# (\{.*\})\n", block)
    assert posted and queried, "README.md's example posts an event and then reads a rep's activity"
    event, accepted, path, activity = *posted.groups(), *queried.groups()
    return json.loads(event), json.loads(accepted), path, json.loads(activity)


def printed_key(output: str, role: str) -> str:
    """The demo key `run` printed for ``role`` (its banner's "Keys that read" lines)."""
    found = re.search(rf"^  {role}:\s+(sl_\S+)", output, re.MULTILINE)
    assert found, f"no {role} key in the output:\n{output}"
    return found.group(1)


def test_run_brings_the_system_up_with_demo_data_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    run_id = uuid.uuid4().hex[:8]
    settings = Settings(
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        kafka_controller_port=free_port(),
        kafka_data_dir=tmp_path / "kafka",
        topic_prefix=f"run-{run_id}",
        app_id=f"run-{run_id}",
        web_port=free_port(),
        data_dir=tmp_path / "faust",
        database_url=f"sqlite:///{tmp_path / 'run.sqlite3'}",
    )
    marker = f"SALESLEDGER_APP_ID=run-{run_id}"
    log = (tmp_path / "run.log").open("w+b")
    run = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "run", "--demo-events", "12"],
        env=settings_env(settings),
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output = lambda: (tmp_path / "run.log").read_text(errors="replace")  # noqa: E731
        eventually(output, until=lambda text: "Press Ctrl-C" in text or run.poll() is not None, timeout=300)
        assert run.poll() is None, output()
        assert "fed 6 demo events over HTTP and 6 over Kafka" in output()

        url = f"http://127.0.0.1:{settings.web_port}"
        auditor = {"Authorization": f"Bearer {printed_key(output(), 'auditor')}"}
        body = eventually(
            lambda: httpx.get(f"{url}/v1/reps/activity", headers=auditor).json(),
            until=lambda b: seen(b) >= 12,
        )
        assert sum(rep["calls"] for rep in demo(body)) == 6
        assert sum(rep["leads_captured"] for rep in demo(body)) == 6
        assert "fed a simulated quarter" in output()
        pipeline = httpx.get(
            f"{url}/v1/pipeline",
            params={"group_by": "stage", "as_of": "2026-09-30T18:00:00Z"},
            headers=auditor,
        )
        assert pipeline.json()["rows"], "the simulated quarter leaves open deals in the pipeline"
        assert processes_with_env(marker), "the worker and broker should be running"

        # The README's example answers what it says on a fresh `make run` (issue 12).
        event, claimed_answer, path, claimed_activity = readme_example()
        key = ApiKeys.from_url(settings.database_url).create(str(event["source"]))
        posted = httpx.post(f"{url}/v1/events", json=event, headers={"Authorization": f"Bearer {key}"})
        assert posted.json() == claimed_answer, posted.text
        activity = eventually(
            lambda: httpx.get(f"{url}{path}", headers=auditor).json(), until=lambda b: b == claimed_activity
        )
        assert activity == claimed_activity
        # One demo key per source it publishes as (the demo's and the history's nine), and one per
        # reading role, labelled; the manager's and rep's keys read their own and not the org's.
        demo_keys = [k for k in ApiKeys.from_url(settings.database_url).list() if k.label == DEMO_KEY_LABEL]
        publishers = [k for k in demo_keys if k.role == "publisher"]
        assert len(publishers) == len({k.source for k in publishers}) == 10
        assert sorted(k.role for k in demo_keys if k.role != "publisher") == ["auditor", "manager", "rep"]
        rep = next(k.subject for k in demo_keys if k.role == "rep")
        for role in ("manager", "rep"):
            narrowed = {"Authorization": f"Bearer {printed_key(output(), role)}"}
            assert httpx.get(f"{url}/v1/reps/{rep}/activity", headers=narrowed).status_code == 200
            assert httpx.get(f"{url}/v1/reps/activity", headers=narrowed).status_code == 403

        os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        assert run.wait(timeout=120) == 0, output()
        time.sleep(0.5)
        assert processes_with_env(marker) == [], output()
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/v1/health")
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        for pid in processes_with_env(marker):
            os.kill(pid, signal.SIGKILL)
