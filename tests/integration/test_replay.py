"""`salesledger replay` and `salesledger audit compare` against the real broker and a real worker:
a simulated history on the canonical log (as the relay writes it) is folded by the worker, then
replayed twice to byte-identical files, compared equal with the live read models, and a replay of
a shorter log is shown to differ from them exactly by the events it lacks."""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from events import Envelope, serialize_event
from projections import rep_activity
from sales.process import load_process
from services.kafka_access import aiokafka_options, kafka_access
from services.outbox.relay import partition_for
from services.projector.readmodels import read_models
from services.replay.compare import compare, last_offsets
from services.replay.live import gather
from services.replay.run import replay
from services.settings import Settings
from services.simulator import simulate_envelopes
from tests.conftest import private_system
from tests.support import ROOT, WorkerProcess, eventually, settings_env

pytestmark = pytest.mark.integration
RECORDED = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
EVENTS = 600


async def fill(settings: Settings, events: list[Envelope]) -> None:
    producer = AIOKafkaProducer(**aiokafka_options(settings), enable_idempotence=True)
    await producer.start()
    try:
        for event in events:
            key = event.partition_key
            await producer.send(
                settings.topic_events,
                key=key.encode(),
                value=serialize_event(event),
                partition=partition_for(key, settings.topic_partitions),
            )
        await producer.flush()
    finally:
        await producer.stop()


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "salesledger"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "services.cli"]
    return subprocess.run(
        [*command, *args], env=settings_env(settings), cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_replay_is_deterministic_equals_the_live_read_models_and_compare_catches_a_difference(
    kafka: Settings, api_keys: dict[str, str], tmp_path: Path
) -> None:
    settings = private_system(kafka, tmp_path, "replay")
    history = [
        e.recorded(RECORDED)
        for e in itertools.islice(simulate_envelopes(5, reps=10, leads=80, start=date(2026, 1, 5)), EVENTS)
    ]
    asyncio.run(fill(settings, history))
    expected_reps = {rep: s.to_dict() for rep, s in rep_activity.fold(history).items()}

    worker = WorkerProcess(settings, tmp_path / "worker.log", api_keys).start()
    try:
        eventually(
            lambda: worker.get("/v1/reps/activity").json()["reps"], until=lambda got: got == expected_reps
        )

        first, second = tmp_path / "first", tmp_path / "second"
        # one process, then the partitions folded by two: the same bytes
        runs = [
            cli(settings, "replay", "--out", str(out), "--workers", workers)
            for out, workers in ((first, "1"), (second, "2"))
        ]
        for run in runs:
            assert run.returncode == 0, run.stdout + run.stderr
            assert f"replayed {EVENTS} events (0 skipped" in run.stdout
            assert "ev/s" in run.stderr or "ev]" in run.stderr  # tqdm's progress
        names = sorted(p.name for p in first.iterdir())
        assert names == sorted(
            [
                f"{m}.json"
                for m in ("rep-activity", "pipeline", "funnel", "org", "kpis", "development", "incentives")
            ]
            + ["replay.json"]
        )
        for name in names:
            assert (first / name).read_bytes() == (second / name).read_bytes(), name
        summary = json.loads((first / "replay.json").read_text())
        assert summary["events"] == EVENTS and sum(summary["positions"].values()) == EVENTS
        reps = orjson.loads((first / "rep-activity.json").read_bytes())["partials"]
        merged = rep_activity.merge_all(
            (key, rep_activity.RepActivity.from_dict(s)) for _, key, (_, s) in reps
        )
        assert {rep: s.to_dict() for rep, s in merged.items()} == expected_reps

        one = cli(settings, "replay", "--model", "funnel", "--out", str(tmp_path / "funnel"), "--quiet")
        assert one.returncode == 0 and sorted(p.name for p in (tmp_path / "funnel").iterdir()) == [
            "funnel.json",
            "replay.json",
        ]
        assert (tmp_path / "funnel" / "funnel.json").read_bytes() == (first / "funnel.json").read_bytes()

        # Found through the projector group's directory, then named explicitly.
        for extra in ((), ("--url", worker.url), ("--to-end",)):
            done = cli(settings, "audit", "compare", *extra)
            assert done.returncode == 0, done.stdout + done.stderr
            assert "and the replay equal: 0 difference(s)" in done.stdout
            assert worker.url in done.stdout

        # The live partials against a replay of a shorter log (each partition's first half).
        models = read_models(load_process(None), settings.org_timezone)
        names_ = [m.name for m in models]
        live, covered = asyncio.run(gather([worker.url], names_, settings))
        assert covered == {0, 1, 2, 3}
        cut = {p: (last + 1) // 2 for p, last in last_offsets(live).items()}
        shorter = asyncio.run(replay(kafka_access(settings), settings.topic_events, models, cut, None))
        assert shorter.rebuild.events == sum(cut.values())
        replayed = {n: {k: orjson.loads(v) for k, v in shorter.rebuild.partials(n).items()} for n in names_}
        differences = compare(live, replayed)
        assert differences
        for d in differences:
            assert d.live[0] >= cut[d.partition] and (d.replay is None or d.replay[0] < cut[d.partition])
        assert {d.model for d in differences} >= {"rep-activity", "pipeline"}
    finally:
        worker.stop()
