"""Opening the archive database: URL resolution, SQLite pragmas and migrations."""
from __future__ import annotations

import os
import re
import weakref
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, NoSuchModuleError

from archive.errors import ArchiveError, InvalidInput

DEFAULT_DB = "redline.db"
MIGRATIONS = Path(__file__).parents[1] / "migrations"
_opened: weakref.WeakSet[Engine] = weakref.WeakSet()  # for close_all


def head_revision(folder: Path = MIGRATIONS / "versions") -> str:
    """The newest migration: the revision no other one revises (read from the files, without Alembic).

    >>> head_revision() == HEAD_REVISION
    True
    """
    revisions: dict[str, str | None] = {}
    for path in folder.glob("*.py"):
        found = dict(_REVISION_LINE.findall(path.read_text("utf-8")))
        revisions[found["revision"]] = found.get("down_revision")
    heads = set(revisions) - set(revisions.values())
    if len(heads) != 1:
        raise RuntimeError(f"the migrations in {folder} have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


# ``revision = '0002'`` / ``down_revision = '0001'`` lines of an Alembic script (a regex, not ast: every
# view command reads these, and parsing the scripts would cost more than the view's queries)
_REVISION_LINE = re.compile(r"""^(revision|down_revision)\s*(?::[^=]*)?=\s*['"]([^'"]+)['"]""", re.MULTILINE)
HEAD_REVISION = head_revision()
_current: set[str] = set()  # databases this process has found (or brought) at head


READ_ONLY = "redline_read_only"  # execution option: this connection only reads


def database_url(given: str | None = None) -> str:
    """Resolve ``--db``, then ``REDLINE_DB``, then ``./redline.db``; a bare path means SQLite.

    >>> database_url("archive.db")
    'sqlite:///archive.db'
    >>> database_url("postgresql+psycopg://u@localhost/r")
    'postgresql+psycopg://u@localhost/r'
    """
    value = given or os.environ.get("REDLINE_DB") or DEFAULT_DB
    return value if "://" in value else f"sqlite:///{value}"


def open_engine(url: str, *, writer: bool = False, must_exist: bool = False) -> Engine:
    """Create an engine, set SQLite up for safety, and bring the schema to head."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InvalidInput(f"invalid database URL {url!r}; give a file path or a SQLAlchemy URL") from exc
    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite and parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database)
        if must_exist and not path.exists():
            raise ArchiveError(f"no archive at {path}; run 'redline crawl URL' first or pass --db")
        if path.is_dir():
            raise ArchiveError(f"{path} is a directory, not an archive file; point --db at a Redline archive")
        if must_exist and path.stat().st_size == 0:  # never write a schema into it: it is no archive yet
            raise ArchiveError(f"{path} is an empty file, not a Redline archive; point --db at an archive")
        if not path.parent.exists():
            raise ArchiveError(f"directory {path.parent} does not exist for database {path}")
    shown = parsed.render_as_string(hide_password=True)
    try:
        engine = create_engine(url, connect_args={"timeout": 30} if sqlite else {})
    except NoSuchModuleError as exc:
        raise InvalidInput(f"unknown database type {parsed.drivername!r} in {shown}; give a SQLite file path "
                           "or a postgresql+psycopg:// URL") from exc
    except ImportError as exc:
        raise InvalidInput(f"no driver for {shown} ({exc}); Redline archives are SQLite files or "
                           "postgresql+psycopg:// URLs") from exc
    if sqlite:
        _configure_sqlite(engine, writer)
    try:
        migrate(engine)
    except DatabaseError as exc:
        engine.dispose()
        reason = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
        where = parsed.database if sqlite else shown
        raise ArchiveError(f"cannot open the archive {where}: {reason}; point --db at a Redline archive") from exc
    _opened.add(engine)
    return engine


def close_all() -> None:
    """Close the idle connections of every engine this process opened: the last connection to a SQLite
    file to close checkpoints its write-ahead log into the file, so the file alone holds everything."""
    for engine in list(_opened):
        engine.dispose()


def read_only(engine: Engine) -> Engine:
    """Make every new connection of ``engine`` refuse writes (SQLite ``query_only``, PostgreSQL read-only
    transactions), for fronts that must never change the archive; pooled connections are dropped."""
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        cur = dbapi_conn.cursor()
        if engine.dialect.name == "sqlite":
            cur.execute("PRAGMA query_only=ON")
        else:
            cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            dbapi_conn.commit()
        cur.close()

    engine.dispose()
    return engine


def _configure_sqlite(engine: Engine, writer: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # let SQLAlchemy's BEGIN below take effect
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        # A writer takes the lock up front: a deferred BEGIN upgraded on first
        # write bypasses busy_timeout and fails with "database is locked".
        # A connection marked read_only (a writer's quick lookups) never waits for that lock.
        immediate = writer and not conn.get_execution_options().get(READ_ONLY)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def current_revision(engine: Engine) -> str | None:
    """The schema revision stored in the database, or None for an empty one."""
    with engine.connect() as conn:
        return _revision(conn)


def _revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def migrate(engine: Engine) -> None:
    """Upgrade the schema to head with Alembic; a no-op (without importing Alembic) when current.

    On PostgreSQL the migration holds an advisory lock, and what it found is checked again under
    that lock, so processes opening one new database at once migrate it once. A database found at
    head is not checked again in this process.
    """
    key = _identity(engine)
    if key is not None and key in _current:
        return
    if current_revision(engine) == HEAD_REVISION:
        if key is not None:
            _current.add(key)
        return
    from alembic import command
    from alembic.config import Config
    from alembic.util.exc import CommandError

    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('redline-migrate'))"))
        revision = _revision(conn)
        if revision == HEAD_REVISION:
            return
        if revision is None and inspect(conn).get_table_names():
            raise ArchiveError("database has tables but no Redline schema; point --db at a Redline archive")
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = conn
        try:
            command.upgrade(config, "head")
        except CommandError as exc:  # the archive was written by a Redline with migrations this one lacks
            raise ArchiveError(f"the archive's schema revision {revision} is unknown to this Redline "
                               f"(newest known: {HEAD_REVISION}); upgrade Redline to open it") from exc
    if key is not None:
        _current.add(key)


def _identity(engine: Engine) -> str | None:
    """What names one database for the migration cache; a SQLite file by its inode too, so a file
    deleted and made again is checked again (None: do not cache, e.g. an empty or in-memory file)."""
    url = engine.url.render_as_string(hide_password=False)
    if engine.url.get_backend_name() != "sqlite":
        return url
    try:
        found = os.stat(engine.url.database or "")
    except OSError:
        return None
    return f"{url}#{found.st_dev}:{found.st_ino}" if found.st_size else None
