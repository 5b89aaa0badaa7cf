"""Screenshots of versions in the store: the durable "wanted" mark, the screenshot, or why there is none.

A crawl with screenshots on marks every version it records in the transaction that records it
(:func:`want`, a session hook like the chain's), so the version is written first, always, and a crash
before the picture is taken loses nothing: the mark stays until :func:`record` stores the screenshot or
:func:`failed` records a ``screenshot-failed`` event saying why, each in one transaction that also
removes the mark. Both rows go through the ORM session, so the chain's hook chains them.
"""
from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import delete, event, exists, select
from sqlalchemy.orm import Session, sessionmaker

from archive.clock import utcnow
from archive.errors import ArchiveError
from archive.schema import models as m
from archive.schema import tables as t
from archive.vocab import EventKind

_PENDING = "redline-screenshot-wanted"


def want(sessions: sessionmaker[Session], hosts: Collection[str] | None = None) -> None:
    """Mark every version these sessions insert as wanting a screenshot, in the same transaction; with
    ``hosts``, only the versions of articles on those sites (their ``redline site set --screenshot``)."""
    only = None if hosts is None else sorted(hosts)

    def mark_pending(session: Session) -> None:
        _mark_pending(session, only)

    event.listen(sessions, "after_flush", _collect)
    event.listen(sessions, "before_commit", mark_pending)
    event.listen(sessions, "after_transaction_end", _forget)


def _collect(session: Session, _context: Any) -> None:
    found = [obj for obj in session.new if isinstance(obj, m.Version)]
    if found:
        session.info.setdefault(_PENDING, []).extend(found)


def _mark_pending(session: Session, hosts: list[str] | None) -> None:
    if session.in_nested_transaction():
        return
    session.flush()
    ids = sorted({v.id for v in session.info.pop(_PENDING, [])})
    if ids and hosts is not None:
        on_sites = (select(t.versions.c.id).join(t.articles, t.articles.c.id == t.versions.c.article_id)
                    .where(t.versions.c.id.in_(ids), t.articles.c.host.in_(hosts)))
        ids = sorted(session.connection().scalars(on_sites))
    if ids:
        now = utcnow()
        session.connection().execute(t.screenshot_wanted.insert(), [{"version_id": i, "wanted_at": now} for i in ids])


def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def mark(sessions: sessionmaker[Session], article_id: int, number: int) -> None:
    """Mark version ``number`` of an article for a screenshot, unless it is marked already."""
    with sessions.begin() as session:
        version_id = session.scalar(select(m.Version.id).where(m.Version.article_id == article_id,
                                                              m.Version.number == number))
        if version_id is None:
            raise ArchiveError(f"the article has no version {number}; see 'redline log URL'")
        marked = select(t.screenshot_wanted.c.version_id).where(t.screenshot_wanted.c.version_id == version_id)
        if session.scalar(marked) is None:
            session.execute(t.screenshot_wanted.insert().values(version_id=version_id, wanted_at=utcnow()))


def mark_failed(sessions: sessionmaker[Session]) -> int:
    """Mark again every version whose screenshot failed (a ``screenshot-failed`` event on its fetch) and that
    still has none; how many were marked."""
    V, E, S, W = t.versions, t.events, t.screenshots, t.screenshot_wanted
    failed = (select(V.c.id).where(
        exists().where(E.c.fetch_id == V.c.fetch_id, E.c.kind == EventKind.SCREENSHOT_FAILED),
        ~exists().where(S.c.version_id == V.c.id), ~exists().where(W.c.version_id == V.c.id)))
    with sessions.begin() as session:
        ids = list(session.scalars(failed))
        if ids:
            now = utcnow()
            session.execute(W.insert(), [{"version_id": i, "wanted_at": now} for i in ids])
    return len(ids)


def record(sessions: sessionmaker[Session], version_id: int, image: bytes, taken_at: datetime,
           **how: Any) -> int:
    """Store a version's screenshot (``how``: format, width, height, page_height, seconds, made_how,
    subresources) and remove its mark; the new screenshot's id."""
    with sessions.begin() as session:
        version = session.get_one(m.Version, version_id)
        shot = m.Screenshot(article_id=version.article_id, version_id=version_id, taken_at=taken_at,
                            sha256=hashlib.sha256(image).hexdigest(), image=image, **how)
        session.add(shot)
        session.execute(delete(t.screenshot_wanted).where(t.screenshot_wanted.c.version_id == version_id))
        session.flush()
        return shot.id


def failed(sessions: sessionmaker[Session], version_id: int, reason: str) -> None:
    """Record why a version has no screenshot (a ``screenshot-failed`` event on its fetch) and remove its mark."""
    with sessions.begin() as session:
        version = session.get_one(m.Version, version_id)
        session.add(m.Event(article_id=version.article_id, fetch_id=version.fetch_id, at=utcnow(),
                            kind=EventKind.SCREENSHOT_FAILED, detail=f"version {version.number}: {reason}"))
        session.execute(delete(t.screenshot_wanted).where(t.screenshot_wanted.c.version_id == version_id))
