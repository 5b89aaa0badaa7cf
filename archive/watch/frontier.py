"""The frontier: each tracked URL's next re-check (``tracked.due_at``, ``tracked.due_why``), kept current.

A capture, an import or a re-decision changes an article's check and change times; tracking changes a
URL's hint. Either way the affected tracked rows are worked out again (``archive.recheck.next_due``, with
the times the latest version states) in
the transaction that made the change, so what is due is read from the index ``ix_tracked_due`` in order,
never computed over every tracked row.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, event, select, update
from sqlalchemy.orm import Session, sessionmaker

from archive.schema import tables as t
from archive.watch.recheck import Policy, listed_update, next_due, stated

_TOUCHED = "redline_frontier_articles"
CHUNK = 500  # ids or URLs per IN (...): SQLite and psycopg cap bound parameters
TR, A, AU, S, V = t.tracked, t.articles, t.article_urls, t.schedules, t.versions


def refresh(conn: Connection, where: Any) -> int:
    """Work out again the due time of the tracked rows ``where`` selects; returns how many.

    One query: the latest version's stated times come by the unique (article, number) index."""
    query = (select(TR.c.id, TR.c.first_seen, TR.c.last_seen, TR.c.hint, TR.c.hint_seen, S.c.recheck, A.c.last_checked,
                    A.c.last_changed, A.c.first_seen.label("article_seen"), A.c.version_count, V.c.published,
                    V.c.updated, V.c.captured_at)
             .join(S, S.c.id == TR.c.schedule_id).outerjoin(AU, AU.c.url == TR.c.url)
             .outerjoin(A, A.c.id == AU.c.article_id)
             .outerjoin(V, (V.c.article_id == A.c.id) & (V.c.number == A.c.latest_version)).where(where))
    policies: dict[str | None, Policy] = {}
    values = []
    for r in conn.execute(query):
        policy = policies.get(r.recheck) or policies.setdefault(r.recheck, Policy.parse(r.recheck))
        due = next_due(policy, tracked_at=r.first_seen, listed_at=r.last_seen, hint=listed_update(r.hint, r.hint_seen),
                       last_checked=r.last_checked, last_changed=r.last_changed, first_seen=r.article_seen,
                       versions=r.version_count, stated=stated(r.published, r.updated, r.captured_at))
        values.append({"row": r.id, "at": due.at, "why": due.why})
    if values:
        conn.execute(update(TR).where(TR.c.id == bindparam("row"))
                     .values(due_at=bindparam("at"), due_why=bindparam("why")), values)
    return len(values)


def refresh_articles(conn: Connection, article_ids: Iterable[int]) -> None:
    """Work out again the due times of every tracked URL of these articles (any schedule)."""
    ids = sorted(set(article_ids))
    for start in range(0, len(ids), CHUNK):
        urls = select(AU.c.url).where(AU.c.article_id.in_(ids[start:start + CHUNK]))
        refresh(conn, TR.c.url.in_(urls))


def refresh_urls(conn: Connection, schedule_id: int, urls: Sequence[str]) -> None:
    """Work out again the due times of one schedule's tracked ``urls``."""
    for start in range(0, len(urls), CHUNK):
        refresh(conn, (TR.c.schedule_id == schedule_id) & TR.c.url.in_(urls[start:start + CHUNK]))


def watch(sessions: sessionmaker[Session]) -> None:
    """Keep the frontier current for every article these sessions change, before each commit."""
    event.listen(sessions, "after_flush", _collect)
    event.listen(sessions, "before_commit", _refresh_pending)
    event.listen(sessions, "after_transaction_end", _forget)


def _collect(session: Session, _context: Any) -> None:
    from archive.schema import models as m

    ids = {obj.id for obj in (*session.new, *session.dirty) if isinstance(obj, m.Article)}
    ids |= {obj.article_id for obj in session.new if isinstance(obj, m.ArticleURL)}
    if ids:
        session.info.setdefault(_TOUCHED, set()).update(ids)


def _refresh_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.flush()
    ids = session.info.pop(_TOUCHED, None)
    if ids:
        refresh_articles(session.connection(), ids)


def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_TOUCHED, None)
