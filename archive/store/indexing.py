"""The search index: every version a writing session inserts gets its words indexed in the same
transaction (a session hook, like the chain's), so search never misses a version that exists.

SQLite: an FTS5 table ``version_search`` without content (the words are only indexed; the text stays in
``versions``), its rowid the version's id. PostgreSQL: ``version_search(version_id, words tsvector)``
with a GIN index. Both created by migration 0014; words from :mod:`archive.text.words`.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, event, inspect, text
from sqlalchemy.orm import Session, sessionmaker

from archive.queries.reading import read_text
from archive.text.words import indexed

_PENDING = "redline-search-pending"
_INSERT = {"sqlite": text("INSERT INTO version_search (rowid, words) VALUES (:id, :words)"),
           "postgresql": text("INSERT INTO version_search (version_id, words) "
                              "VALUES (:id, to_tsvector('simple', :words))")}


def watch(sessions: sessionmaker[Session]) -> None:
    """Index every version these sessions insert, before their transaction commits."""
    event.listen(sessions, "after_flush", _collect)
    event.listen(sessions, "before_commit", _index_pending)
    event.listen(sessions, "after_transaction_end", _forget)


def index_versions(conn: Connection | Session, rows: list[tuple[int, str]]) -> None:
    """Index (version id, words) pairs."""
    if rows:
        bind = conn.connection() if isinstance(conn, Session) else conn
        bind.execute(_INSERT[bind.dialect.name], [{"id": i, "words": w} for i, w in rows])


def _collect(session: Session, _context: Any) -> None:
    from archive.schema import models as m

    found = [obj for obj in session.new if isinstance(obj, m.Version)]
    if found:
        session.info.setdefault(_PENDING, []).extend(found)


def _index_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.flush()
    pending = [v for v in session.info.pop(_PENDING, []) if inspect(v).persistent]
    index_versions(session, [(v.id, indexed(v.title, v.byline, read_text(session, v))) for v in pending])


def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
