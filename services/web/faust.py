"""Serve the route table on the Faust worker's web server (aiohttp underneath).

The only module that knows Faust's `View` classes: each path becomes one view whose methods turn
the framework's request into a `Call` and the handler's `Reply` into a response.

It also bounds what slow or numerous clients can hold (docs/api.md, "Limits"):

- a header-read timeout: aiohttp's ``keepalive_timeout`` (set through Faust's
  ``web_application_options`` ``handler_args``, `services.bootstrap.faust_app`) closes a
  connection that has not completed a request head that many seconds after it opened or after its
  last response (``SALESLEDGER_WEB_HEADER_TIMEOUT``);
- a connection cap: Faust exposes none, so `bounded_app` gives the worker a web driver whose TCP
  site answers a connection past ``SALESLEDGER_WEB_MAX_CONNECTIONS`` with a 503 JSON body and
  closes it, before aiohttp parses anything.

A handler that fails (a bug, a full disk, a store closed under it) is answered 500 with the
standard JSON refusal body (``internal_error``) and logged with its trace: never aiohttp's plain
text. Every 503 carries ``Retry-After``.

Not bounded here: the time a client may take to send a request *body* once its head is in (the
body size is bounded by ``client_max_size``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import faust
from aiohttp.web import BaseSite, HTTPRequestEntityTooLarge, TCPSite
from faust.web import Request, Response, View
from faust.web.drivers.aiohttp import Web as AiohttpWeb

from services.refusals import Refusal, refused
from services.web.encoding import json_bytes
from services.web.routes import Call, Handler, Route, refusal

log = logging.getLogger(__name__)

_BUSY_BODY = json_bytes(refused(Refusal.INTERNAL_ERROR, "the worker holds too many connections; retry later"))
RETRY_AFTER = "1"
"""Seconds a 503 asks a client to wait when its handler named none: every 503 is temporary (not
ready yet, too busy), so a retry helps, and a client must know when (issue 15, item 5)."""
BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
    b"Retry-After: %b\r\nContent-Length: %d\r\n\r\n%b" % (RETRY_AFTER.encode(), len(_BUSY_BODY), _BUSY_BODY)
)
"""The whole answer to a connection over the cap."""


class _Busy(asyncio.Protocol):
    """A connection over the cap: answered 503 and closed, whatever it sends."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(BUSY)
        transport.close()


class CappedSite(TCPSite):
    """aiohttp's TCP site, holding at most ``max_connections`` connections at once."""

    def __init__(self, *args: Any, max_connections: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_connections = max_connections

    async def start(self) -> None:  # TCPSite.start, with the protocol factory capped
        await BaseSite.start(self)
        server = self._runner.server
        assert server is not None
        cap = self.max_connections

        def protocol() -> asyncio.BaseProtocol:
            return server() if len(server.connections) < cap else _Busy()

        self._server = await asyncio.get_running_loop().create_server(
            protocol,
            self._host,
            self._port,
            ssl=self._ssl_context,
            backlog=self._backlog,
            reuse_address=self._reuse_address,
            reuse_port=self._reuse_port,
        )


def bounded_app(max_connections: int) -> type[faust.App]:
    """A `faust.App` class whose web server holds at most ``max_connections`` connections (the
    header timeout is aiohttp's ``keepalive_timeout``, passed in the app's web options)."""

    class BoundedWeb(AiohttpWeb):
        def _new_transport_tcp(self) -> BaseSite:
            conf = self.app.conf
            return CappedSite(
                self._runner,
                conf.web_bind,
                conf.web_port,
                ssl_context=conf.web_ssl_context,
                max_connections=max_connections,
            )

    class BoundedApp(faust.App):
        def _new_web(self) -> AiohttpWeb:
            return BoundedWeb(self)

    return BoundedApp


def serve(app: faust.App, routes: Sequence[Route]) -> None:
    """Register every route with ``app``'s web server (one view per path)."""
    by_path: dict[str, dict[str, Handler]] = defaultdict(dict)
    for route in routes:
        if route.method in by_path[route.path]:
            raise ValueError(f"{route.method} {route.path} is in the route table twice")
        by_path[route.path][route.method] = route.handler
    for path, handlers in by_path.items():
        app.page(path)(_view(handlers))


def _view(handlers: dict[str, Handler]) -> type[View]:
    async def answer(view: View, request: Request, method: str, path: dict[str, Any]) -> Response:
        try:
            body = await request.read() if method == "POST" else b""
        except HTTPRequestEntityTooLarge as exc:  # over the server's body limit: the documented 413
            reply = refusal(Refusal.TOO_LARGE, f"the body is too large: {exc.text}")
            return view.bytes(reply.encoded(), content_type=reply.content_type, status=reply.status)
        call = Call(
            path={k: str(v) for k, v in path.items()}, query=request.query, headers=request.headers, body=body
        )
        try:
            reply = await handlers[method](call)
        except Exception:  # a failure of ours: logged with its trace, answered in the documented shape
            log.exception("%s %s failed", method, request.url.path)
            reply = refusal(Refusal.INTERNAL_ERROR, "the worker failed to answer; retry, or see its log")
        headers = dict(reply.headers)
        if reply.status == 503:
            headers.setdefault("Retry-After", RETRY_AFTER)
        return view.bytes(
            reply.encoded(), content_type=reply.content_type, status=reply.status, headers=headers
        )

    class RouteView(View):
        if "GET" in handlers:

            async def get(self, request: Request, **path: Any) -> Response:
                return await answer(self, request, "GET", path)

        if "POST" in handlers:

            async def post(self, request: Request, **path: Any) -> Response:
                return await answer(self, request, "POST", path)

    return RouteView
