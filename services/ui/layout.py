"""The frame every page shares: head, navigation, the ``as_of`` / ``known_at`` picker, and the
login and error pages. Plain HTML and one stylesheet; scripts only draw charts and apply live
numbers, so every page reads fully without them."""

from __future__ import annotations

from collections.abc import Mapping

from services.ui.cells import esc

TRAVEL = ("period", "as_of", "known_at")
"""The query parameters every page keeps: the period, and the two time axes of docs/audit.md."""


def frame(title: str, body: str, query: Mapping[str, str], shape: str, charts: bool = False) -> str:
    """A whole page. ``shape`` lets the live script tell when the set of numbers changed."""
    vendor = '<script src="/ui/static/chart.umd.js" defer></script>' if charts else ""
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} · Salesledger</title>"
        '<link rel="stylesheet" href="/ui/static/ui.css">'
        f'{vendor}<script src="/ui/static/ui.js" defer></script>'
        f'</head><body data-shape="{esc(shape)}">'
        '<a class="skip" href="#main">Skip to the numbers</a>'
        '<header><nav aria-label="Salesledger"><a href="/ui/">Salesledger</a>'
        '<form method="post" action="/ui/logout"><button type="submit">Sign out</button></form></nav>'
        f"<h1>{esc(title)}</h1>{picker(query)}"
        '<p class="live" role="status" aria-live="polite" id="live-state">static</p></header>'
        f'<main id="main" tabindex="-1">{body}</main></body></html>\n'
    )


def picker(query: Mapping[str, str]) -> str:
    """The period and the time-travel fields: a GET form, so every view has its own address."""
    fields = {
        "period": ("Period", "text", "2026-Q4, 2026-11, 2026"),
        "as_of": ("As of (event time)", "text", "2026-09-30T18:00:00Z"),
        "known_at": ("Known at (recorded time)", "text", "2026-10-03T09:00:00Z"),
    }
    inputs = "".join(
        f'<label>{label}<input name="{name}" type="{kind}" value="{esc(query.get(name, ""))}"'
        f' placeholder="{esc(hint)}"></label>'
        for name, (label, kind, hint) in fields.items()
    )
    return f'<form class="picker" method="get">{inputs}<button type="submit">Show</button></form>'


def section(title: str, inner: str, ident: str) -> str:
    return f'<section aria-labelledby="{ident}"><h2 id="{ident}">{esc(title)}</h2>{inner}</section>'


def withheld(why: str) -> str:
    """A section the key may not read: the API's own refusal, in place of its numbers."""
    return f'<p class="withheld">Not shown to this key: {esc(why)}</p>'


def link(path: str, text: str, query: Mapping[str, str]) -> str:
    """A link to another page keeping the period and time-travel parameters."""
    kept = "&".join(f"{k}={esc(query[k])}" for k in TRAVEL if query.get(k))
    return f'<a href="{esc(path)}{"?" + kept if kept else ""}">{esc(text)}</a>'


def login_page(message: str = "", status_note: str = "") -> str:
    note = f'<p class="error" role="alert">{esc(message)}</p>' if message else ""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<title>Sign in · Salesledger</title><link rel="stylesheet" href="/ui/static/ui.css"></head>'
        '<body><main id="main"><h1>Salesledger</h1>'
        f"{note}{esc(status_note)}"
        '<form class="login" method="post" action="/ui/login">'
        '<label>API key<input name="key" type="password" autocomplete="off" required autofocus></label>'
        '<button type="submit">Sign in</button></form>'
        "<p>The key is kept in a cookie for this site only (HttpOnly, SameSite=Strict); a bearer"
        " header works too.</p></main></body></html>\n"
    )


def error_page(status: int, message: str) -> str:
    titles = {400: "Bad request", 401: "Sign in first", 403: "Not yours to see", 404: "Not found"}
    title = titles.get(status, "Not available")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{esc(title)} · Salesledger</title><link rel="stylesheet" href="/ui/static/ui.css">'
        f'</head><body><main id="main"><h1>{esc(title)}</h1>'
        f'<p class="error" role="alert" data-status="{status}">{esc(message)}</p>'
        '<p><a href="/ui/login">Sign in with another key</a></p></main></body></html>\n'
    )
