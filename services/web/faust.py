"""Serve the route table on the Faust worker's web server (aiohttp underneath).

The only module that knows Faust's `View` classes: each path becomes one view whose methods turn
the framework's request into a `Call` and the handler's `Reply` into a response.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import faust
from aiohttp.web import HTTPRequestEntityTooLarge
from faust.web import Request, Response, View

from services.refusals import Refusal
from services.web.routes import Call, Handler, Route, refusal


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
        reply = await handlers[method](call)
        return view.bytes(reply.encoded(), content_type=reply.content_type, status=reply.status)

    class RouteView(View):
        if "GET" in handlers:

            async def get(self, request: Request, **path: Any) -> Response:
                return await answer(self, request, "GET", path)

        if "POST" in handlers:

            async def post(self, request: Request, **path: Any) -> Response:
                return await answer(self, request, "POST", path)

    return RouteView
