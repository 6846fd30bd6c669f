"""The guard around every handler: the key's principal, then the policy's decision.

401 (``unauthorized``) when a request that needs a key has none, or one that is unknown, revoked or
expired; 403 (``forbidden``) when the key's role may not read what was asked, with the reason.
Both are JSON bodies of the standard refusal shape, and neither ever repeats the key.

With ``SALESLEDGER_REQUIRE_API_KEYS=false`` (a sandbox on a laptop) nothing is guarded.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from projections.org import OrgState
from services.access.policies import Policy, days_of, owned_refusal, refusal
from services.auth.keys import ApiKeys
from services.auth.roles import NEEDS_SUBJECT
from services.metrics import ACCESS_REFUSED
from services.refusals import Refusal
from services.web.routes import Call, Handler, Reply
from services.web.routes import refusal as refusal_reply

UNGUARDED = frozenset({Policy.PUBLIC, Policy.PEER, Policy.PUBLISH})
"""Policies the guard lets through: open ones, and those that check their callers themselves (the
peers' signatures, the gate's publisher keys)."""


NARROWED = frozenset({Policy.REP, Policy.SCOPE, Policy.FILTERED, Policy.OWNED, Policy.TEAM})
"""Policies decided against the organisation for rep and manager keys."""


def bearer_key(call: Call) -> str:
    """The API key of a request: ``Authorization: Bearer <key>``, or ``X-Api-Key``."""
    scheme, _, credentials = call.header("Authorization").partition(" ")
    key = credentials.strip() if scheme.lower() == "bearer" else ""
    return key or call.header("X-Api-Key")


@dataclass(frozen=True)
class Guard:
    """What the guard needs: the keys (None: keys not required), the organisation, the time zone."""

    keys: ApiKeys | None
    organisation: Callable[[], Awaitable[OrgState]]
    timezone: str
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


def guarded(guard: Guard, policy: Policy, handler: Handler) -> Handler:
    """``handler`` behind ``policy``: called only for keys that may make the request."""
    if policy in UNGUARDED or guard.keys is None:
        return handler
    keys = guard.keys

    async def answer(call: Call) -> Reply:
        key = bearer_key(call)
        principal = keys.principal_of(key) if key else None
        if principal is None:
            ACCESS_REFUSED.labels(Refusal.UNAUTHORIZED.value).inc()
            return refusal_reply(
                Refusal.UNAUTHORIZED,
                "missing, invalid, expired or revoked API key (Authorization: Bearer <key>)",
            )
        days = days_of(call.path, call.query, guard.timezone, guard.clock())
        narrowed = principal.role in NEEDS_SUBJECT and policy in NARROWED
        state = await guard.organisation() if narrowed else None
        why = refusal(principal, policy, call.path, call.query, state, days)
        if why is not None:
            ACCESS_REFUSED.labels(Refusal.FORBIDDEN.value).inc()
            return refusal_reply(Refusal.FORBIDDEN, why)
        reply = await handler(call)
        if policy is Policy.OWNED and reply.status == 200 and state is not None:
            why = owned_refusal(principal, state, reply.body, days)
            if why is not None:
                ACCESS_REFUSED.labels(Refusal.FORBIDDEN.value).inc()
                return refusal_reply(Refusal.FORBIDDEN, why)
        return reply

    answer.__doc__ = handler.__doc__
    return answer
