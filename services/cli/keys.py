"""`salesledger keys`: API keys with roles, created, revoked and listed in the configured database."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from services.auth.roles import Role
from services.settings import Settings


def cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    """Create, revoke and list API keys in the configured database (``SALESLEDGER_DATABASE_URL``),
    wherever the command runs: the key is printed once; only its hash is stored."""
    from services.auth.keys import ApiKeys

    keys = ApiKeys.from_url(settings.database_url)
    try:
        if args.action == "create":
            try:
                expires = expiry(args.expires)
                print(
                    keys.create(
                        args.source or (),
                        args.label,
                        role=Role(args.role),
                        subject=args.subject,
                        expires_at=expires,
                    )
                )
            except ValueError as error:
                print(f"keys create: {error}", file=sys.stderr)
                return 2
        elif args.action == "revoke":
            if not args.key_id or not keys.revoke(args.key_id):
                print(f"no active key {args.key_id!r}", file=sys.stderr)
                return 1
            print(f"revoked {args.key_id}")
        else:
            print("key_id\trole\tsources\tsubject\tcreated\texpires\tstate\tlabel")
            for key in keys.list():
                row = (key.key_id, key.role, key.source or "-", key.subject or "-", key.created_at)
                print("\t".join((*row, key.expires_at or "never", key.state(), key.label or "")))
    finally:
        keys.close()
    return 0


def expiry(text: str | None) -> datetime | None:
    """``--expires``: an ISO 8601 date-time with a zone, or a lifetime from now (``90d``, ``12h``)."""
    if not text:
        return None
    units = {"d": "days", "h": "hours", "m": "minutes"}
    if text[-1:] in units and text[:-1].isdigit():
        return datetime.now(UTC) + timedelta(**{units[text[-1]]: int(text[:-1])})
    at = datetime.fromisoformat(text)
    if at.utcoffset() is None:
        raise ValueError("--expires needs a time zone (2027-01-01T00:00:00+00:00) or a lifetime (90d)")
    return at


def add_keys(sub: Any) -> None:
    """Add these commands to the `salesledger` parser's subcommands."""
    keys = sub.add_parser(
        "keys", help="API keys with roles: create (printed once), revoke, list (docs/api.md, Access)"
    )
    keys.add_argument("action", choices=["create", "revoke", "list"])
    keys.add_argument("key_id", nargs="?", help="the key id to revoke (the part after sl_)")
    keys.add_argument(
        "--role",
        choices=[role.value for role in Role],
        default=Role.PUBLISHER.value,
        help="what the key may do (default publisher)",
    )
    keys.add_argument(
        "--source",
        action="append",
        help="a CloudEvents source it publishes as (publisher, admin; repeatable)",
    )
    keys.add_argument("--subject", help="the rep id (rep key) or manager id (manager key) it reads for")
    keys.add_argument("--expires", help="an ISO 8601 date-time with a zone, or a lifetime: 90d, 12h, 30m")
    keys.add_argument("--label", help="a note kept with the key")
    keys.set_defaults(handler=cmd_keys)
