"""A real Prometheus server for the tests, started like the broker: Debian's ``prometheus`` binary
(``make system-deps``), loopback, a free port, a throw-away folder, and our alert rules loaded.

Nothing skips: without the binary the tests that need it error with the install hint.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.support import ROOT, eventually, free_port

INSTALL_HINT = "prometheus / promtool not found: run `make system-deps` (apt-get install prometheus)"
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"


def binary(name: str) -> str:
    """The path of ``name`` (``prometheus``, ``promtool``), or an error saying how to install it."""
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(INSTALL_HINT)
    return found


@dataclass
class PrometheusServer:
    """One Prometheus process scraping ``targets`` (``host:port``) every ``interval`` seconds."""

    folder: Path
    jobs: dict[str, Sequence[str]]
    interval: float = 1.0
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> PrometheusServer:
        self.port = free_port()
        config = {
            "global": {"scrape_interval": f"{round(self.interval * 1000)}ms"}
            | {"evaluation_interval": f"{round(self.interval * 1000)}ms"},
            "rule_files": [str(RULES)],
            "scrape_configs": [
                {"job_name": job, "static_configs": [{"targets": list(targets)}]}
                for job, targets in self.jobs.items()
            ],
        }
        (self.folder / "prometheus.yml").write_text(yaml.safe_dump(config))
        log = (self.folder / "prometheus.log").open("ab")
        self.process = subprocess.Popen(
            [
                binary("prometheus"),
                f"--config.file={self.folder / 'prometheus.yml'}",
                f"--storage.tsdb.path={self.folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        eventually(self._ready, timeout=60, interval=0.3)
        return self

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            log = (self.folder / "prometheus.log").read_text(errors="replace")
            raise AssertionError(f"prometheus exited with {self.process.returncode}:\n{log[-3000:]}")
        try:
            return httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def api(self, path: str, **params: str) -> Any:
        """The ``data`` of a successful answer of the HTTP API (``/api/v1/<path>``)."""
        response = httpx.get(f"{self.url}/api/v1/{path}", params=params, timeout=30)
        body = response.json()
        assert response.status_code == 200 and body["status"] == "success", body
        return body["data"]

    def query(self, promql: str) -> list[dict[str, Any]]:
        """The instant vector (or scalar as one sample) ``promql`` gives now."""
        data = self.api("query", query=promql, time=f"{time.time():.3f}")
        if data["resultType"] in ("scalar", "string"):
            return [{"metric": {}, "value": data["result"]}]
        result: list[dict[str, Any]] = data["result"]
        return result
