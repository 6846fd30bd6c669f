"""Leader election for the relay: exactly one relay per event store at a time.

Two implementations of one small interface (`Lease`), chosen by the database (`lease_for`):

* `RelayLease`, an exclusive file lock beside the SQLite file: SQLite means one machine, and the
  kernel drops the lock the moment its holder dies;
* `PostgresLease`, a session-level ``pg_try_advisory_lock`` on a dedicated connection: workers on
  several machines share only the database, and the server drops the lock when that session ends,
  whether by `release`/`close`, a crash of the holder, or the connection being lost.

A lost PostgreSQL connection means the lease is lost: another worker may already lead. A holder
must therefore call `held()` between units of work and stop leading when it turns False (a file
lock cannot be lost, so there it is always True while acquired). Server and client TCP keepalives
bound how long a vanished holder (machine gone, network cut) keeps the lock: about
``keepalive_seconds`` + 3 probes of ``keepalive_seconds / 2``.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from services.db import PRIVATE_FILE_MODE, DatabaseConfig, PostgresConfig, advisory_key, private_dir

if TYPE_CHECKING:
    from psycopg import Connection
    from psycopg.rows import TupleRow

log = logging.getLogger(__name__)


class Lease(Protocol):
    """Non-blocking leadership: `try_acquire` again while holding is cheap and returns True."""

    held_elsewhere: bool
    """Whether the last `try_acquire` failed because another holder has the lease (a leader is
    known), rather than because the lease could not be asked for (a database outage)."""

    def try_acquire(self) -> bool: ...

    def held(self) -> bool: ...

    def release(self) -> None: ...

    def close(self) -> None: ...


class RelayLease:
    """A non-blocking exclusive file lock: whoever holds it is the one relay."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self.held_elsewhere = False

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        private_dir(self.path.parent)
        # 0600: another local user who could open the file could take the lock and stop the relay.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
        try:
            os.fchmod(fd, PRIVATE_FILE_MODE)  # also one made by an older version
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            self.held_elsewhere = True
            return False
        self._fd, self.held_elsewhere = fd, False
        return True

    def held(self) -> bool:
        """A flock is only lost by giving it up, so this is just whether we took it."""
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def close(self) -> None:
        self.release()


class PostgresLease:
    """``pg_try_advisory_lock`` held by a dedicated session for as long as we lead.

    The connection is opened on the first `try_acquire` and kept across failed attempts (followers
    retry about once a second; reconnecting each time would cost a server process each). Database
    errors never escape `try_acquire`/`held`: they mean "not leading" and are logged, so a relay
    loop keeps waiting through a database outage instead of dying.
    """

    def __init__(self, config: PostgresConfig, name: str, keepalive_seconds: int = 10) -> None:
        self.config = config
        self.name = name
        # Advisory locks are per database, not per schema: deployments sharing a database in
        # different schemas must not elect one leader between them.
        self.key = advisory_key(f"lease:{config.schema or 'public'}:{name}")
        self.keepalive_seconds = keepalive_seconds
        self._conn: Connection[TupleRow] | None = None
        self._held = False
        self.held_elsewhere = False

    @property
    def backend_pid(self) -> int | None:
        """The server process of our session (what ``pg_locks.pid`` shows for the holder)."""
        return self._conn.info.backend_pid if self._conn is not None and not self._conn.closed else None

    def try_acquire(self) -> bool:
        if self._held:
            return self.held()
        import psycopg

        try:
            conn = self._connect()
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        except psycopg.Error as exc:
            log.warning("lease %r: database unavailable (%s); not leading", self.name, exc)
            self._drop()
            self.held_elsewhere = False
            return False
        self._held = bool(row and row[0])
        self.held_elsewhere = not self._held
        return self._held

    def held(self) -> bool:
        """Whether we still lead: our session (which holds the lock) is still alive."""
        if not self._held or self._conn is None:
            return False
        import psycopg

        try:
            self._conn.execute("SELECT 1")
        except psycopg.Error as exc:
            log.warning("lease %r lost with its connection (%s)", self.name, exc)
            self._drop()
            return False
        return True

    def release(self) -> None:
        if not self._held:
            return
        self._held = False
        import psycopg

        try:
            if self._conn is not None:
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
        except psycopg.Error:
            self._drop()  # the session is gone, and the lock with it

    def close(self) -> None:
        self.release()
        self._drop()

    def _connect(self) -> Connection[TupleRow]:
        if self._conn is None or self._conn.closed:
            idle = self.keepalive_seconds
            probe = max(1, idle // 2)
            self._conn = self.config.connect(
                {
                    # The server notices a vanished client (and frees the lock) after these.
                    "tcp_keepalives_idle": str(idle),
                    "tcp_keepalives_interval": str(probe),
                    "tcp_keepalives_count": "3",
                    # A server-wide idle_session_timeout would silently end the leader's session.
                    "idle_session_timeout": "0",
                    "statement_timeout": str(idle * 1000),
                },
                application_name=f"salesledger-lease-{self.name}"[:63],
                # And the client notices a vanished server.
                keepalives=1,
                keepalives_idle=idle,
                keepalives_interval=probe,
                keepalives_count=3,
                tcp_user_timeout=(idle + 3 * probe) * 1000,
            )
        return self._conn

    def _drop(self) -> None:
        self._held = False
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # closing a broken connection may fail; it is gone either way
                log.debug("closing lease connection failed", exc_info=True)


def lease_for(config: DatabaseConfig, name: str) -> Lease:
    """The lease `name` for a database: a lock file beside SQLite, an advisory lock on PostgreSQL.

    ``lease_for(config, "relay")`` on SQLite is the same file the worker has always used
    (``<database>.relay.lock``), so old and new workers still exclude each other.
    """
    if isinstance(config, PostgresConfig):
        return PostgresLease(config, name)
    return RelayLease(Path(f"{config.path}.{name}.lock"))
