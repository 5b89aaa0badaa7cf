"""Site-wide edits and learned templates, as the fronts show them.

A site-wide edit is one paragraph added to (or removed from) many articles of one site at once
(``archive.store.learning`` decides which); its versions are its members and carry the change kind
``site-wide``. The Changes page, feeds and alert digests show a group once ("added to 10 articles of
example.com"); :func:`site_wide` lists its members. :func:`archive.queries.rules.templates_among` says which learned site
template paragraphs skipped paragraphs of an article, and how to forget one.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, exists, func, select

from archive.errors import ArchiveError
from archive.queries.articles import short_ids
from archive.queries.common import A, Db, V, connected
from archive.schema import tables as t

G, M = t.site_edits, t.site_edit_members
M2 = M.alias("later")
# Versions that belong to a group; and those that are not its newest member (the Changes page shows
# a group once, at its newest member).
MEMBER_ROWS = select(M.c.version_id)
NOT_NEWEST = select(M.c.version_id).where(exists(select(M2.c.version_id).where(
    M2.c.site_edit_id == M.c.site_edit_id, M2.c.version_id > M.c.version_id)))


def label(action: str, articles: int, host: str) -> str:
    """How a site-wide edit is named everywhere.

    >>> label("added", 10, "example.com"), label("removed", 1, "example.com")
    ('added to 10 articles of example.com', 'removed from 1 article of example.com')
    """
    noun = "article" if articles == 1 else "articles"
    return f"{action} {'to' if action == 'added' else 'from'} {articles} {noun} of {host}"


@dataclass(frozen=True)
class SiteWide:
    """The site-wide edit a version belongs to: ``label`` reads "added to 10 articles of example.com"."""

    group: int
    action: str         # "added" or "removed"
    host: str
    text: str           # the paragraph (as compared: quotes and dashes unified)
    articles: int
    label: str


_COUNTED = M.alias("counted")
_GROUP = select(G.c.id, G.c.action, G.c.host, G.c.text, G.c.first_at,
                select(func.count()).where(_COUNTED.c.site_edit_id == G.c.id).scalar_subquery().label("articles"))


def _site_wide(row: object) -> SiteWide:
    return SiteWide(row.id, row.action, row.host, row.text, row.articles,  # type: ignore[attr-defined]
                    label(row.action, row.articles, row.host))  # type: ignore[attr-defined]


def groups_of(conn: Connection, rows: Iterable[int]) -> dict[int, SiteWide]:
    """The site-wide edit of each of these version rows (ids) that belongs to one (the first, if several)."""
    wanted = sorted(set(rows))
    if not wanted:
        return {}
    found: dict[int, SiteWide] = {}
    query = (_GROUP.add_columns(M.c.version_id).join(M, M.c.site_edit_id == G.c.id)
             .where(M.c.version_id.in_(wanted)).order_by(G.c.id))
    for row in conn.execute(query):
        found.setdefault(row.version_id, _site_wide(row))
    return found


@dataclass(frozen=True)
class SiteWideMember:
    """One article's version in a site-wide edit, with the version captured before it."""

    short_id: str
    url: str
    title: str | None
    version: int
    previous: int | None
    captured_at: datetime


@dataclass(frozen=True)
class SiteWideDetail:
    group: SiteWide
    first_at: datetime
    members: list[SiteWideMember]


def site_wide(db: Db, group: int) -> SiteWideDetail:
    """A site-wide edit and its member versions, newest capture first."""
    prev = V.alias("prev")
    previous = (select(prev.c.number).where(prev.c.article_id == V.c.article_id, prev.c.captured_at < V.c.captured_at)
                .order_by(prev.c.captured_at.desc(), prev.c.number.desc()).limit(1).correlate(V).scalar_subquery())
    with connected(db) as conn:
        row = conn.execute(_GROUP.where(G.c.id == group)).first()
        if row is None:
            raise ArchiveError(f"no site-wide edit {group}; see the Changes page with kind=site-wide")
        members = conn.execute(
            select(A.c.key, A.c.key_sha256, V.c.title, V.c.number, V.c.captured_at, previous.label("previous"))
            .join(V, V.c.id == M.c.version_id).join(A, A.c.id == V.c.article_id)
            .where(M.c.site_edit_id == group).order_by(V.c.captured_at.desc(), V.c.id.desc())).all()
        ids = short_ids(conn, {m.key_sha256 for m in members})
    return SiteWideDetail(_site_wide(row), row.first_at,
                          [SiteWideMember(ids[m.key_sha256], m.key, m.title, m.number, m.previous, m.captured_at)
                           for m in members])
