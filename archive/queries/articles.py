"""Articles: lookup by URL or short ID, short IDs, and the list of articles."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Row, and_, bindparam, func, or_, select

from archive.errors import ArchiveError, InvalidInput
from archive.queries.common import AU, A, Db, Page, V, connected, cursor_values, make_page, parse_when
from archive.text.normalize import BadURL, url_key
from archive.vocab import ArticleStatus


@dataclass
class ArticleRef:
    """An archived article as the lookup finds it; ``url`` is its key (normalized first URL)."""

    id: int
    url: str
    host: str
    status: ArticleStatus
    version_count: int
    latest: int | None          # the version the article is in now: the one captured last
    key_sha256: str | None = None  # its short ID is a prefix of this (``short_ids``)
    canonical_url: str | None = None  # the URL key its latest version's canonical link names


_LATEST = func.coalesce(A.c.latest_version, A.c.version_count)
REF = select(A.c.id, A.c.key, A.c.host, A.c.status, A.c.version_count, _LATEST.label("latest"), A.c.key_sha256,
             A.c.canonical_url)
_BY_URL = REF.join(AU, AU.c.article_id == A.c.id).where(AU.c.url == bindparam("key"))
_VALIDATORS = select(AU.c.last_body_sha256, AU.c.etag, AU.c.last_modified).where(AU.c.url == bindparam("key"))


def ref_of(row: Row[Any]) -> ArticleRef:
    """An ArticleRef from a row of ``REF``."""
    return ArticleRef(row.id, row.key, row.host, ArticleStatus(row.status), *row[4:])


SHORT_ID = 10          # hex digits of a short ID, more when two articles share them
_ID = re.compile(r"[0-9a-f]{6,64}")
_BY_ID = REF.where(A.c.key_sha256 >= bindparam("low"), A.c.key_sha256 < bindparam("high")).limit(2)


def is_short_id(text: str) -> bool:
    """Whether ``text`` is written as an article ID (6 to 64 hex digits) rather than a URL.

    >>> is_short_id("5bd48fa661"), is_short_id("https://example.com/a")
    (True, False)
    """
    return bool(_ID.fullmatch(text.strip().lower()))


def lookup(db: Any, url: str) -> ArticleRef | None:
    """The article any of whose URLs (requested or redirected to) has the same key as ``url``; or, when
    ``url`` is an article ID (a prefix of the sha256 of its key), the article it names. A canonical link
    never names an article: a copy's canonical URL finds the copy's original only if that was fetched.

    ``db`` is an Engine, a Connection or an ORM Session; raises ``BadURL`` for a non-http(s) URL
    and ``AmbiguousID`` for an ID prefix that two articles share.
    """
    if isinstance(db, Engine):
        with db.connect() as conn:
            return lookup(conn, url)
    if is_short_id(url):
        prefix = url.strip().lower()
        rows = db.execute(_BY_ID, {"low": prefix, "high": prefix + "g"}).all()  # "g" sorts after every hex digit
        if len(rows) > 1:
            raise AmbiguousID(f"article ID {prefix} names more than one article; give more digits "
                              "(see 'redline list')")
        row = rows[0] if rows else None
    else:
        row = db.execute(_BY_URL, {"key": url_key(url)}).first()
    return ref_of(row) if row else None


def validators(db: Db, url: str) -> tuple[str | None, str | None, str | None]:
    """(body sha256, ETag, Last-Modified) of the last good capture requested at ``url`` itself (never
    another URL's: a copy's validators on the original's request would make it answer 304)."""
    with connected(db) as conn:
        row = conn.execute(_VALIDATORS, {"key": url_key(url)}).first()
    return (row.last_body_sha256, row.etag, row.last_modified) if row else (None, None, None)


class AmbiguousID(ArchiveError):
    """An article ID prefix that more than one article shares."""


def article(db: Any, url: str) -> ArticleRef:
    """The archived article for ``url`` (or article ID), or an ArchiveError that says what to do."""
    if any(c.isspace() for c in url.strip()):  # no URL holds whitespace: a mangled paste, not a missing article
        raise InvalidInput(f"URL {url.strip()!r} contains whitespace; give the article's URL or its ID from "
                           "'redline list'")
    try:
        found = lookup(db, url)
    except BadURL as exc:
        raise InvalidInput(f"{exc}; give the article's http(s) URL or its ID from 'redline list'") from exc
    if found is None:
        what = "article ID" if is_short_id(url) else "archived article for"
        copies = [] if is_short_id(url) else _copies_of(db, [url_key(url)], None)
        hint = f"; copies of it are archived: {', '.join(copies)}" if copies else ""
        raise ArchiveError(f"no {what} {url}{hint}; see 'redline list'")
    return found


@dataclass
class Related:
    """How an article relates to copies at other URLs, by canonical links (never merged with them):
    ``copy_of`` is the URL its canonical link names when that is none of its own URLs; ``also_published_at``
    are the articles whose canonical link names one of its URLs."""

    copy_of: str | None
    also_published_at: list[str]


def related(db: Db, ref: ArticleRef) -> Related:
    """The copies an article is related to (see ``Related``)."""
    with connected(db) as conn:
        own = list(conn.scalars(select(AU.c.url).where(AU.c.article_id == ref.id))) or [ref.url]
        copy_of = ref.canonical_url if ref.canonical_url and ref.canonical_url not in own else None
        return Related(copy_of, _copies_of(conn, own, ref.id))


def _copies_of(db: Any, keys: list[str], article_id: int | None) -> list[str]:
    """The keys of the articles (other than ``article_id``) whose canonical link names one of ``keys``."""
    if isinstance(db, Engine):
        with db.connect() as conn:
            return _copies_of(conn, keys, article_id)
    query = select(A.c.key).where(A.c.canonical_url.in_(keys)).order_by(A.c.key)
    if article_id is not None:
        query = query.where(A.c.id != article_id)
    return list(db.scalars(query))


def short_id(db: Db, ref: ArticleRef) -> str:
    """The short ID to show for an article (``short_ids`` for one)."""
    return short_ids(db, [ref.key_sha256 or ""])[ref.key_sha256 or ""]


def short_ids(db: Db, hashes: Iterable[str]) -> dict[str, str]:
    """Each article key's sha256 mapped to its short ID: its first ``SHORT_ID`` hex digits, or as many
    more as it takes to tell it from every other article (like a git short hash)."""
    wanted = set(hashes)
    prefixes = {h[:SHORT_ID] for h in wanted if h}
    others: dict[str, list[str]] = {}
    if prefixes:  # one indexed range per prefix: "g" sorts after every hex digit
        ranges = or_(*[and_(A.c.key_sha256 >= p, A.c.key_sha256 < p + "g") for p in sorted(prefixes)])
        with connected(db) as conn:
            for full in conn.scalars(select(A.c.key_sha256).where(ranges)):
                others.setdefault(full[:SHORT_ID], []).append(full)
    found = {}
    for full in wanted:
        length = SHORT_ID
        for other in others.get(full[:SHORT_ID], []):
            if other != full:
                common = next((i for i, (a, b) in enumerate(zip(full, other)) if a != b), len(full))
                length = max(length, common + 1)
        found[full] = full[:length]
    return found


def search_clause(text: str, *columns: Any) -> Any:
    """Any of ``columns`` holds ``text``, case-insensitively, with no wildcards of its own."""
    return or_(*(c.icontains(text, autoescape=True) for c in columns))


@dataclass
class ArticleSummary:
    """One line of ``list``: the article, its latest title and its dates."""

    url: str
    title: str | None
    status: ArticleStatus
    versions: int
    first_seen: datetime
    last_checked: datetime | None
    last_changed: datetime | None
    id: int
    host: str = ""
    short_id: str = ""          # what every command accepts in place of the URL (``short_ids``)


def list_articles(db: Db, *, changed_since: datetime | None = None, status: str | None = None,
                  site: str | None = None, search: str | None = None, limit: int | None = None,
                  after: str | None = None) -> Page[ArticleSummary]:
    """Articles, most recently changed first (never-changed last), optionally filtered and paged;
    ``search`` looks in the latest title and the URL. A URL whose every fetch failed (404, 5xx, no answer)
    has no version and is no article here ('log URL' shows its events)."""
    latest = (select(V.c.article_id, V.c.title)
              .join(A, (A.c.id == V.c.article_id) & (V.c.number == _LATEST)).subquery())
    query = (select(A.c.key, latest.c.title, A.c.status, A.c.version_count, A.c.first_seen, A.c.last_checked,
                    A.c.last_changed, A.c.id, A.c.host, A.c.key_sha256)
             .outerjoin(latest, latest.c.article_id == A.c.id)
             .where(A.c.version_count > 0)
             .order_by(A.c.last_changed.desc().nulls_last(), A.c.id))
    if changed_since is not None:
        query = query.where(A.c.last_changed >= changed_since)
    if status is not None:
        query = query.where(A.c.status == ArticleStatus(status))
    if site:
        query = query.where(A.c.host == site)
    if search:
        query = query.where(search_clause(search, latest.c.title, A.c.key))
    if after is not None:
        changed, last_id = cursor_values(after, parse_when, int)
        query = query.where(or_(A.c.last_changed < changed, A.c.last_changed.is_(None),
                                and_(A.c.last_changed == changed, A.c.id > last_id)) if changed is not None
                            else and_(A.c.last_changed.is_(None), A.c.id > last_id))
    if limit is not None:
        query = query.limit(limit + 1)
    with connected(db) as conn:
        found = conn.execute(query).all()
        ids = short_ids(conn, [r.key_sha256 for r in found])
        rows = [ArticleSummary(r.key, r.title, ArticleStatus(r.status), *r[3:9], ids[r.key_sha256]) for r in found]
    return make_page(rows, limit, lambda a: (a.last_changed.isoformat() if a.last_changed else None, a.id))
