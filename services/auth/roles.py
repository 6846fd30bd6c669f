"""Who a key speaks for: its role, the sources it publishes as, and whose numbers it may read.

Five roles (docs/api.md, "Access"):

- **publisher**: writes events as its sources only; reads nothing. What dialers, email tools and
  CRMs hold.
- **rep**: reads their own activity, deals, KPIs and statements (``subject`` is their rep id).
- **manager**: reads the reps of the teams they manage, and of every team rolling up into those,
  on the days those reps are in them, and those teams' and their reps' territories (``subject``
  is the manager id `TeamFormed` names; `projections.org.managed_teams`).
- **auditor**: reads everything, runs the audit and replay commands; writes nothing.
- **admin**: reads everything; with sources, publishes as them (plans, payout approvals are
  events); manages keys through the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    PUBLISHER = "publisher"
    REP = "rep"
    MANAGER = "manager"
    AUDITOR = "auditor"
    ADMIN = "admin"


READS_EVERYTHING = frozenset({Role.AUDITOR, Role.ADMIN})
"""Roles whose reads are never narrowed."""

MAY_PUBLISH = frozenset({Role.PUBLISHER, Role.ADMIN})
"""Roles that may hold sources and publish as them."""

NEEDS_SUBJECT = frozenset({Role.REP, Role.MANAGER})
"""Roles whose reads are narrowed to one person (a rep id, a manager id)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """A verified key: what it may do. Never carries the secret."""

    key_id: str
    role: Role
    sources: frozenset[str] = frozenset()
    subject: str | None = None
    expires_at: datetime | None = None

    def may_publish_as(self, source: str) -> bool:
        return self.role in MAY_PUBLISH and source in self.sources


def check_grant(role: Role, sources: frozenset[str], subject: str | None) -> None:
    """Refuse a key that could not be used as its role says (raises ValueError with the reason)."""
    if role is Role.PUBLISHER and not sources:
        raise ValueError("a publisher key needs at least one --source")
    if sources and role not in MAY_PUBLISH:
        raise ValueError(f"a {role} key publishes nothing: --source is for publisher and admin keys")
    if role in NEEDS_SUBJECT and not subject:
        raise ValueError(f"a {role} key needs --subject (the {role} id whose numbers it reads)")
    if subject and role not in NEEDS_SUBJECT:
        raise ValueError(f"a {role} key has no --subject: it is for rep and manager keys")
    if any(not source or any(c.isspace() for c in source) for source in sources):
        raise ValueError("a source is a non-empty URI reference without spaces")
