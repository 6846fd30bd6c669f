"""Issue 15, item 3: every worker has an instance id of its own that survives its restarts."""

from __future__ import annotations

import re
from pathlib import Path

from services.outbox.identity import default_instance_id, with_instance_id
from services.settings import Settings


def test_the_same_worker_started_again_has_the_same_instance_id(tmp_path: Path) -> None:
    assert default_instance_id("box", 6066, tmp_path / "data") == default_instance_id(
        "box", 6066, tmp_path / "data"
    )


def test_workers_differing_in_host_port_or_data_dir_have_different_instance_ids(tmp_path: Path) -> None:
    ids = {
        default_instance_id("box", 6066, tmp_path / "a"),
        default_instance_id("box", 6067, tmp_path / "a"),
        default_instance_id("box", 6066, tmp_path / "b"),
        default_instance_id("other", 6066, tmp_path / "a"),
    }
    assert len(ids) == 4


def test_an_instance_id_is_kafka_safe_whatever_the_host_name(tmp_path: Path) -> None:
    derived = default_instance_id("my host.example.com/ü:1", 6066, tmp_path)
    assert re.fullmatch(r"[a-zA-Z0-9._-]{1,249}", derived)


def test_a_configured_instance_id_is_kept_and_a_missing_one_derived(tmp_path: Path) -> None:
    configured = Settings(worker_instance_id="w-1", data_dir=tmp_path)
    assert with_instance_id(configured, host="box").worker_instance_id == "w-1"
    derived = with_instance_id(Settings(data_dir=tmp_path, web_port=7001), host="box")
    assert derived.worker_instance_id == default_instance_id("box", 7001, tmp_path)
