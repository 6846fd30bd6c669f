"""A real PostgreSQL server for the tests: private and throw-away, or the one you name.

If ``SALESLEDGER_TEST_POSTGRES_URL`` is set, that server is used as is (tests isolate themselves in
their own schemas). Otherwise Debian's server binaries (``apt-get install postgresql``, done by
``make system-deps``) start a private cluster: ``initdb`` into a fresh folder, ``pg_ctl start`` on a
free loopback port with durability off (fsync, full-page writes: nothing here must survive a power
cut), a password user and a ``salesledger`` database, and ``pg_ctl stop -m fast`` at the end.
Nothing skips: without the binaries every PostgreSQL test errors with the install hint.

PostgreSQL refuses to run as root, and so do these tests' CI machines run as root: the cluster is
then owned by the ``postgres`` OS user (created by the Debian package) and every server command runs
through ``runuser``. Its folder is made under /tmp by hand because pytest's own temp folders are
mode 0700 under root's, where the ``postgres`` user cannot reach.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from glob import glob
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql

from tests.support import free_port

ENV_URL = "SALESLEDGER_TEST_POSTGRES_URL"
INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin or on PATH: "
    "run `make system-deps` (apt-get install postgresql), or set "
    f"{ENV_URL}=postgresql://user:password@host:port/dbname to use a running server"
)
DBNAME = "salesledger"
USER = "salesledger"
# Characters that must survive percent-encoding in the URL and quoting in conninfo.
PASSWORD = "test p@ss:w/rd%"


def server_bin_dir() -> Path:
    """The newest installed server version's bin folder (Debian keeps them off PATH)."""
    candidates = [Path(p).parent for p in glob("/usr/lib/postgresql/*/bin/pg_ctl")]
    if candidates:
        return max(candidates, key=lambda p: int(re.sub(r"\D", "", p.parent.name) or 0))
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).parent
    raise RuntimeError(INSTALL_HINT)


@dataclass
class PrivateServer:
    """A cluster started by `start_private_server`; `stop()` ends it and removes its files."""

    base: Path
    bin_dir: Path
    port: int
    as_postgres: bool
    url: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def log(self) -> Path:
        return self.base / "server.log"

    def run(self, tool: str, *args: str, timeout: float = 120.0) -> None:
        """Run a server binary, as the ``postgres`` user when we are root."""
        command = [str(self.bin_dir / tool), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if result.returncode != 0:
            raise RuntimeError(
                f"{tool} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}\n{self.log_tail()}"
            )

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self.run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w", "-t", "60")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


def _server_options(base: Path, port: int) -> str:
    return " ".join(
        [
            "-c listen_addresses=127.0.0.1",
            f"-c port={port}",
            f"-c unix_socket_directories={base}",
            "-c fsync=off",
            "-c full_page_writes=off",
            "-c synchronous_commit=off",
            "-c max_connections=200",
        ]
    )


def start_private_server(attempts: int = 3) -> PrivateServer:
    """initdb + start on a free port (retried: another process may take the port first) + a user/db."""
    bin_dir = server_bin_dir()
    as_postgres = os.geteuid() == 0
    started = time.monotonic()
    base = Path(tempfile.mkdtemp(prefix="salesledger-pg-"))
    if as_postgres:
        try:
            shutil.chown(base, "postgres", "postgres")
        except LookupError:
            shutil.rmtree(base)
            raise RuntimeError(f"running as root, but no `postgres` OS user exists. {INSTALL_HINT}") from None
    server = PrivateServer(base, bin_dir, 0, as_postgres)
    try:
        server.run(
            "initdb",
            "-D",
            str(server.data),
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--no-sync",
        )
        server.timings["initdb"] = time.monotonic() - started
        for attempt in range(attempts):
            server.port = free_port()
            try:
                server.run(
                    "pg_ctl",
                    "start",
                    "-D",
                    str(server.data),
                    "-l",
                    str(server.log),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    _server_options(base, server.port),
                )
                break
            except RuntimeError:
                if attempt == attempts - 1 or "could not bind" not in server.log_tail():
                    raise
        server.timings["start"] = time.monotonic() - started
        _create_user_and_database(base, server.port)
        server.timings["ready"] = time.monotonic() - started
        server.url = f"postgresql://{USER}:{quote(PASSWORD, safe='')}@127.0.0.1:{server.port}/{DBNAME}"
        return server
    except BaseException:
        server.stop()
        raise


def _create_user_and_database(socket_dir: Path, port: int) -> None:
    """Over the Unix socket (trusted): a password login and a database it owns."""
    with psycopg.connect(host=str(socket_dir), port=port, user="postgres", dbname="postgres") as conn:
        conn.autocommit = True
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(USER), sql.Literal(PASSWORD))
        )
        owner = sql.Identifier(USER)
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(DBNAME), owner))


def _check_reachable(url: str) -> None:
    from services.db import PostgresConfig, parse_database_url

    config = parse_database_url(url)
    if not isinstance(config, PostgresConfig):
        raise RuntimeError(f"{ENV_URL} must be a postgresql:// URL, not {url!r}")
    with config.connect() as conn:
        conn.execute("SELECT 1")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a PostgreSQL database the tests may create tables in (public schema, or their own)."""
    external = os.environ.get(ENV_URL)
    if external:
        _check_reachable(external)
        yield external
        return
    server = start_private_server()
    try:
        yield server.url
    finally:
        server.stop()


def with_schema(url: str, schema: str) -> str:
    """`url` pointing at `schema` instead (replacing any schema it named)."""
    base, _, query = url.partition("?")
    params: Sequence[str] = [p for p in query.split("&") if p and not p.startswith("schema=")]
    return f"{base}?{'&'.join([*params, f'schema={schema}'])}"
