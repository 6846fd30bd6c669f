"""The dashboard's browser wrapper (`services.ui.browser`): the cookie's key reaches the guard as a
bearer header, refusals become HTML pages with the API's status, and the static route serves only
the files it lists, never a path from the request."""

from __future__ import annotations

import asyncio

from services.refusals import Refusal
from services.ui import browser
from services.web.routes import Call, Reply, refusal


def test_the_cookies_key_is_sent_as_a_bearer_header_unless_a_key_is_already_named() -> None:
    cookie = {"Cookie": "theme=dark; salesledger_key=sk_abc"}
    assert browser.with_cookie_key(Call(headers=cookie)).header("Authorization") == "Bearer sk_abc"
    named = {**cookie, "Authorization": "Bearer sk_own"}
    assert browser.with_cookie_key(Call(headers=named)).header("Authorization") == "Bearer sk_own"
    assert browser.with_cookie_key(Call(headers={"Cookie": "no=equals;;="})).header("Authorization") == ""


async def test_a_refusal_is_an_html_page_with_the_apis_status_and_message_but_numbers_stay_json() -> None:
    async def refuse(call: Call) -> Reply:
        return refusal(Refusal.FORBIDDEN, "a rep key reads rep 'rep-1' only, not 'rep-2'")

    page = await browser.in_browser(refuse)(Call())
    assert page.status == 403 and page.content_type == "text/html"
    assert b'data-status="403"' in page.encoded() and b"not &#x27;rep-2&#x27;" in page.encoded()
    numbers = await browser.in_browser(refuse)(Call(query={"format": "numbers"}))
    assert numbers.status == 403 and numbers.content_type == "application/json"


def test_the_static_route_serves_listed_files_only() -> None:
    files = browser.static_files()
    assert {"ui.css", "ui.js"} <= set(files)
    served = asyncio.run(browser.static(files, Call(path={"name": "ui.css"})))
    assert served.status == 200 and served.content_type == "text/css"
    for name in ("../browser.py", "..%2Fbrowser.py", "browser.py", "LICENSE.md"):
        assert asyncio.run(browser.static(files, Call(path={"name": name}))).status == 404
