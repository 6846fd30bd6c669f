"""The route table's types: what a handler sees of a request, what it answers, and where it lives.

Handlers are plain async functions from a `Call` to a `Reply`, with their dependencies bound by
the bootstrap (`functools.partial`), so each is tested by calling it: no server, no Faust. One
table (`services.bootstrap.routes`) lists every endpoint a worker serves; `services.web.faust`
serves that table on Faust's web server, and nothing else registers HTTP views.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from services.refusals import HTTP_STATUS, Refusal, refused
from services.web.encoding import json_bytes

Method = Literal["GET", "POST"]


@dataclass(frozen=True)
class Call:
    """A request as handlers see it: path parameters, query parameters, headers (any case) and body."""

    path: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str:
        """A header's value ("" when absent), whatever case the client wrote its name in."""
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), "")


@dataclass(frozen=True)
class Reply:
    """A status and a JSON body (encoded by `services.web.encoding`), or bytes already encoded."""

    status: int
    body: Any = None
    raw: bytes | None = None
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)
    """Extra response headers (the peer signature of `services.queries.peers`)."""

    def encoded(self) -> bytes:
        return self.raw if self.raw is not None else json_bytes(self.body)


def ok(body: Any, status: int = 200) -> Reply:
    return Reply(status, body)


def refusal(reason: Refusal, message: str, errors: list[dict[str, str]] | None = None) -> Reply:
    """A refusal answered with its status (`services.refusals.HTTP_STATUS`) and the standard body."""
    return Reply(HTTP_STATUS[reason], refused(reason, message, errors))


Handler = Callable[[Call], Awaitable[Reply]]


@dataclass(frozen=True)
class Route:
    """One endpoint: method, path (``{name}`` for a path parameter) and its bound handler."""

    method: Method
    path: str
    handler: Handler
