"""The publisher client installs and imports without the server's dependencies."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVER_ONLY = (
    "faust",
    "pydantic",
    "eventsourcing",
    "aiokafka",
    "aiohttp",
    "events",
    "services",
    "projections",
    "sales",
)

PROBE = """
import sys
from datetime import UTC, datetime
import salesledger_publisher as p
event = p.new_event("CallLogged", {"rep_id": "rep-ada"}, source="/dialer", time=datetime.now(UTC),
                    natural_key="call-1")
assert event["id"] == p.stable_id("/dialer", "CallLogged", "call-1")
print(",".join(sorted(name for name in %r if name in sys.modules)))
"""


def test_importing_the_client_and_building_an_event_loads_nothing_of_the_server() -> None:
    probe = PROBE % (SERVER_ONLY,)
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd="/", check=True
    )
    assert result.stdout.strip() == "", f"the client pulled in {result.stdout.strip()}"


def test_the_async_client_is_there_when_aiohttp_is() -> None:
    import salesledger_publisher

    assert salesledger_publisher.AsyncPublisher.__module__ == "salesledger_publisher.asynchronous"


def test_the_distribution_requires_nothing_and_offers_aiohttp_as_an_extra() -> None:
    project = tomllib.loads((ROOT / "clients/publisher/pyproject.toml").read_text())["project"]
    assert project["dependencies"] == []
    assert [req.split(">")[0] for req in project["optional-dependencies"]["async"]] == ["aiohttp"]
