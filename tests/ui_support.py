"""A real headless Chromium (Debian's ``chromium`` and ``chromium-driver``, installed by `make test`)
driven by Selenium, and the checks the dashboard tests make with it: every number cell of a page
against the API's answer to the request the cell names."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = "/usr/bin/chromium"
MISSING = "n/a"
"""What the dashboard shows for a null (docs/dashboard.md); written here independently of it."""


def have_browser() -> bool:
    return shutil.which("chromedriver") is not None and shutil.which("chromium") is not None


@contextmanager
def chromium(width: int = 1280, height: int = 800) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    try:
        yield driver
    finally:
        driver.quit()


def sign_in(driver: WebDriver, base: str, key: str) -> None:
    """Sign in through the login form, as a person would."""
    driver.get(f"{base}/ui/login")
    driver.find_element(By.NAME, "key").send_keys(key)
    driver.find_element(By.CSS_SELECTOR, "form.login button").click()


def cells(driver: WebDriver) -> list[dict[str, str]]:
    """Every number cell of the open page: its id, text, API request and field."""
    script = (
        "return Array.from(document.querySelectorAll('[data-api]')).map(e =>"
        " ({id: e.id, text: e.textContent, api: e.dataset.api, field: e.dataset.field}))"
    )
    found: list[dict[str, str]] = driver.execute_script(script)
    return found


def field_of(body: Any, pointer: str) -> str:
    """The API's value at ``pointer`` (keys and indexes split on ``/``) as text; null as `MISSING`."""
    here = body
    for step in pointer.split("/"):
        if isinstance(here, dict):
            here = here.get(step)
        elif isinstance(here, list) and step.isdigit() and int(step) < len(here):
            here = here[int(step)]
        else:
            here = None
    if here is None:
        return MISSING
    if isinstance(here, bool):
        return "yes" if here else "no"
    return str(here)


def mismatches(driver: WebDriver, base: str, key: str) -> list[tuple[str, str, str, str]]:
    """Each cell whose text differs from the API's answer (asked over HTTP with the same key):
    (request, field, shown, answered). Empty: every number on the page is the API's."""
    answers: dict[str, Any] = {}
    wrong = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        for cell in cells(driver):
            if cell["api"] not in answers:
                response = client.get(cell["api"])
                assert response.status_code == 200, (cell["api"], response.text)
                answers[cell["api"]] = response.json()
            answered = field_of(answers[cell["api"]], cell["field"])
            if answered != cell["text"]:
                wrong.append((cell["api"], cell["field"], cell["text"], answered))
    return wrong
