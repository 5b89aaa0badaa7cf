"""A throwaway PostgreSQL server for tests, and a fresh database per test.

``postgres_server()`` runs ``initdb`` into a temporary directory and starts
PostgreSQL on 127.0.0.1 at a free port, with its socket and log in that
directory; on exit it stops the server (``pg_ctl stop -m immediate``, then a
kill of the postmaster if that fails) and removes the directory. PostgreSQL
refuses to run as root, so as root every command runs as the ``postgres`` OS
user through ``runuser``.

The pytest fixtures: ``pg_server`` (session-scoped, one server) and ``pg_url``
(a SQLAlchemy URL of a new, empty database for each test). Import both into a
test module. Without ``initdb`` on PATH the tests skip, unless
REDLINE_REQUIRE_POSTGRES is set (to anything but "" or "0"): then, as whenever
``initdb`` exists but the server cannot start, they fail with the reason.
"""
from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

USER = "redline"          # the server's superuser, created by initdb
OS_USER = "postgres"      # who runs the server when we are root
START_TIMEOUT = 60        # seconds pg_ctl waits for the server to accept connections
COMMAND_TIMEOUT = 120     # seconds any one command may take
TIMEZONE = "Asia/Kolkata"  # a non-UTC server zone with a half-hour offset, so UTC handling is really tested


def required() -> bool:
    """True when REDLINE_REQUIRE_POSTGRES asks for PostgreSQL tests to run, never skip."""
    return os.environ.get("REDLINE_REQUIRE_POSTGRES", "") not in ("", "0")


def skip_reason() -> str | None:
    """Why the PostgreSQL tests should skip, or None when they must run."""
    if shutil.which("initdb") is None and not required():
        return ("PostgreSQL not installed: initdb is not on PATH (install PostgreSQL 15; "
                "set REDLINE_REQUIRE_POSTGRES=1 to make this an error)")
    return None


class PostgresUnavailable(RuntimeError):
    """The throwaway server could not be set up; the message says why."""


@dataclass
class Server:
    port: int
    base: Path

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{USER}@{self.host}:{self.port}/{database}"

    def connect(self, database: str = "postgres"):  # type: ignore[no-untyped-def]
        """A psycopg connection in autocommit mode (CREATE DATABASE cannot run in a transaction)."""
        import psycopg

        return psycopg.connect(host=self.host, port=self.port, user=USER, dbname=database, autocommit=True,
                               connect_timeout=10)

    def create_database(self, name: str) -> str:
        """CREATE DATABASE ``name``; returns its SQLAlchemy URL."""
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(OS_USER)
    except KeyError as exc:
        raise PostgresUnavailable(f"running as root but there is no '{OS_USER}' OS user to run PostgreSQL as "
                                  "(PostgreSQL refuses to run as root)") from exc
    if shutil.which("runuser") is None:
        raise PostgresUnavailable("running as root but 'runuser' is missing; cannot start PostgreSQL as "
                                  f"'{OS_USER}'")
    return ["runuser", "-u", OS_USER, "--"]


def _temp_parent() -> str:
    """A temporary directory the server user can reach (every ancestor searchable by others)."""
    parent = Path(tempfile.gettempdir()).resolve()
    for part in (parent, *parent.parents):
        if not part.stat().st_mode & stat.S_IXOTH:
            return "/tmp"
    return str(parent)


def _run(prefix: list[str], args: list[str], cwd: Path, what: str, timeout: float = COMMAND_TIMEOUT) -> None:
    try:
        done = subprocess.run(prefix + args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired as exc:
        raise PostgresUnavailable(f"{what} took longer than {timeout}s: {' '.join(args)}") from exc
    except OSError as exc:
        raise PostgresUnavailable(f"{what} could not run: {exc}") from exc
    if done.returncode != 0:
        raise PostgresUnavailable(f"{what} failed (exit {done.returncode}): {' '.join(args)}\n"
                                  f"{done.stdout}{done.stderr}")


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


def _stop(prefix: list[str], data: Path, base: Path) -> None:
    """Stop the server at once; if pg_ctl cannot, kill the postmaster named in postmaster.pid."""
    if not (data / "postmaster.pid").exists():
        return
    with contextlib.suppress(PostgresUnavailable):
        _run(prefix, ["pg_ctl", "-D", str(data), "-m", "immediate", "-w", "-t", "30", "stop"], base,
             "pg_ctl stop", timeout=60)
        return
    try:
        pid = int((data / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            os.kill(pid, 0)
            time.sleep(0.1)


@contextlib.contextmanager
def postgres_server(attempts: int = 3) -> Iterator[Server]:
    """Start a throwaway PostgreSQL server; stop it and delete its files on exit, whatever happened."""
    for tool in ("initdb", "pg_ctl"):
        if shutil.which(tool) is None:
            raise PostgresUnavailable(f"{tool} is not on PATH; install PostgreSQL 15 server binaries")
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise PostgresUnavailable("the psycopg driver is not installed; pip install 'psycopg[binary]'") from exc
    prefix = _as_server_user()
    base = Path(tempfile.mkdtemp(prefix="redline-pg-", dir=_temp_parent()))
    data, log = base / "data", base / "server.log"
    try:
        if prefix:
            account = pwd.getpwnam(OS_USER)
            os.chown(base, account.pw_uid, account.pw_gid)
        _run(prefix, ["initdb", "-D", str(data), "-A", "trust", "-U", USER, "-E", "UTF8", "--locale=C",
                      "--no-sync"], base, "initdb")
        for attempt in itertools.count(1):
            port = _free_port()
            options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off "
                       f"-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
                       f"-c timezone={TIMEZONE}")
            try:
                _run(prefix, ["pg_ctl", "-D", str(data), "-l", str(log), "-o", options, "-w",
                              "-t", str(START_TIMEOUT), "start"], base, "pg_ctl start",
                     timeout=START_TIMEOUT + 30)
                break
            except PostgresUnavailable as exc:
                _stop(prefix, data, base)
                if attempt >= attempts:  # a port taken between our probe and the server's bind: retry
                    raise PostgresUnavailable(f"{exc}\n--- server log ---\n{_tail(log)}") from exc
        yield Server(port, base)
    finally:
        try:
            _stop(prefix, data, base)
        finally:
            shutil.rmtree(base, ignore_errors=True)


# -- pytest fixtures ---------------------------------------------------------------------------------

_names = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    """One PostgreSQL server for the whole test session (skips only as ``skip_reason`` says)."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    try:
        server_cm = postgres_server()
        server = server_cm.__enter__()
    except PostgresUnavailable as exc:
        pytest.fail(f"PostgreSQL could not be started: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server_cm.__exit__(None, None, None)


@pytest.fixture
def pg_url(pg_server: Server) -> str:
    """SQLAlchemy URL of a new, empty database on the session's server."""
    return pg_server.create_database(f"redline_test_{os.getpid()}_{next(_names)}")
