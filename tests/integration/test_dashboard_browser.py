"""Issue 17's dashboard in a real headless Chromium against a live worker fed by the simulator.

Each page's every number equals the API's answer to the request the number names (asked over HTTP
with the same key); an event published while a page is open shows on it without a reload; a rep's
key cannot open another rep's page nor a team's; a manager's page withholds what the API would
refuse a manager. Screenshots of each page go to docs/dashboard/ (docs/dashboard.md).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from events.parse import parse_document
from projections import funnel
from sales.process import load_process
from services.auth.keys import ApiKeys
from services.auth.roles import Role
from services.settings import Settings
from services.simulator import simulate
from tests.conftest import private_system
from tests.support import ROOT, WorkerProcess, eventually, unique
from tests.ui_support import chromium, field_of, have_browser, mismatches, sign_in

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not have_browser(), reason="chromium and chromium-driver: `make test` installs them"),
]

PERIOD = "2026-Q3"
MANAGER, TEAM, REP, OTHER_REP = "rep-002", "team-emea-1", "rep-003", "rep-004"
"""Who the simulated organisation (seed 3) makes manager of which team, and two reps in it."""
SHOTS = ROOT / "docs" / "dashboard"
DRAWN = "return Array.from(document.querySelectorAll('canvas')).map(c => !!Chart.getChart(c))"
"""Whether each chart of the page was drawn (by the vendored Chart.js the worker serves)."""
LIVE_BOUND = 2.0
"""Seconds the browser waits for a number to change once the API answers the new value."""


@dataclass(frozen=True)
class Dashboard:
    worker: WorkerProcess
    keys: dict[str, str]
    history: list[dict[str, Any]]

    @property
    def base(self) -> str:
        return self.worker.url


def publish(worker: WorkerProcess, key: str, documents: list[dict[str, Any]]) -> None:
    for start in range(0, len(documents), 500):
        chunk = documents[start : start + 500]
        response = httpx.post(
            f"{worker.url}/v1/events:batch",
            content=json.dumps(chunk).encode(),
            headers={"Authorization": f"Bearer {key}"},
            timeout=120,
        )
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        assert all(r["status"] in ("accepted", "duplicate") for r in results), [
            r for r in results if r["status"] not in ("accepted", "duplicate")
        ][:3]


@pytest.fixture(scope="module")
def dashboard(kafka: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    tmp = tmp_path_factory.mktemp("dashboard")
    settings = private_system(kafka, tmp, "dashboard")
    history = list(simulate(3, reps=8, leads=120, start=date(2026, 1, 5), weeks=40))
    store = ApiKeys.from_url(settings.database_url)
    try:
        keys = {
            "publisher": store.create(sorted({d["source"] for d in history}), "tests", role=Role.ADMIN),
            "auditor": store.create(role=Role.AUDITOR, label="tests"),
            "manager": store.create(role=Role.MANAGER, subject=MANAGER, label="tests"),
            "rep": store.create(role=Role.REP, subject=REP, label="tests"),
        }
    finally:
        store.close()
    worker = WorkerProcess(settings, tmp / "worker.log").start()
    try:
        publish(worker, keys["publisher"], history)
        process = load_process(None)
        tracks = funnel.fold([parse_document(d) for d in history], process)
        leads = sum(1 for d in history if d["type"] == "LeadCaptured")
        reader = {"Authorization": f"Bearer {keys['auditor']}"}
        eventually(
            lambda: worker.get("/v1/funnel", headers=reader).json().get("leads"), until=lambda n: n == leads
        )
        assert tracks  # the history has deals to show
        yield Dashboard(worker, keys, history)
    finally:
        worker.stop()


def open_page(driver: WebDriver, dashboard: Dashboard, path: str) -> None:
    driver.get(f"{dashboard.base}{path}")
    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "main"))


def every_number_is_the_apis(driver: WebDriver, dashboard: Dashboard, key: str) -> int:
    """The page's cells all equal the API's answers (asked again while the log settles)."""
    shown = eventually(lambda: mismatches(driver, dashboard.base, key), until=lambda wrong: wrong == [])
    assert shown == []
    count = len(driver.find_elements(By.CSS_SELECTOR, "[data-api]"))
    assert count > 0
    return count


def shoot(driver: WebDriver, name: str, whole: bool = False) -> None:
    """The window (1280x800), or with ``whole`` the whole page (Chromium's own capture)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    if not whole:
        driver.save_screenshot(str(SHOTS / f"{name}.png"))
        return
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    (SHOTS / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))


def test_every_page_shows_the_apis_numbers_for_the_same_query(dashboard: Dashboard) -> None:
    deal = next(d["data"]["deal_id"] for d in dashboard.history if d["type"] == "DealWon")
    with chromium() as driver:
        sign_in(driver, dashboard.base, dashboard.keys["auditor"])
        for name, path in [
            ("team", f"/ui/teams/{TEAM}?period={PERIOD}"),
            ("rep", f"/ui/reps/{REP}?period={PERIOD}"),
            ("deal", f"/ui/deals/{deal}"),
            ("team-as-of", f"/ui/teams/{TEAM}?period=2026-Q2&as_of=2026-06-30T18:00:00Z"),
        ]:
            open_page(driver, dashboard, path)
            assert every_number_is_the_apis(driver, dashboard, dashboard.keys["auditor"]) > 3
            assert not driver.find_elements(By.CSS_SELECTOR, ".withheld"), path  # an auditor sees all
            if name.startswith("team"):  # drawn by the vendored Chart.js, served by the worker
                assert WebDriverWait(driver, 10).until(
                    lambda d: (lambda got: got and all(got))(d.execute_script(DRAWN))
                )
            shoot(driver, name)
            if name == "team":
                shoot(driver, "team-whole", whole=True)
        driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)  # the keyboard's first stop
        assert driver.switch_to.active_element.get_attribute("class") == "skip"
        driver.set_window_size(390, 844)  # a phone's width
        open_page(driver, dashboard, f"/ui/teams/{TEAM}?period={PERIOD}")
        page_width = driver.execute_script("return document.documentElement.scrollWidth")
        assert page_width <= 390 + 1  # tables scroll inside their own box; the page does not
        shoot(driver, "team-phone")


def test_an_event_published_while_the_page_is_open_shows_without_a_reload(dashboard: Dashboard) -> None:
    activity = f"/v1/reps/{REP}/activity"
    with chromium() as driver:
        sign_in(driver, dashboard.base, dashboard.keys["rep"])
        open_page(driver, dashboard, f"/ui/reps/{REP}?period={PERIOD}")
        every_number_is_the_apis(driver, dashboard, dashboard.keys["rep"])
        cell = driver.find_element(By.CSS_SELECTOR, f'[data-api="{activity}"][data-field="calls"]')
        before = int(cell.text)
        driver.execute_script("window.__not_reloaded = true")
        WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "live-state").text == "live")
        call = {
            "specversion": "1.0",
            "id": unique("call"),
            "source": "/sim/dialer",
            "type": "CallLogged",
            "time": "2026-09-15T10:00:00Z",
            "subject": "lead-live",
            "data": {"rep_id": REP, "lead_id": "lead-live", "outcome": "connected", "duration_seconds": 60},
        }
        publish(dashboard.worker, dashboard.keys["publisher"], [call])
        reader = {"Authorization": f"Bearer {dashboard.keys['rep']}"}
        eventually(
            lambda: dashboard.worker.get(activity, headers=reader).json()["calls"], until=lambda n: n > before
        )
        WebDriverWait(driver, LIVE_BOUND).until(
            lambda d: int(d.find_element(By.ID, cell.get_attribute("id")).text) > before
        )
        assert driver.execute_script("return window.__not_reloaded") is True
        answered = dashboard.worker.get(activity, headers=reader).json()
        assert driver.find_element(By.ID, cell.get_attribute("id")).text == field_of(answered, "calls")


def test_a_rep_key_opens_its_own_page_but_not_another_reps_nor_a_team(dashboard: Dashboard) -> None:
    with chromium() as driver:
        sign_in(driver, dashboard.base, dashboard.keys["rep"])
        WebDriverWait(driver, 30).until(lambda d: f"/ui/reps/{REP}" in d.current_url)
        for path in (f"/ui/reps/{OTHER_REP}", f"/ui/teams/{TEAM}"):
            open_page(driver, dashboard, f"{path}?period={PERIOD}")
            refusal = driver.find_element(By.CSS_SELECTOR, "[data-status]")
            assert refusal.get_attribute("data-status") == "403", path
            assert not driver.find_elements(By.CSS_SELECTOR, "[data-api]")
        shoot(driver, "refused")
    status = httpx.get(
        f"{dashboard.base}/ui/reps/{OTHER_REP}", headers={"Authorization": f"Bearer {dashboard.keys['rep']}"}
    ).status_code
    assert status == 403


def test_a_managers_team_page_withholds_what_the_api_refuses_a_manager(dashboard: Dashboard) -> None:
    with chromium() as driver:
        sign_in(driver, dashboard.base, dashboard.keys["manager"])
        open_page(driver, dashboard, f"/ui/teams/{TEAM}?period={PERIOD}")
        every_number_is_the_apis(driver, dashboard, dashboard.keys["manager"])
        withheld = {
            e.find_element(By.XPATH, "..").get_attribute("aria-labelledby")
            for e in driver.find_elements(By.CSS_SELECTOR, ".withheld")
        }
        assert withheld == {"funnel", "leaderboard"}  # org-wide answers: auditor and admin keys only
    manager = {"Authorization": f"Bearer {dashboard.keys['manager']}"}
    assert httpx.get(f"{dashboard.base}/v1/funnel", headers=manager).status_code == 403
