"""What a browser needs around the pages: its key carried in a cookie, refusals as HTML pages,
the login form, and the static files (the stylesheet, the script, the vendored chart library).

The cookie holds the API key itself (HttpOnly, SameSite=Strict, Path=/ui): the guard then decides
exactly as it does for a bearer header, so a page is refused whatever the API would refuse.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs

from services.auth.keys import ApiKeys
from services.auth.roles import Role
from services.ui.layout import error_page, login_page
from services.web.routes import Call, Handler, Reply

COOKIE = "salesledger_key"
STATIC = Path(__file__).parent / "static"
TYPES = {".css": "text/css", ".js": "text/javascript", ".png": "image/png"}
HTML = "text/html"


def cookie_key(call: Call) -> str:
    try:
        jar = SimpleCookie(call.header("Cookie"))
    except CookieError:
        return ""
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None else ""


def with_cookie_key(call: Call) -> Call:
    """The request with its cookie's key as a bearer header, unless it already names a key."""
    key = cookie_key(call)
    if not key or call.header("Authorization") or call.header("X-Api-Key"):
        return call
    headers = {**dict(call.headers), "Authorization": f"Bearer {key}"}
    return Call(path=call.path, query=call.query, headers=headers, body=call.body)


def in_browser(handler: Handler) -> Handler:
    """``handler`` for browsers: the cookie's key, and a refusal answered as an HTML page with the
    API's status and message (``format=numbers``, the live stream's, stays JSON)."""

    async def answer(call: Call) -> Reply:
        reply = await handler(with_cookie_key(call))
        if reply.status < 400 or call.query.get("format") == "numbers" or reply.raw is not None:
            return reply
        message = reply.body.get("message", "") if isinstance(reply.body, Mapping) else ""
        return Reply(reply.status, raw=error_page(reply.status, str(message)).encode(), content_type=HTML)

    answer.__doc__ = handler.__doc__
    return answer


async def login_form(call: Call) -> Reply:
    """`GET /ui/login`: the form that takes an API key."""
    return Reply(200, raw=login_page().encode(), content_type=HTML)


def home_of(keys: ApiKeys | None, key: str) -> str | None:
    """Where a key lands after signing in: a rep's own page, a manager's first team, the index."""
    if keys is None:
        return "/ui/"
    principal = keys.principal_of(key)
    if principal is None:
        return None
    if principal.role is Role.REP and principal.subject:
        return f"/ui/reps/{principal.subject}"
    return "/ui/"


async def login(keys: ApiKeys | None, call: Call) -> Reply:
    """`POST /ui/login`: a known key is set as the cookie and the browser sent to its home page."""
    form = parse_qs(call.body.decode("utf-8", "replace"))
    key = (form.get("key") or [""])[0].strip()
    home = home_of(keys, key) if key else None
    if home is None:
        page = login_page("That key is unknown, revoked or expired.")
        return Reply(401, raw=page.encode(), content_type=HTML)
    cookie = f"{COOKIE}={key}; Path=/ui; HttpOnly; SameSite=Strict"
    return Reply(303, raw=b"", content_type=HTML, headers={"Location": home, "Set-Cookie": cookie})


async def logout(call: Call) -> Reply:
    """`POST /ui/logout`: the cookie is dropped."""
    cookie = f"{COOKIE}=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0"
    return Reply(303, raw=b"", content_type=HTML, headers={"Location": "/ui/login", "Set-Cookie": cookie})


def static_files() -> dict[str, Path]:
    """The files `/ui/static/{name}` serves, by name: ours and the vendored ones (`make vendor`)."""
    found = {p.name: p for p in (STATIC / "vendor").glob("*") if p.suffix in TYPES}
    found.update({p.name: p for p in STATIC.glob("*") if p.is_file() and p.suffix in TYPES})
    return found


async def static(files: Mapping[str, Path], call: Call) -> Reply:
    """`GET /ui/static/{name}`: one of the listed files (never a path from the request)."""
    found = files.get(call.path.get("name", ""))
    if found is None:
        body = {"status": "rejected", "reason": "not_found", "message": "no such file", "errors": []}
        return Reply(404, raw=json.dumps(body).encode())
    headers = {"Cache-Control": "public, max-age=3600"}
    return Reply(200, raw=found.read_bytes(), content_type=TYPES[found.suffix], headers=headers)
