"""Full-text search over every version's title, byline and text (the index of archive.store.indexing).

``search(db, phrase, site=, since=, removed=, limit=)``: versions containing the phrase (its words, in
order, as archive.text.words splits them: no stemming, case and diacritics ignored, on both stores),
most recently recorded first. ``removed``: articles an earlier version of which contained the phrase
and whose latest version does not, each with the last version that did. Each hit carries the passage
around the first match, split into ``before``, ``match`` and ``after`` so a front can mark it safely.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, column, func, literal_column, select, table, text

from archive.errors import InvalidInput
from archive.queries.articles import short_ids
from archive.queries.common import A, Db, V, connected
from archive.queries.reading import read_text
from archive.text.words import WORD, words

CONTEXT = 90  # characters of text shown on each side of a match
_SQLITE_INDEX = table("version_search", column("rowid"), column("words"))
_PG_INDEX = table("version_search", column("version_id"), column("words"))


@dataclass(frozen=True)
class SearchHit:
    """One version containing the phrase, and the passage around its first match."""

    id: str                 # the article's short ID
    url: str
    version: int
    captured_at: datetime
    title: str | None
    field: str              # where the first match is: "title", "byline" or "text"
    before: str
    match: str
    after: str
    latest: bool            # the article's latest version (False: it has changed since)


def search(db: Db, phrase: str, *, site: str | None = None, since: datetime | None = None,
           removed: bool = False, limit: int = 50) -> list[SearchHit]:
    """Versions containing ``phrase``, newest first (``removed``: see the module's docstring)."""
    wanted = words(phrase)
    if not wanted:
        raise InvalidInput(f"nothing to search for in {phrase!r}; give a word or a phrase")
    with connected(db) as conn:
        ids = _matching(conn, wanted)
        query = (select(V.c.id, V.c.article_id, V.c.number, V.c.captured_at, V.c.title, V.c.byline, V.c.text_blob,
                        V.c.text_base, A.c.key, A.c.key_sha256,
                        func.coalesce(A.c.latest_version, A.c.version_count).label("latest"))
                 .join(A, A.c.id == V.c.article_id).where(V.c.id.in_(ids)))
        if site:
            query = query.where(A.c.host == site.lower())
        if since is not None:
            query = query.where(V.c.captured_at >= since)
        if removed:
            rows = _last_before_removal(conn.execute(query).all())[:limit]
        else:
            rows = conn.execute(query.order_by(V.c.id.desc()).limit(limit)).all()
        short = short_ids(conn, [r.key_sha256 for r in rows])
        return [_hit(conn, r, wanted, short[r.key_sha256]) for r in rows]


def _matching(conn: Connection, wanted: list[str]) -> Any:
    """A subquery of the ids of the versions whose indexed words contain ``wanted`` in order."""
    if conn.dialect.name == "postgresql":
        return (select(_PG_INDEX.c.version_id)
                .where(literal_column("words").op("@@")(func.phraseto_tsquery(text("'simple'"), " ".join(wanted)))))
    return select(_SQLITE_INDEX.c.rowid).where(text("version_search MATCH :phrase").bindparams(
        phrase='"' + " ".join(wanted) + '"'))


def _last_before_removal(rows: list[Row[Any]]) -> list[Row[Any]]:
    """Per article whose latest version is not among ``rows``: its newest row; newest first."""
    by_article: dict[int, Row[Any]] = {}
    matched: dict[int, set[int]] = {}
    for r in rows:
        matched.setdefault(r.article_id, set()).add(r.number)
        if r.article_id not in by_article or r.number > by_article[r.article_id].number:
            by_article[r.article_id] = r
    gone = [r for a, r in by_article.items() if r.latest not in matched[a]]
    return sorted(gone, key=lambda r: r.id, reverse=True)


def _hit(conn: Connection, r: Row[Any], wanted: list[str], short_id: str) -> SearchHit:
    fields = (("title", r.title or ""), ("byline", r.byline or ""), ("text", None))
    for name, value in fields:
        value = read_text(conn, r) if value is None else value
        span = find(value, wanted)
        if span is not None:
            start, end = span
            lead = max(0, value.rfind(" ", 0, max(0, start - CONTEXT)) + 1) if start > CONTEXT else 0
            tail = value.find(" ", end + CONTEXT)
            tail = len(value) if tail == -1 else tail
            before = ("…" if lead else "") + value[lead:start]
            after = value[end:tail] + ("…" if tail < len(value) else "")
            return SearchHit(short_id, r.key, r.number, r.captured_at, r.title, name, before, value[start:end],
                             after, r.number == r.latest)
    return SearchHit(short_id, r.key, r.number, r.captured_at, r.title, "text", "", "", "", r.number == r.latest)


def find(value: str, wanted: list[str]) -> tuple[int, int] | None:
    """The span of the first run of words in ``value`` that reads as ``wanted``.

    >>> find("The city banned E-Scooters on Monday.", ["e", "scooters"])
    (16, 26)
    >>> find("Café owners", ["cafe", "owners"]), find("no match", ["x"])
    ((0, 11), None)
    """
    spans = [(m.start(), m.end(), w) for m in WORD.finditer(value)
             for w in ([m.group().lower()] if m.group().isascii() else words(m.group())[:1])]
    size = len(wanted)
    for i in range(len(spans) - size + 1):
        if [w for *_, w in spans[i:i + size]] == wanted:
            return spans[i][0], spans[i + size - 1][1]
    return None
