"""Read-only queries behind the view commands, returning JSON-ready dicts.

``list``, ``log``, ``show`` and ``diff`` are what people run and wait for: they use
plain table queries on the Core tables and never import ``sqlalchemy.orm`` (its import
and mapper set-up cost more than the queries), and ``log`` reads only the columns it
shows and imports neither the text reader nor the differ.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, Row, bindparam, func, select

from archive import tables as t
from archive.db import ArchiveError
from archive.normalize import BadURL, url_key

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from archive.models import Article

ARTICLES, ARTICLE_URLS, VERSIONS, EVENTS = t.articles, t.article_urls, t.versions, t.events


def iso(value: datetime | None) -> str | None:
    """ISO 8601 UTC with a Z, to the second."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def article_for(session: Session, url: str) -> Article:
    """The archived article for a URL, or an error that says what to do (for ORM callers such as export)."""
    from archive.store import find_article

    try:
        article = find_article(session, url)
    except BadURL as exc:
        raise ArchiveError(f"{exc}; give the article's http(s) URL") from exc
    if article is None:
        raise ArchiveError(f"no archived article for {url}; see 'redline list'")
    return article


def _article_row(conn: Connection, url: str) -> Row[Any]:
    """The archived article (id, key, host, status, version_count) for a URL, or an error that says what to do."""
    try:
        key = {"key": url_key(url)}
    except BadURL as exc:
        raise ArchiveError(f"{exc}; give the article's http(s) URL") from exc
    found = conn.execute(_ARTICLE_BY_URL, key).first() or conn.execute(_ARTICLE_BY_CANONICAL, key).first()
    if found is None:
        raise ArchiveError(f"no archived article for {url}; see 'redline list'")
    return found


_ARTICLE = select(ARTICLES.c.id, ARTICLES.c.key, ARTICLES.c.host, ARTICLES.c.status, ARTICLES.c.version_count,
                  func.coalesce(ARTICLES.c.latest_version, ARTICLES.c.version_count).label("latest"))
_ARTICLE_BY_URL = (_ARTICLE.join(ARTICLE_URLS, ARTICLE_URLS.c.article_id == ARTICLES.c.id)
                   .where(ARTICLE_URLS.c.url == bindparam("key")))
_ARTICLE_BY_CANONICAL = _ARTICLE.where(ARTICLES.c.canonical_url == bindparam("key")).limit(1)


def version_of(conn: Connection, article: Row[Any], number: int | None, url: str) -> Row[Any]:
    """Version ``number`` (the latest, the one captured last, when None); negative numbers count back
    from the highest number."""
    count = article.version_count
    if count == 0:
        raise ArchiveError(f"{url} has no versions yet (status: {article.status}); see 'redline log {url}'")
    wanted = article.latest if number is None else (count + 1 + number if number < 0 else number)
    if not 1 <= wanted <= count:
        raise ArchiveError(f"no version {number} of {url}; it has versions 1 to {count}")
    return conn.execute(_VERSION, {"article": article.id, "number": wanted}).one()


_VERSION = select(VERSIONS).where(VERSIONS.c.article_id == bindparam("article"),
                                  VERSIONS.c.number == bindparam("number"))
# The version captured just before another (a version 'renoise' recovered sits at its capture time).
_CAPTURED_BEFORE = (select(VERSIONS).where(VERSIONS.c.article_id == bindparam("article"),
                                           (VERSIONS.c.captured_at < bindparam("at"))
                                           | ((VERSIONS.c.captured_at == bindparam("at"))
                                              & (VERSIONS.c.number < bindparam("number"))))
                    .order_by(VERSIONS.c.captured_at.desc(), VERSIONS.c.number.desc()).limit(1))


def list_articles(engine: Engine, changed_since: datetime | None = None) -> list[dict[str, Any]]:
    """Every article with its status and version count, most recently changed first."""
    latest = (select(VERSIONS.c.article_id, VERSIONS.c.title)
              .join(ARTICLES, (ARTICLES.c.id == VERSIONS.c.article_id)
                    & (VERSIONS.c.number == func.coalesce(ARTICLES.c.latest_version, ARTICLES.c.version_count)))
              .subquery())
    query = (select(ARTICLES.c.key, ARTICLES.c.status, ARTICLES.c.version_count, ARTICLES.c.first_seen,
                    ARTICLES.c.last_checked, ARTICLES.c.last_changed, latest.c.title)
             .outerjoin(latest, latest.c.article_id == ARTICLES.c.id)
             .order_by(ARTICLES.c.last_changed.desc().nulls_last(), ARTICLES.c.id))
    if changed_since is not None:
        query = query.where(ARTICLES.c.last_changed >= changed_since)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [{"url": a.key, "title": a.title, "status": a.status, "versions": a.version_count,
             "first_seen": iso(a.first_seen), "last_checked": iso(a.last_checked),
             "last_changed": iso(a.last_changed)} for a in rows]


def log(engine: Engine, url: str, detail: bool = False) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(versions in capture order, events oldest first) for one article. With ``detail``, each version also
    says which date signal gave its update time and, in its change, when ``renoise`` recovered it."""
    with engine.connect() as conn:
        article = {"article": _article_row(conn, url).id}
        versions = conn.execute(_LOG_VERSIONS, article).all()
        events = conn.execute(_LOG_EVENTS, article).all()
    return [_log_entry(v, detail) for v in versions], [
        {"event": e.kind, "at": iso(e.at), "detail": e.detail} for e in events]


def fetch_log(engine: Engine, url: str) -> list[dict[str, Any]]:
    """Every fetch of one article, oldest first, with its outcome and the changed paragraphs that noise
    rules skipped (``noise``: change, text and rule of each), so the rules can be audited."""
    with engine.connect() as conn:
        rows = conn.execute(_LOG_FETCHES, {"article": _article_row(conn, url).id}).all()
    return [{"fetch": r.outcome, "at": iso(r.fetched_at), "status": r.status, "url": r.final_url or r.url,
             "body_sha256": r.body_sha256, "noise": r.noise or []} for r in rows]


_LOG_FETCHES = (select(t.fetches.c.outcome, t.fetches.c.fetched_at, t.fetches.c.status, t.fetches.c.url,
                       t.fetches.c.final_url, t.fetches.c.body_sha256, t.fetches.c.noise)
                .where(t.fetches.c.article_id == bindparam("article")).order_by(t.fetches.c.fetched_at, t.fetches.c.id))


_LOG_VERSIONS = (select(*(VERSIONS.c[name] for name in (
    "number", "captured_at", "title", "published", "updated", "words", "change_kinds", "added_words",
    "removed_words", "declared", "reverts_to", "drift", "recovered_at", "updated_signal")))
    .where(VERSIONS.c.article_id == bindparam("article")).order_by(VERSIONS.c.captured_at, VERSIONS.c.number))
_LOG_EVENTS = (select(EVENTS.c.kind, EVENTS.c.at, EVENTS.c.detail).where(EVENTS.c.article_id == bindparam("article"))
               .order_by(EVENTS.c.at, EVENTS.c.id))


def _log_entry(v: Any, detail: bool) -> dict[str, Any]:
    change = None
    if v.number > 1:
        change = {"kinds": v.change_kinds or [], "added_words": v.added_words, "removed_words": v.removed_words,
                  "declared": bool(v.declared), "stealth": not v.declared and _edits_text(v),
                  "reverts_to": v.reverts_to, "extractor_drift": v.drift}
        if detail or v.recovered_at:  # the text log always marks a recovered version
            change["recovered_at"] = iso(v.recovered_at)
    entry = {"version": v.number, "captured_at": iso(v.captured_at), "title": v.title, "published": v.published,
             "updated": v.updated, "words": v.words, "change": change}
    return {**entry, "updated_signal": v.updated_signal} if detail else entry


def _edits_text(v: Any) -> bool:
    return bool(set(v.change_kinds or []) - {"declared-update-only"}) and not v.drift


def show(engine: Engine, url: str, number: int | None) -> dict[str, Any]:
    """One version in full."""
    from archive.reading import read_text

    with engine.connect() as conn:
        article = _article_row(conn, url)
        v = version_of(conn, article, number, url)
        return {"url": article.key, "version": v.number, "captured_at": iso(v.captured_at), "title": v.title,
                "byline": v.byline, "published": v.published, "updated": v.updated, "site_name": v.site_name,
                "language": v.language, "canonical_url": v.canonical_url, "description": v.description,
                "extractor": v.extractor, "sha256": v.text_sha256, "words": v.words,
                "text": read_text(conn, v)}


def diff(engine: Engine, url: str, old: int | None, new: int | None, with_noise: bool = False) -> dict[str, Any]:
    """Two versions and the word-level operations between them (default: previous → latest).

    Noise paragraphs (counters, teasers, template blocks) are left out unless ``with_noise``.
    """
    from archive.diff import changes, word_ops
    from archive.reading import SiteNoise, read_text

    with engine.connect() as conn:
        article = _article_row(conn, url)
        if old is None and new is None:
            if article.version_count < 2:
                raise ArchiveError(f"{url} has only {article.version_count} version(s); nothing to diff yet")
            b = version_of(conn, article, None, url)
            a = conn.execute(_CAPTURED_BEFORE, {"article": article.id, "at": b.captured_at, "number": b.number}).first()
            a = a or version_of(conn, article, -2, url)
        else:
            a, b = version_of(conn, article, old, url), version_of(conn, article, new, url)
        old_text, new_text = read_text(conn, a), read_text(conn, b)
        if not with_noise:
            noise = SiteNoise(conn, article.host)
            old_text, new_text = noise.significant_text(old_text, a), noise.significant_text(new_text, b)
        ops = word_ops(old_text, new_text)
        return {"url": article.key, "from": a.number, "to": b.number,
                "from_captured_at": iso(a.captured_at), "to_captured_at": iso(b.captured_at),
                "title": {"old": a.title, "new": b.title}, "changes": changes(ops),
                "_ops": ops, "_old_text": old_text, "_new_text": new_text}

