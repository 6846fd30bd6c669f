"""Live numbers: server-sent events at ``/ui/events?page=<a page's address>``.

One `Hub` per worker polls the projector's progress (the sum of its partitions' next offsets: a
dictionary read, no query) a few times a second. Only when it moved does it recompute each page
that has open streams, once per page and key whatever the number of tabs showing it, and push to
those tabs only the cells whose text changed. A page whose set of cells changed (a new deal, a new
stage row) is told so, and the browser fetches that page's HTML again (no reload).

The stream is authorised exactly as its page: the page's own guarded handler answers its first
payload, with the request's cookie or bearer key, and a later refusal (the key revoked or expired)
ends the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import faust
from aiohttp import web
from faust.web import Request, View

from services.web.routes import Call, Handler, Route

log = logging.getLogger(__name__)

LIVE_PAGES = ("/ui/teams/{team_id}", "/ui/reps/{rep_id}", "/ui/deals/{deal_id}")
POLL_SECONDS = 0.25
"""How often the hub reads the projector's progress (a few dictionary reads)."""
KEEPALIVE_SECONDS = 15.0
"""A comment line this often keeps proxies from closing a quiet stream."""

Key = tuple[str, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...], str]


@dataclass
class Feed:
    """One page for one key: its handler, the call that renders its numbers, what it last showed."""

    handler: Handler
    call: Call
    cells: dict[str, str]
    shape: str
    tabs: set[asyncio.Queue[bytes]] = field(default_factory=set)


def message(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


class Hub:
    """The open streams by page and key, and the one task that updates them."""

    def __init__(self, progress: Callable[[], int], poll: float = POLL_SECONDS) -> None:
        self.progress, self.poll = progress, poll
        self.feeds: dict[Key, Feed] = {}
        self.task: asyncio.Task[None] | None = None
        self.computed = 0
        """Pages recomputed since start (docs/dashboard.md: once per page and key per change)."""

    async def join(self, key: Key, handler: Handler, call: Call) -> tuple[asyncio.Queue[bytes], bytes] | int:
        """A new tab on a page: its queue and first payload, or the page's refusal status."""
        feed = self.feeds.get(key)
        if feed is None:
            reply = await handler(call)
            if reply.status != 200 or not isinstance(reply.body, dict):
                return reply.status
            feed = Feed(handler, call, dict(reply.body["cells"]), str(reply.body["shape"]))
            self.feeds[key] = feed
        tab: asyncio.Queue[bytes] = asyncio.Queue(maxsize=64)
        feed.tabs.add(tab)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self.run())
        return tab, message("numbers", {"cells": feed.cells, "shape": feed.shape})

    def leave(self, key: Key, tab: asyncio.Queue[bytes]) -> None:
        feed = self.feeds.get(key)
        if feed is not None:
            feed.tabs.discard(tab)
            if not feed.tabs:
                del self.feeds[key]

    async def run(self) -> None:
        seen = self.progress()
        while self.feeds:
            await asyncio.sleep(self.poll)
            seen = await self.tick(seen)

    async def tick(self, seen: int) -> int:
        """Recompute every open page once if the projector moved past ``seen``; the progress now."""
        now = self.progress()
        if now != seen:
            for feed in list(self.feeds.values()):
                await self.update(feed)
        return now

    async def update(self, feed: Feed) -> None:
        try:
            reply = await feed.handler(feed.call)
        except Exception:  # a failing page must not stop the others' updates
            log.exception("recomputing a live page failed")
            return
        self.computed += 1
        if reply.status != 200 or not isinstance(reply.body, dict):
            payload = message("refused", {"status": reply.status})
        else:
            cells, shape = dict(reply.body["cells"]), str(reply.body["shape"])
            changed = {k: v for k, v in cells.items() if feed.cells.get(k) != v}
            if not changed and shape == feed.shape:
                return
            feed.cells, feed.shape = cells, shape
            payload = message("numbers", {"cells": changed, "shape": shape})
        for tab in list(feed.tabs):
            with contextlib.suppress(asyncio.QueueFull):  # a tab this far behind reloads on its own
                tab.put_nowait(payload)


def template(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$")


def page_of(
    address: str, pages: Sequence[tuple[str, re.Pattern[str], Handler]]
) -> tuple[str, dict[str, str], Handler] | None:
    path = urlsplit(address).path
    for route, pattern, handler in pages:
        found = pattern.match(path)
        if found:
            return route, found.groupdict(), handler
    return None


def serve_events(app: faust.App, table: Sequence[Route], progress: Callable[[], int]) -> Hub:
    """Register ``GET /ui/events`` on ``app``'s web server, over the pages of ``table``."""
    pages = [
        (r.path, template(r.path), r.handler) for r in table if r.method == "GET" and r.path in LIVE_PAGES
    ]
    hub = Hub(progress)

    class Events(View):
        async def get(self, request: Request, **_: Any) -> web.StreamResponse:
            address = request.query.get("page", "")
            found = page_of(address, pages)
            if found is None:
                return web.json_response(
                    {"status": "rejected", "message": "page: a dashboard page"}, status=400
                )
            route, path, handler = found
            query = dict(parse_qsl(urlsplit(address).query)) | {"format": "numbers"}
            call = Call(path=path, query=query, headers=request.headers)
            who = call.header("Authorization") or call.header("X-Api-Key") or call.header("Cookie")
            key: Key = (route, tuple(sorted(path.items())), tuple(sorted(query.items())), who)
            joined = await hub.join(key, handler, call)
            if isinstance(joined, int):
                return web.json_response({"status": "rejected"}, status=joined)
            return await stream(request, hub, key, *joined)

    app.page("/ui/events")(Events)
    return hub


async def stream(
    request: Any, hub: Hub, key: Key, tab: asyncio.Queue[bytes], first: bytes
) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
    try:
        await response.prepare(request)
        await response.write(first)
        while True:
            try:
                payload = await asyncio.wait_for(tab.get(), KEEPALIVE_SECONDS)
            except TimeoutError:
                payload = b": keep-alive\n\n"
            await response.write(payload)
    except ConnectionResetError:
        pass  # the tab was closed
    finally:
        hub.leave(key, tab)
    return response
