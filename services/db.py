"""Which database Salesledger uses, parsed once from ``SALESLEDGER_DATABASE_URL``.

SQLite is the default because it is embedded: a single worker needs no server at all. PostgreSQL
is chosen by URL for deployments with several workers on several machines. Everything that opens a
database (API keys, the relay lease, the eventsourcing write model) takes a `DatabaseConfig` from
here instead of re-parsing the URL, so the accepted forms and their errors are the same everywhere:

* ``sqlite:///relative/path.sqlite3`` and ``sqlite:////absolute/path.sqlite3`` (the path is taken
  verbatim, exactly as `Settings.database_path` does);
* ``postgresql://user:password@host:port/dbname`` (``postgres://`` too), user and password
  percent-encoded, with the optional query parameters ``schema`` (a lower-case identifier: every
  table goes there instead of ``public``) and ``connect_timeout`` (seconds).

Other libpq options (TLS above all) are not taken from the URL, because eventsourcing opens its own
connections from a fixed set of settings and would silently ignore them: set the standard libpq
environment variables instead (``PGSSLMODE``, ``PGSSLROOTCERT``, ``PGCONNECT_TIMEOUT``...), which
every connection of the process honours, ours and eventsourcing's alike.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qsl, quote, unquote, urlsplit

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql
    from psycopg.rows import TupleRow

SQLITE_PREFIX = "sqlite:///"
POSTGRES_SCHEMES = ("postgresql", "postgres")
DEFAULT_POSTGRES_PORT = 5432
DEFAULT_CONNECT_TIMEOUT = 10
_SCHEMA = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_QUERY_KEYS = frozenset({"schema", "connect_timeout"})
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def private_dir(path: Path, *, tighten: bool = False) -> Path:
    """Create `path` and each missing parent with mode 0700 (owner only); return `path`.

    Directories that already exist are left alone (a database may live in a home directory),
    unless `tighten`: then `path` itself, a directory that is ours alone (the data directory), is
    set to 0700 too. The mode is set explicitly, so a permissive umask cannot widen it.
    """
    missing = []
    current = path
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:  # created concurrently: whoever made it made it private
            continue
        directory.chmod(PRIVATE_DIR_MODE)
    if tighten and path.is_dir():
        path.chmod(PRIVATE_DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create `path` (and missing folders, 0700) as an empty 0600 file, or make an existing one 0600.

    An existing file is changed by name only, never opened: closing any descriptor of a SQLite file
    drops every POSIX lock this process holds on it (SQLite's connections included), which lets
    another process checkpoint or discard a write-ahead log still in use, losing committed rows.
    """
    private_dir(path.parent)
    if path.exists():
        path.chmod(PRIVATE_FILE_MODE)
        return path
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:  # created meanwhile (no descriptor was opened by the failed attempt)
        path.chmod(PRIVATE_FILE_MODE)
        return path
    try:  # new, so no connection of ours has it open: this descriptor is the only one
        os.fchmod(fd, PRIVATE_FILE_MODE)
    finally:
        os.close(fd)
    return path


def private_sqlite(path: Path) -> Path:
    """The SQLite file `path`, created 0600 before SQLite opens it (its -wal/-shm files then take the
    same mode); existing ones, from an older version, are made 0600 too."""
    private_file(path)
    for suffix in SQLITE_SIDE_FILES:
        side = Path(f"{path}{suffix}")
        if side.exists():
            side.chmod(PRIVATE_FILE_MODE)
    return path


@dataclass(frozen=True, slots=True)
class SqliteConfig:
    """An embedded SQLite database file (created, with its folder, on first use)."""

    path: Path
    kind: Literal["sqlite"] = "sqlite"

    def url(self, *, redact: bool = True) -> str:
        """The URL back (`redact` is accepted for symmetry with `PostgresConfig.url`)."""
        return f"{SQLITE_PREFIX}{self.path}"


@dataclass(frozen=True, slots=True)
class PostgresConfig:
    """A PostgreSQL database on a server; `password` is kept out of `repr` so logs never show it."""

    host: str
    port: int
    dbname: str
    user: str
    password: str = field(default="", repr=False)
    schema: str | None = None
    connect_timeout: int = DEFAULT_CONNECT_TIMEOUT
    kind: Literal["postgresql"] = "postgresql"

    def url(self, *, redact: bool = True) -> str:
        """The URL back, with the password masked unless `redact=False` (for printing settings)."""
        secret = "***" if redact and self.password else quote(self.password, safe="")
        auth = quote(self.user, safe="") + (f":{secret}" if self.password else "")
        query = []
        if self.schema:
            query.append(f"schema={self.schema}")
        if self.connect_timeout != DEFAULT_CONNECT_TIMEOUT:
            query.append(f"connect_timeout={self.connect_timeout}")
        host = f"[{self.host}]" if ":" in self.host else self.host
        tail = f"?{'&'.join(query)}" if query else ""
        return f"postgresql://{auth}@{host}:{self.port}/{quote(self.dbname, safe='')}{tail}"

    def connect_kwargs(
        self, server_settings: Mapping[str, str] | None = None, **params: str | int
    ) -> dict[str, str | int]:
        """Keyword arguments for `psycopg.connect` / a pool's ``kwargs``.

        The schema goes in as the session's ``search_path``, so our own SQL stays unqualified and
        identical to the SQLite text. `server_settings` become ``-c name=value`` session settings
        and `params` further libpq parameters (keepalives, for example).
        """
        settings = dict(server_settings or {})
        if self.schema:
            settings["search_path"] = self.schema
        kwargs: dict[str, str | int] = {
            "host": self.host,
            "port": self.port,
            "dbname": self.dbname,
            "user": self.user,
            "password": self.password,
            "connect_timeout": self.connect_timeout,
            "application_name": "salesledger",
        }
        if settings:
            kwargs["options"] = " ".join(f"-c {name}={value}" for name, value in settings.items())
        return kwargs | params

    def conninfo(self, server_settings: Mapping[str, str] | None = None, **params: str | int) -> str:
        """The same as a libpq connection string (quoted by psycopg, so any password is safe)."""
        from psycopg.conninfo import make_conninfo

        return make_conninfo("", **self.connect_kwargs(server_settings, **params))

    def connect(
        self, server_settings: Mapping[str, str] | None = None, **params: str | int
    ) -> psycopg.Connection[TupleRow]:
        """A new autocommit connection (the caller closes it).

        psycopg is imported here, not at module level, so SQLite-only processes never load it.
        """
        import psycopg

        return psycopg.connect(self.conninfo(server_settings, **params), autocommit=True)


DatabaseConfig = SqliteConfig | PostgresConfig
"""Tagged by `kind`: ``match config: case SqliteConfig(path=path): ...`` or test ``config.kind``."""


def parse_database_url(url: str) -> DatabaseConfig:
    """The database a URL names; `ValueError` with the accepted forms for anything else."""
    if url.startswith(SQLITE_PREFIX):
        path = url.removeprefix(SQLITE_PREFIX)
        if not path:
            raise ValueError(f"database URL {url!r} names no file: use sqlite:///<path>")
        return SqliteConfig(Path(path))
    parts = urlsplit(url)
    if parts.scheme not in POSTGRES_SCHEMES:
        raise ValueError(
            f"unsupported database URL {_redact(url)!r}: use sqlite:///<path>, sqlite:////<abs path> "
            "or postgresql://user:password@host:port/dbname"
        )
    return _parse_postgres(url)


def _parse_postgres(url: str) -> PostgresConfig:
    shown = _redact(url)
    parts = urlsplit(url)
    try:
        port = parts.port or DEFAULT_POSTGRES_PORT
    except ValueError:
        raise ValueError(f"database URL {shown!r} has an invalid port") from None
    dbname = unquote(parts.path.removeprefix("/"))
    if not parts.hostname or not parts.username or not dbname or "/" in dbname:
        raise ValueError(f"database URL {shown!r} needs a user, a host and a database name")
    try:
        params = dict(parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query)))
    except ValueError:
        raise ValueError(f"database URL {shown!r} has a malformed query string") from None
    unknown = sorted(set(params) - _QUERY_KEYS)
    if unknown:
        raise ValueError(
            f"database URL {shown!r}: unsupported parameter(s) {', '.join(unknown)} "
            f"(supported: {', '.join(sorted(_QUERY_KEYS))}; set PG* environment variables for the rest)"
        )
    schema = params.get("schema") or None
    if schema is not None and not _SCHEMA.fullmatch(schema):
        raise ValueError(f"database URL {shown!r}: schema must be a lower-case identifier, not {schema!r}")
    timeout = params.get("connect_timeout", str(DEFAULT_CONNECT_TIMEOUT))
    if not timeout.isdigit() or int(timeout) < 1:
        raise ValueError(f"database URL {shown!r}: connect_timeout must be a positive integer")
    return PostgresConfig(
        host=parts.hostname,
        port=port,
        dbname=dbname,
        user=unquote(parts.username),
        password=unquote(parts.password or ""),
        schema=schema,
        connect_timeout=int(timeout),
    )


def _redact(url: str) -> str:
    """`url` with any password replaced, for error messages (they end up in logs)."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


# Defaults for eventsourcing on PostgreSQL. Its own defaults wait forever for the table lock taken by
# every insert (lock_timeout 0) and check no pooled connection before use; after a server restart or
# behind a stuck writer that means hanging or failing the first command instead of a clear error.
POSTGRES_ES_DEFAULTS: Mapping[str, str] = {
    "POSTGRES_POOL_SIZE": "5",
    "POSTGRES_MAX_OVERFLOW": "10",
    "POSTGRES_MAX_WAITING": "0",
    "POSTGRES_CONN_MAX_AGE": "1800",
    "POSTGRES_PRE_PING": "y",
    "POSTGRES_LOCK_TIMEOUT": "5",
    "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "5",
}
SQLITE_ES_DEFAULTS: Mapping[str, str] = {"SQLITE_LOCK_TIMEOUT": "30"}


def eventsourcing_env(config: DatabaseConfig, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The ``env`` for an ``eventsourcing.application.Application`` on `config`; `extra` wins.

    Keys are unprefixed, so they apply to every application; eventsourcing merges them over
    ``os.environ``, except that ``<APPNAME>_<KEY>`` variables in the process environment still take
    precedence for that one application (its own lookup order). ``POSTGRES_CONNECT_TIMEOUT`` is, in
    eventsourcing, the wait for a pooled connection, so it gets our connect timeout too. A
    SQLite folder and a PostgreSQL schema must exist before the application starts: call
    `prepare_database` first (this function only computes, it touches nothing).
    """
    env: dict[str, str] = {"CREATE_TABLE": "true"}
    if isinstance(config, SqliteConfig):
        env |= {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(config.path)}
        env |= SQLITE_ES_DEFAULTS
    else:
        env |= {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": config.dbname,
            "POSTGRES_HOST": config.host,
            "POSTGRES_PORT": str(config.port),
            "POSTGRES_USER": config.user,
            "POSTGRES_PASSWORD": config.password,
            "POSTGRES_SCHEMA": config.schema or "",
            "POSTGRES_CONNECT_TIMEOUT": str(config.connect_timeout),
        }
        env |= POSTGRES_ES_DEFAULTS
    env.update(extra or {})
    return env


def advisory_key(name: str) -> int:
    """A stable signed 64-bit PostgreSQL advisory lock key for `name` (the same in every process).

    Advisory locks are per database, not per schema: callers put the schema into `name`.
    """
    return int.from_bytes(hashlib.sha256(f"salesledger:{name}".encode()).digest()[:8], "big", signed=True)


DDL_LOCK = "ddl"


def run_ddl(conn: psycopg.Connection[TupleRow], *statements: str | sql.Composable) -> None:
    """Run ``CREATE ... IF NOT EXISTS`` statements in one transaction under an advisory lock.

    PostgreSQL's IF NOT EXISTS is not safe against itself: two workers starting together can both
    miss the object and one then fails on a unique violation in the catalog. The transaction-scoped
    lock makes them take turns (it is freed at commit).
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (advisory_key(DDL_LOCK),))
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


def prepare_database(config: DatabaseConfig) -> None:
    """Create what must exist before the first table: the SQLite file's folder, the PostgreSQL schema.

    eventsourcing creates its tables (CREATE_TABLE) but neither of these, and fails obscurely without.
    The SQLite file (API key hashes, every stored event) is created 0600 and missing folders 0700.
    """
    if isinstance(config, SqliteConfig):
        private_sqlite(config.path)
    elif config.schema:
        from psycopg import sql

        with config.connect() as conn:
            run_ddl(conn, sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(config.schema)))
