"""An article's history: its versions, events and fetches, the changes across the archive, one version's text."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Text, and_, bindparam, cast, func, or_, select

from archive.errors import ArchiveError
from archive.queries.articles import ArticleRef, article, related, search_clause, short_ids
from archive.queries.common import A, Db, E, Page, V, connected, cursor_values, make_page, parse_when
from archive.queries.sitewide import MEMBER_ROWS, NOT_NEWEST, SiteWide, groups_of
from archive.schema import tables as t
from archive.text.stamps import RETIRED_SIGNALS
from archive.vocab import TEXT_EDITS, ChangeKind, EventKind


@dataclass
class ChangeSummary:
    """How a version differs from the one before it."""

    kinds: list[ChangeKind]
    added_words: int | None
    removed_words: int | None
    declared: bool
    stealth: bool               # the text changed, the update time the page states did not move (never on a
                                # version fetched from another URL: that is no edit of this article)
    reverts_to: int | None      # an earlier version this one is identical to (a flip-flop)
    extractor_drift: bool       # the extractor changed, not the publisher
    against_other_url: bool = False  # measured against a version an older Redline merged in from another URL
    undeclared: bool = False    # the text changed on a page that states no update time (nothing could move)
    site_wide: SiteWide | None = None  # the site-wide edit this version is one of (kind ``site-wide``)


@dataclass
class VersionEntry:
    """One version in an article's history; ``change`` is None for version 1."""

    version: int
    captured_at: datetime
    title: str | None
    published: str | None
    updated: str | None
    words: int
    change: ChangeSummary | None
    updated_signal: str | None = None   # which of the page's date signals gave ``updated``
    recovered_at: datetime | None = None  # set when ``renoise`` recovered this version after the fact
    fetched_url: str | None = None      # the URL its capture was fetched from (after redirects)
    from_other_url: bool = False        # merged from another URL by a Redline before revision 0010


@dataclass
class EventEntry:
    """One fetch event in an article's history."""

    event: EventKind
    at: datetime
    detail: str | None
    id: int


@dataclass
class Log:
    """An article's versions and fetch events, each oldest first."""

    article: ArticleRef
    versions: list[VersionEntry]
    events: list[EventEntry]


_LOG_COLUMNS = ("number", "captured_at", "title", "published", "updated", "words", "change_kinds",
                "added_words", "removed_words", "declared", "reverts_to", "drift", "updated_signal", "recovered_at",
                "from_other_url", "against_other_url")
F = t.fetches
# The URL a version's capture was fetched from: where the request ended, after redirects.
FETCHED_URL = func.coalesce(F.c.final_url, F.c.url).label("fetched_url")
WITH_FETCH = V.outerjoin(F, F.c.id == V.c.fetch_id)
_EDITS_TEXT = and_(V.c.change_kinds.is_not(None), ~V.c.drift, V.c.from_other_url.is_not(True),
                   V.c.against_other_url.is_not(True),
                   or_(*(cast(V.c.change_kinds, Text).contains(f'"{kind}"') for kind in TEXT_EDITS)))
# The page states an update time (not one an earlier release guessed with a retired heuristic).
_STATES_UPDATE = and_(V.c.updated.is_not(None),
                      or_(V.c.updated_signal.is_(None), V.c.updated_signal.not_in(sorted(RETIRED_SIGNALS))))
_STEALTH = and_(V.c.number > 1, ~V.c.declared, _EDITS_TEXT, _STATES_UPDATE)


def versions(db: Db, url: str, *, stealth: bool = False, declared: bool = False, limit: int | None = None,
             after: str | None = None) -> Page[VersionEntry]:
    """An article's versions in capture order (a version ``renoise`` recovered sits at its capture time);
    with ``stealth`` or ``declared``, only such changes."""
    with connected(db) as conn:
        return _versions(conn, article(conn, url), stealth, declared, limit, after)


def _versions(conn: Connection, ref: ArticleRef, stealth: bool, declared: bool, limit: int | None,
              after: str | None) -> Page[VersionEntry]:
    query = (select(*(V.c[name] for name in _LOG_COLUMNS), FETCHED_URL, V.c.id.label("row")).select_from(WITH_FETCH)
             .where(V.c.article_id == ref.id).order_by(V.c.captured_at, V.c.number))
    wanted = []
    if stealth:
        wanted.append(_STEALTH)  # declared None: not known (an import)
    if declared:
        wanted.append(and_(V.c.number > 1, V.c.declared))
    if wanted:
        query = query.where(or_(*wanted))
    if after is not None:
        at, number = cursor_values(after, parse_when, int)
        query = query.where(or_(V.c.captured_at > at, and_(V.c.captured_at == at, V.c.number > number)))
    if limit is not None:
        query = query.limit(limit + 1)
    rows = conn.execute(query).all()
    groups = groups_of(conn, (v.row for v in rows))
    return make_page([version_entry(v, groups.get(v.row)) for v in rows], limit,
                     lambda v: (v.captured_at.isoformat(), v.version))


def version_entry(v: Row[Any], site_wide: SiteWide | None = None) -> VersionEntry:
    """A version row as the views show it; a member of a site-wide edit has the kind ``site-wide`` (the
    group is its own record: the version's stored kinds are what comparing it with the one before found)."""
    change = None
    if v.number > 1:
        kinds = [ChangeKind(k) for k in v.change_kinds or []]
        other = bool(v.from_other_url or v.against_other_url)  # no edit of this article's own page
        edits = (v.declared is False and bool(set(kinds) - {ChangeKind.DECLARED_UPDATE_ONLY}) and not v.drift
                 and not other)
        states = v.updated is not None and v.updated_signal not in RETIRED_SIGNALS
        if site_wide is not None:
            kinds.append(ChangeKind.SITE_WIDE)
        change = ChangeSummary(kinds, v.added_words, v.removed_words, bool(v.declared), edits and states,
                               v.reverts_to, v.drift, bool(v.against_other_url), edits and not states, site_wide)
    return VersionEntry(v.number, v.captured_at, v.title, v.published, v.updated, v.words, change,
                        v.updated_signal, v.recovered_at, v.fetched_url, bool(v.from_other_url))


def events(db: Db, url: str, *, limit: int | None = None, after: str | None = None) -> Page[EventEntry]:
    """An article's fetch events, oldest first."""
    with connected(db) as conn:
        return _events(conn, article(conn, url), limit, after)


def _events(conn: Connection, ref: ArticleRef, limit: int | None, after: str | None) -> Page[EventEntry]:
    query = select(E.c.kind, E.c.at, E.c.detail, E.c.id).where(E.c.article_id == ref.id).order_by(E.c.at, E.c.id)
    if after is not None:
        at, last_id = cursor_values(after, parse_when, int)
        query = query.where(or_(E.c.at > at, and_(E.c.at == at, E.c.id > last_id)))
    if limit is not None:
        query = query.limit(limit + 1)
    rows = [EventEntry(EventKind(e.kind), e.at, e.detail, e.id) for e in conn.execute(query)]
    return make_page(rows, limit, lambda e: (e.at.isoformat(), e.id))


@dataclass(frozen=True)
class FetchEntry:
    """One fetch of an article, whatever it led to, with the changed paragraphs that noise rules skipped
    (``noise``: ``{"change": "added"|"removed", "text", "rule"}`` each), so the rules can be audited."""

    outcome: str
    at: datetime
    status: int | None
    url: str
    body_sha256: str | None
    noise: list[dict[str, str]]
    render_stamps: list[dict[str, str | None]] = field(default_factory=list)  # see archive.text.stamps
    reason: str | None = None  # why it failed: the download's error, or why a page answered gave no article


def fetches(db: Db, url: str) -> list[FetchEntry]:
    """Every fetch of an article, oldest first, with the render stamps it recorded."""
    F, RS = t.fetches, t.render_stamps
    with connected(db) as conn:
        ref = article(conn, url)
        rows = conn.execute(select(F.c.outcome, F.c.fetched_at, F.c.status, F.c.url, F.c.final_url, F.c.body_sha256,
                                   F.c.noise, F.c.id, F.c.error).where(F.c.article_id == ref.id)
                            .order_by(F.c.fetched_at, F.c.id)).all()
        stamps: dict[int, list[dict[str, str | None]]] = {}
        for s in conn.execute(select(RS.c.fetch_id, RS.c.signal, RS.c.at, RS.c.declared)
                              .join(F, F.c.id == RS.c.fetch_id).where(F.c.article_id == ref.id).order_by(RS.c.id)):
            stamps.setdefault(s.fetch_id, []).append({"signal": s.signal, "at": s.at, "declared": s.declared})
        return [FetchEntry(r.outcome, r.fetched_at, r.status, r.final_url or r.url, r.body_sha256, r.noise or [],
                           stamps.get(r.id, []), r.error) for r in rows]


def log(db: Db, url: str) -> Log:
    """An article with all its versions and all its fetch events."""
    with connected(db) as conn:
        ref = article(conn, url)
        return Log(ref, _versions(conn, ref, False, False, None, None).items, _events(conn, ref, None, None).items)


@dataclass
class ChangeEntry:
    """One version in the archive-wide listing of changes, with its article and the number of the
    version captured just before it (``previous``, None for a first capture), its diff's other side."""

    article_id: int
    url: str
    host: str
    entry: VersionEntry
    previous: int | None
    short_id: str = ""          # the article's ID, as every command and the web view's links take it


def _changes_query() -> Any:
    """Versions newest first, each with its article and the number of the version captured before it."""
    prev = V.alias("prev")
    previous = (select(prev.c.number)
                .where(prev.c.article_id == V.c.article_id,
                       or_(prev.c.captured_at < V.c.captured_at,
                           and_(prev.c.captured_at == V.c.captured_at, prev.c.number < V.c.number)))
                .order_by(prev.c.captured_at.desc(), prev.c.number.desc()).limit(1).correlate(V).scalar_subquery())
    return (select(*(V.c[name] for name in _LOG_COLUMNS), FETCHED_URL, A.c.id.label("article"), A.c.key, A.c.host,
                   V.c.id.label("row"), previous.label("previous"), A.c.key_sha256)
            .select_from(WITH_FETCH).join(A, A.c.id == V.c.article_id)
            .order_by(V.c.captured_at.desc(), V.c.id.desc()))


_CHANGES = _changes_query()


def changes(db: Db, *, site: str | None = None, kinds: Sequence[str] = (), stealth: bool = False,
            declared: bool = False, since: datetime | None = None, until: datetime | None = None,
            search: str | None = None, article_id: int | None = None, limit: int | None = None,
            after: str | None = None, grouped: bool = False) -> Page[ChangeEntry]:
    """Versions across the archive, newest capture first, filtered and paged in one query.

    ``kinds``: any of these change kinds; ``stealth`` / ``declared`` as in ``versions``; ``since`` and
    ``until``: capture time in [since, until); ``search``: in the version's title or the article's URL.
    ``grouped``: a site-wide edit once, at its newest member (its ``change.site_wide`` names the group).
    """
    try:
        wanted_kinds = [ChangeKind(k) for k in kinds]
    except ValueError as exc:
        raise ArchiveError(f"unknown change kind; use one of {', '.join(ChangeKind)}") from exc
    query = _CHANGES
    conditions = []
    if site:
        conditions.append(A.c.host == site)
    if wanted_kinds:
        conditions.append(or_(*(V.c.id.in_(MEMBER_ROWS) if k is ChangeKind.SITE_WIDE
                                else cast(V.c.change_kinds, Text).contains(f'"{k}"') for k in wanted_kinds)))
    if grouped:
        conditions.append(V.c.id.not_in(NOT_NEWEST))
    kept = ([_STEALTH] if stealth else []) + \
        ([and_(V.c.number > 1, V.c.declared)] if declared else [])
    if kept:
        conditions.append(or_(*kept))
    if since is not None:
        conditions.append(V.c.captured_at >= since)
    if until is not None:
        conditions.append(V.c.captured_at < until)
    if search:
        conditions.append(search_clause(search, V.c.title, A.c.key))
    if article_id is not None:
        conditions.append(V.c.article_id == article_id)
    if after is not None:
        at, row = cursor_values(after, parse_when, int)
        conditions.append(or_(V.c.captured_at < at, and_(V.c.captured_at == at, V.c.id < row)))
    query = query.where(*conditions)
    if limit is not None:
        query = query.limit(limit + 1)
    with connected(db) as conn:
        rows = conn.execute(query).all()
        page = make_page(rows, limit, lambda r: (r.captured_at.isoformat(), r.row))
        ids = short_ids(conn, {r.key_sha256 for r in page.items})
        groups = groups_of(conn, (r.row for r in page.items))
    return Page([ChangeEntry(r.article, r.key, r.host, version_entry(r, groups.get(r.row)), r.previous,
                             ids[r.key_sha256])
                 for r in page.items], page.next)


@dataclass
class VersionDetail:
    """One version in full: its metadata and its text."""

    url: str
    version: int
    captured_at: datetime
    title: str | None
    byline: str | None
    published: str | None
    updated: str | None
    site_name: str | None
    language: str | None
    canonical_url: str | None
    description: str | None
    extractor: str
    sha256: str
    words: int
    text: str
    fetched_url: str | None = None      # the URL its capture was fetched from (after redirects)
    from_other_url: bool = False        # merged from another URL by a Redline before revision 0010
    copy_of: str | None = None          # the article's relations to copies at other URLs (``related``)
    also_published_at: list[str] = field(default_factory=list)


def version_row(conn: Connection, ref: ArticleRef, number: int | None, url: str) -> Row[Any]:
    """Version ``number`` (the latest, the one captured last, when None); negative numbers count back
    from the highest number."""
    count = ref.version_count
    if count == 0:
        raise ArchiveError(f"{url} has no versions yet (status: {ref.status}); see 'redline log {url}'")
    wanted = (ref.latest or count) if number is None else (count + 1 + number if number < 0 else number)
    if not 1 <= wanted <= count:
        raise ArchiveError(f"no version {number} of {url}; it has versions 1 to {count}")
    return conn.execute(_VERSION, {"article": ref.id, "number": wanted}).one()


_VERSION = (select(V, FETCHED_URL).select_from(WITH_FETCH)
            .where(V.c.article_id == bindparam("article"), V.c.number == bindparam("number")))
# The version captured just before another (a version 'renoise' recovered sits at its capture time).
CAPTURED_BEFORE = (select(V).where(V.c.article_id == bindparam("article"),
                                    or_(V.c.captured_at < bindparam("at"),
                                        and_(V.c.captured_at == bindparam("at"), V.c.number < bindparam("number"))))
                    .order_by(V.c.captured_at.desc(), V.c.number.desc()).limit(1))


def show(db: Db, url: str, number: int | None = None) -> VersionDetail:
    """One version in full (latest when ``number`` is None)."""
    from archive.queries.reading import read_text

    with connected(db) as conn:
        ref = article(conn, url)
        v = version_row(conn, ref, number, url)
        return _detail(conn, ref, v, read_text(conn, v))


def _detail(conn: Connection, ref: ArticleRef, v: Row[Any], text: str) -> VersionDetail:
    relations = related(conn, ref)
    return VersionDetail(ref.url, v.number, v.captured_at, v.title, v.byline, v.published, v.updated, v.site_name,
                         v.language, v.canonical_url, v.description, v.extractor, v.text_sha256, v.words, text,
                         v.fetched_url, bool(v.from_other_url), relations.copy_of, relations.also_published_at)


@dataclass
class VersionCapture:
    """One version as captured: its text and metadata (``detail``), the fetch that captured it, and
    each line of its text with the noise rule that skips it (None for a significant paragraph)."""

    detail: VersionDetail
    article_id: int
    host: str
    status: int | None
    body_sha256: str | None
    updated_signal: str | None
    recovered_at: datetime | None
    drift: bool
    paragraphs: list[tuple[str, str | None]]


def capture(db: Db, url: str, number: int | None = None) -> VersionCapture:
    """A version with its provenance and its paragraphs' noise rules (latest when ``number`` is None)."""
    from archive.queries.reading import SiteNoise, read_text
    from archive.text.normalize import comparable, paragraphs

    with connected(db) as conn:
        ref = article(conn, url)
        v = version_row(conn, ref, number, url)
        fetch = conn.execute(select(F.c.status, F.c.body_sha256)
                             .where(F.c.id == v.fetch_id)).first() if v.fetch_id else None
        text = read_text(conn, v)
        lines = [line for line in text.split("\n") if line.strip()]  # as captured; one per paragraph
        rules = SiteNoise(conn, ref.host).skipped_by([comparable(p) for p in paragraphs(text)], v.paragraph_hashes,
                                                     set(v.noise_hashes), v.language)
        detail = _detail(conn, ref, v, text)
    return VersionCapture(detail, ref.id, ref.host, fetch.status if fetch else None,
                          fetch.body_sha256 if fetch else None, v.updated_signal, v.recovered_at, bool(v.drift),
                          [(line, rules[i] if i < len(rules) else None) for i, line in enumerate(lines)])
