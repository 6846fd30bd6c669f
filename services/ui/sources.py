"""The API requests a page is built from, answered by the API's own handlers, within the key's reach.

A `Source` is one ``GET`` of the query API: its route, path parameters and query. `Reader.fetch`
calls the handler the route table serves for it (not over HTTP: the same function, in process),
and returns the JSON the API would send, decoded from the very bytes it would send. `Reader.reach`
asks the API's own access policy (`services.access.policies`) whether the page's key could make that
request, so a page never shows a rep or manager key what the API would refuse it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from projections.org import OrgState
from services.access.guard import Guard, bearer_key
from services.access.policies import POLICIES, days_of, refusal
from services.auth.roles import READS_EVERYTHING, Principal
from services.web.routes import Call, Handler


@dataclass(frozen=True)
class Source:
    """One API request: ``GET route`` with ``path`` filled in and ``query``."""

    route: str
    path: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)

    def url(self) -> str:
        filled = self.route.format(**self.path)
        query = {k: v for k, v in sorted(self.query.items()) if v}
        return f"{filled}?{urlencode(query)}" if query else filled


class Unanswered(Exception):
    """The API answered this source with a refusal (its status and message are shown in place)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Reader:
    """The API's handlers by route (unguarded: the page's route is guarded, and `reach` narrows
    each section), the guard's keys and organisation, and the time zone."""

    handlers: Mapping[str, Handler]
    guard: Guard

    async def fetch(self, source: Source) -> Any:
        reply = await self.handlers[source.route](Call(path=dict(source.path), query=dict(source.query)))
        body = json.loads(reply.encoded())
        if reply.status != 200:
            raise Unanswered(reply.status, str(body.get("message", "")) if isinstance(body, dict) else "")
        return body

    def principal(self, call: Call) -> Principal | None:
        """The page's key (already admitted by the guard); None where keys are not required."""
        keys = self.guard.keys
        key = bearer_key(call)
        return keys.principal_of(key) if keys is not None and key else None

    async def reach(self, principal: Principal | None, source: Source) -> str | None:
        """Why the page's key could not ask the API for ``source`` (None: it could)."""
        if self.guard.keys is None or principal is None or principal.role in READS_EVERYTHING:
            return None
        state: OrgState = await self.guard.organisation()
        days = days_of(source.path, source.query, self.guard.timezone, datetime.now(UTC))
        return refusal(principal, POLICIES[("GET", source.route)], source.path, source.query, state, days)
