"""The dashboard's live hub (`services.ui.live.Hub`): a page is recomputed once per change of the
projector's progress however many tabs show it, tabs get only the cells that changed, and nothing is
recomputed while the projector stands still."""

from __future__ import annotations

import asyncio
import json

from services.ui.live import Hub
from services.web.routes import Call, Reply

KEY = ("/ui/reps/{rep_id}", (("rep_id", "rep-1"),), (("format", "numbers"),), "Bearer k")


class Page:
    """A page handler whose numbers are set by the test; counts how often it was computed."""

    def __init__(self) -> None:
        self.cells = {"calls": "1", "won": "0"}
        self.computed = 0
        self.status = 200

    async def __call__(self, call: Call) -> Reply:
        self.computed += 1
        return Reply(self.status, {"cells": dict(self.cells), "shape": "s"})


def payloads(tab: asyncio.Queue[bytes]) -> list[dict[str, object]]:
    found = []
    while not tab.empty():
        event, data = tab.get_nowait().decode().strip().split("\n")
        found.append({"event": event.removeprefix("event: "), **json.loads(data.removeprefix("data: "))})
    return found


async def test_three_tabs_on_one_page_cost_one_recompute_per_change_and_get_only_what_changed() -> None:
    progress, page = [10], Page()
    hub = Hub(lambda: progress[0], poll=3600)  # the test ticks by hand
    tabs = []
    for _ in range(3):
        joined = await hub.join(KEY, page, Call())
        assert not isinstance(joined, int)
        tabs.append(joined[0])
    assert page.computed == 1  # the first tab computed it; the others joined its feed

    seen = await hub.tick(10)  # the projector has not moved: nothing recomputed
    assert page.computed == 1 and all(tab.empty() for tab in tabs)

    page.cells["calls"] = "2"
    progress[0] = 11
    seen = await hub.tick(seen)
    assert seen == 11 and page.computed == 2
    for tab in tabs:
        assert payloads(tab) == [{"event": "numbers", "cells": {"calls": "2"}, "shape": "s"}]

    progress[0] = 12  # the projector moved but this page's numbers did not: nothing is sent
    await hub.tick(seen)
    assert page.computed == 3 and all(tab.empty() for tab in tabs)
    for tab in tabs:
        hub.leave(KEY, tab)
    assert hub.feeds == {}
    assert hub.task is not None
    hub.task.cancel()


async def test_a_key_refused_later_ends_its_tabs_updates_with_a_refusal() -> None:
    progress, page = [1], Page()
    hub = Hub(lambda: progress[0], poll=3600)
    joined = await hub.join(KEY, page, Call())
    assert not isinstance(joined, int)
    page.status, progress[0] = 401, 2
    await hub.tick(1)
    assert payloads(joined[0]) == [{"event": "refused", "status": 401}]
    page.status = 403
    assert await Hub(lambda: 0).join(KEY, page, Call()) == 403
    assert hub.task is not None
    hub.task.cancel()
