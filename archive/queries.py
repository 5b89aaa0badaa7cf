"""The query layer: every read a front (the CLI, the web view, alerts) makes, as plain typed results.

Fronts format these results and nothing more; filtering, limits and pagination happen here, in SQL.
Every function takes a ``Db`` (an Engine or a Connection), reads the Core tables of
:mod:`archive.tables` and never imports ``sqlalchemy.orm``, so a view starts fast. Times are
timezone-aware UTC datetimes (``iso`` formats them as the JSON does); outcome, event and change
words are the StrEnums of :mod:`archive.vocab`. Problems the user can fix raise ``ArchiveError``
with a one-line message.

Articles
    ``lookup(db, url) -> ArticleRef | None``: the one article-by-URL lookup (any URL it was seen
    under, tracking parameters or not, or its canonical URL); the writer uses it too.
    ``article(db, url) -> ArticleRef``: the same, or an ArchiveError saying what to do. Both also take
    an article's short ID (a prefix of the sha256 of its key) in place of a URL.
    ``short_ids(db, hashes) -> dict``, ``short_id(db, ref)``: short IDs, as long as it takes to be unique.
    ``list_articles(db, changed_since=, status=, site=, search=, limit=, after=) -> Page[ArticleSummary]``:
    most recently changed first.
History
    ``versions(db, url, stealth=, declared=, limit=, after=) -> Page[VersionEntry]``: oldest first;
    ``stealth`` / ``declared`` keep only such versions (either, when both are given).
    ``events(db, url, limit=, after=) -> Page[EventEntry]``: fetch events (gone, restored, ...), oldest first.
    ``log(db, url) -> Log``: an article with all its versions and all its events, kept separate.
    ``fetches(db, url) -> list[FetchEntry]``: every fetch with its outcome and what noise rules skipped.
    ``show(db, url, number=None) -> VersionDetail``: one version with its text (negative counts back).
    ``capture(db, url, number) -> Capture``: the same with its provenance and each paragraph's noise rule.
    ``changes(db, site=, kinds=, stealth=, declared=, since=, until=, search=, article_id=, limit=, after=)
    -> Page[ChangeEntry]``: versions across the archive, newest first.
    ``diff(db, url, old=None, new=None, with_noise=False) -> Diff``: title, byline and declared-time
    changes, the changed pieces (``changes``) with their paragraph and sentence (``where``), and the
    text as ``paragraphs`` of word-level spans.
Jobs
    ``runs(db, job=, limit=, after=) -> Page[RunEntry]``: newest first.
    ``due(db, names=(), now=, limit=, only_due=) -> list[DueEntry]``: tracked URLs by when they are
    next due (soonest first), read from the stored due times that ``archive.frontier`` keeps current.
    ``due_urls(db, name, now) -> Iterator[str]``: what one schedule has due, by keyset pages.
    ``schedules(db) -> list[ScheduleEntry]``: every schedule with its tracked count and last run.
Alerts
    ``version_change(db, article_id, number) -> VersionChange``: a version and its diff against the
    version captured before it. ``latest_change(db)``: the change captured last, for samples.
    ``alert_rules(db) -> list[AlertRule]``: every rule by name, with its pending/sent/failed counts.
    ``alert_log(db, rule=, status=, limit=, after=) -> Page[AlertEntry]``: outbox rows, newest first.
Summaries
    ``reextract_summary(kinds) -> ReextractSummary``: what ``redline reextract`` did.

Pagination is by keyset: a ``Page`` holds ``items`` and ``next``, an opaque cursor to pass back
as ``after`` (None when there is no more).

>>> from datetime import UTC
>>> iso(datetime(2024, 12, 5, 9, 30, tzinfo=UTC))
'2024-12-05T09:30:00Z'
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import (Connection, Engine, Row, Text, and_, bindparam, cast, func, literal, or_,
                        select, union_all)

from archive import tables as t
from archive.db import ArchiveError, InvalidInput
from archive.normalize import BadURL, url_key
from archive.vocab import ArticleStatus, ChangeKind, EventKind, RecordKind, RunOutcome, TEXT_EDITS

if TYPE_CHECKING:
    from archive.diff import Op, Paragraph, Where

Db = Engine | Connection
T = TypeVar("T")
A, AU, V, E, S, TR, R = (t.articles, t.article_urls, t.versions, t.events, t.schedules, t.tracked, t.runs)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 UTC with a Z, to the second."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


@contextmanager
def _connected(db: Db) -> Iterator[Connection]:
    if isinstance(db, Connection):
        yield db
    else:
        with db.connect() as conn:
            yield conn


@dataclass
class Page(Generic[T]):
    """Some results, and the cursor for the ones after them (None at the end)."""

    items: list[T]
    next: str | None = None


def _page(rows: Sequence[T], limit: int | None, key: Any) -> Page[T]:
    if limit is None or len(rows) <= limit:
        return Page(list(rows))
    return Page(list(rows[:limit]), "|".join("" if k is None else str(k) for k in key(rows[limit - 1])))


def _cursor(after: str, *types: Any) -> list[Any]:
    parts = after.split("|")
    if len(parts) != len(types):
        raise InvalidInput(f"bad page cursor {after!r}; pass back the 'next' value of a page")
    try:
        return [None if p == "" else typ(p) for p, typ in zip(parts, types)]
    except ValueError as exc:
        raise InvalidInput(f"bad page cursor {after!r}; pass back the 'next' value of a page") from exc


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


# -- articles -----------------------------------------------------------------------------------------

@dataclass
class ArticleRef:
    """An archived article as the lookup finds it; ``url`` is its key (normalized first URL)."""

    id: int
    url: str
    host: str
    status: ArticleStatus
    version_count: int
    last_body_sha256: str | None
    etag: str | None
    last_modified: str | None
    latest: int | None          # the version the article is in now: the one captured last
    key_sha256: str | None = None  # its short ID is a prefix of this (``short_ids``)


_LATEST = func.coalesce(A.c.latest_version, A.c.version_count)
_REF = select(A.c.id, A.c.key, A.c.host, A.c.status, A.c.version_count, A.c.last_body_sha256, A.c.etag,
              A.c.last_modified, _LATEST.label("latest"), A.c.key_sha256)
_BY_URL = _REF.join(AU, AU.c.article_id == A.c.id).where(AU.c.url == bindparam("key"))
_BY_CANONICAL = _REF.where(A.c.canonical_url == bindparam("key")).order_by(A.c.id).limit(1)


SHORT_ID = 10          # hex digits of a short ID, more when two articles share them
_ID = re.compile(r"[0-9a-f]{6,64}")
_BY_ID = _REF.where(A.c.key_sha256 >= bindparam("low"), A.c.key_sha256 < bindparam("high")).limit(2)


def is_short_id(text: str) -> bool:
    """Whether ``text`` is written as an article ID (6 to 64 hex digits) rather than a URL.

    >>> is_short_id("5bd48fa661"), is_short_id("https://example.com/a")
    (True, False)
    """
    return bool(_ID.fullmatch(text.strip().lower()))


def lookup(db: Any, url: str) -> ArticleRef | None:
    """The article any of whose known URLs, or whose canonical URL, has the same key as ``url``;
    or, when ``url`` is an article ID (a prefix of the sha256 of its key), the article it names.

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
        key = {"key": url_key(url)}
        row = db.execute(_BY_URL, key).first() or db.execute(_BY_CANONICAL, key).first()
    return ArticleRef(row.id, row.key, row.host, ArticleStatus(row.status), *row[4:]) if row else None


class AmbiguousID(ArchiveError):
    """An article ID prefix that more than one article shares."""


def article(db: Any, url: str) -> ArticleRef:
    """The archived article for ``url`` (or article ID), or an ArchiveError that says what to do."""
    try:
        found = lookup(db, url)
    except BadURL as exc:
        raise InvalidInput(f"{exc}; give the article's http(s) URL or its ID from 'redline list'") from exc
    if found is None:
        what = "article ID" if is_short_id(url) else "archived article for"
        raise ArchiveError(f"no {what} {url}; see 'redline list'")
    return found


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
        with _connected(db) as conn:
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


def _search(text: str, *columns: Any) -> Any:
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
    ``search`` looks in the latest title and the URL."""
    latest = (select(V.c.article_id, V.c.title)
              .join(A, (A.c.id == V.c.article_id) & (V.c.number == _LATEST)).subquery())
    query = (select(A.c.key, latest.c.title, A.c.status, A.c.version_count, A.c.first_seen, A.c.last_checked,
                    A.c.last_changed, A.c.id, A.c.host, A.c.key_sha256)
             .outerjoin(latest, latest.c.article_id == A.c.id)
             .order_by(A.c.last_changed.desc().nulls_last(), A.c.id))
    if changed_since is not None:
        query = query.where(A.c.last_changed >= changed_since)
    if status is not None:
        query = query.where(A.c.status == ArticleStatus(status))
    if site:
        query = query.where(A.c.host == site)
    if search:
        query = query.where(_search(search, latest.c.title, A.c.key))
    if after is not None:
        changed, last_id = _cursor(after, _when, int)
        query = query.where(or_(A.c.last_changed < changed, A.c.last_changed.is_(None),
                                and_(A.c.last_changed == changed, A.c.id > last_id)) if changed is not None
                            else and_(A.c.last_changed.is_(None), A.c.id > last_id))
    if limit is not None:
        query = query.limit(limit + 1)
    with _connected(db) as conn:
        found = conn.execute(query).all()
        ids = short_ids(conn, [r.key_sha256 for r in found])
        rows = [ArticleSummary(r.key, r.title, ArticleStatus(r.status), *r[3:9], ids[r.key_sha256]) for r in found]
    return _page(rows, limit, lambda a: (a.last_changed.isoformat() if a.last_changed else None, a.id))


# -- history ------------------------------------------------------------------------------------------

@dataclass
class ChangeSummary:
    """How a version differs from the one before it."""

    kinds: list[ChangeKind]
    added_words: int | None
    removed_words: int | None
    declared: bool
    stealth: bool               # the text changed, the declared update time did not (never when it is unknown)
    reverts_to: int | None      # an earlier version this one is identical to (a flip-flop)
    extractor_drift: bool       # the extractor changed, not the publisher


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
                "added_words", "removed_words", "declared", "reverts_to", "drift", "updated_signal", "recovered_at")
_EDITS_TEXT = and_(V.c.change_kinds.is_not(None), ~V.c.drift,
                   or_(*(cast(V.c.change_kinds, Text).contains(f'"{kind}"') for kind in TEXT_EDITS)))


def versions(db: Db, url: str, *, stealth: bool = False, declared: bool = False, limit: int | None = None,
             after: str | None = None) -> Page[VersionEntry]:
    """An article's versions in capture order (a version ``renoise`` recovered sits at its capture time);
    with ``stealth`` or ``declared``, only such changes."""
    with _connected(db) as conn:
        return _versions(conn, article(conn, url), stealth, declared, limit, after)


def _versions(conn: Connection, ref: ArticleRef, stealth: bool, declared: bool, limit: int | None,
              after: str | None) -> Page[VersionEntry]:
    query = (select(*(V.c[name] for name in _LOG_COLUMNS)).where(V.c.article_id == ref.id)
             .order_by(V.c.captured_at, V.c.number))
    wanted = []
    if stealth:
        wanted.append(and_(V.c.number > 1, ~V.c.declared, _EDITS_TEXT))  # None: not known (an import)
    if declared:
        wanted.append(and_(V.c.number > 1, V.c.declared))
    if wanted:
        query = query.where(or_(*wanted))
    if after is not None:
        at, number = _cursor(after, _when, int)
        query = query.where(or_(V.c.captured_at > at, and_(V.c.captured_at == at, V.c.number > number)))
    if limit is not None:
        query = query.limit(limit + 1)
    return _page([_version_entry(v) for v in conn.execute(query)], limit,
                 lambda v: (v.captured_at.isoformat(), v.version))


def _version_entry(v: Row[Any]) -> VersionEntry:
    change = None
    if v.number > 1:
        kinds = [ChangeKind(k) for k in v.change_kinds or []]
        edits = bool(set(kinds) - {ChangeKind.DECLARED_UPDATE_ONLY}) and not v.drift
        change = ChangeSummary(kinds, v.added_words, v.removed_words, bool(v.declared), v.declared is False and edits,
                               v.reverts_to, v.drift)
    return VersionEntry(v.number, v.captured_at, v.title, v.published, v.updated, v.words, change,
                        v.updated_signal, v.recovered_at)


def events(db: Db, url: str, *, limit: int | None = None, after: str | None = None) -> Page[EventEntry]:
    """An article's fetch events, oldest first."""
    with _connected(db) as conn:
        return _events(conn, article(conn, url), limit, after)


def _events(conn: Connection, ref: ArticleRef, limit: int | None, after: str | None) -> Page[EventEntry]:
    query = select(E.c.kind, E.c.at, E.c.detail, E.c.id).where(E.c.article_id == ref.id).order_by(E.c.at, E.c.id)
    if after is not None:
        at, last_id = _cursor(after, _when, int)
        query = query.where(or_(E.c.at > at, and_(E.c.at == at, E.c.id > last_id)))
    if limit is not None:
        query = query.limit(limit + 1)
    rows = [EventEntry(EventKind(e.kind), e.at, e.detail, e.id) for e in conn.execute(query)]
    return _page(rows, limit, lambda e: (e.at.isoformat(), e.id))


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


def fetches(db: Db, url: str) -> list[FetchEntry]:
    """Every fetch of an article, oldest first."""
    F = t.fetches
    with _connected(db) as conn:
        ref = article(conn, url)
        rows = conn.execute(select(F.c.outcome, F.c.fetched_at, F.c.status, F.c.url, F.c.final_url, F.c.body_sha256,
                                   F.c.noise).where(F.c.article_id == ref.id).order_by(F.c.fetched_at, F.c.id))
        return [FetchEntry(r.outcome, r.fetched_at, r.status, r.final_url or r.url, r.body_sha256, r.noise or [])
                for r in rows]


def log(db: Db, url: str) -> Log:
    """An article with all its versions and all its fetch events."""
    with _connected(db) as conn:
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
    return (select(*(V.c[name] for name in _LOG_COLUMNS), A.c.id.label("article"), A.c.key, A.c.host,
                   V.c.id.label("row"), previous.label("previous"), A.c.key_sha256)
            .join(A, A.c.id == V.c.article_id).order_by(V.c.captured_at.desc(), V.c.id.desc()))


_CHANGES = _changes_query()


def changes(db: Db, *, site: str | None = None, kinds: Sequence[str] = (), stealth: bool = False,
            declared: bool = False, since: datetime | None = None, until: datetime | None = None,
            search: str | None = None, article_id: int | None = None, limit: int | None = None,
            after: str | None = None) -> Page[ChangeEntry]:
    """Versions across the archive, newest capture first, filtered and paged in one query.

    ``kinds``: any of these change kinds; ``stealth`` / ``declared`` as in ``versions``; ``since`` and
    ``until``: capture time in [since, until); ``search``: in the version's title or the article's URL.
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
        conditions.append(or_(*(cast(V.c.change_kinds, Text).contains(f'"{k}"') for k in wanted_kinds)))
    kept = ([and_(V.c.number > 1, ~V.c.declared, _EDITS_TEXT)] if stealth else []) + \
        ([and_(V.c.number > 1, V.c.declared)] if declared else [])
    if kept:
        conditions.append(or_(*kept))
    if since is not None:
        conditions.append(V.c.captured_at >= since)
    if until is not None:
        conditions.append(V.c.captured_at < until)
    if search:
        conditions.append(_search(search, V.c.title, A.c.key))
    if article_id is not None:
        conditions.append(V.c.article_id == article_id)
    if after is not None:
        at, row = _cursor(after, _when, int)
        conditions.append(or_(V.c.captured_at < at, and_(V.c.captured_at == at, V.c.id < row)))
    query = query.where(*conditions)
    if limit is not None:
        query = query.limit(limit + 1)
    with _connected(db) as conn:
        rows = conn.execute(query).all()
        page = _page(rows, limit, lambda r: (r.captured_at.isoformat(), r.row))
        ids = short_ids(conn, {r.key_sha256 for r in page.items})
    return Page([ChangeEntry(r.article, r.key, r.host, _version_entry(r), r.previous, ids[r.key_sha256])
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


def _version_row(conn: Connection, ref: ArticleRef, number: int | None, url: str) -> Row[Any]:
    """Version ``number`` (the latest, the one captured last, when None); negative numbers count back
    from the highest number."""
    count = ref.version_count
    if count == 0:
        raise ArchiveError(f"{url} has no versions yet (status: {ref.status}); see 'redline log {url}'")
    wanted = (ref.latest or count) if number is None else (count + 1 + number if number < 0 else number)
    if not 1 <= wanted <= count:
        raise ArchiveError(f"no version {number} of {url}; it has versions 1 to {count}")
    return conn.execute(_VERSION, {"article": ref.id, "number": wanted}).one()


_VERSION = select(V).where(V.c.article_id == bindparam("article"), V.c.number == bindparam("number"))
# The version captured just before another (a version 'renoise' recovered sits at its capture time).
_CAPTURED_BEFORE = (select(V).where(V.c.article_id == bindparam("article"),
                                    or_(V.c.captured_at < bindparam("at"),
                                        and_(V.c.captured_at == bindparam("at"), V.c.number < bindparam("number"))))
                    .order_by(V.c.captured_at.desc(), V.c.number.desc()).limit(1))


def show(db: Db, url: str, number: int | None = None) -> VersionDetail:
    """One version in full (latest when ``number`` is None)."""
    from archive.reading import read_text

    with _connected(db) as conn:
        ref = article(conn, url)
        v = _version_row(conn, ref, number, url)
        return _detail(ref, v, read_text(conn, v))


def _detail(ref: ArticleRef, v: Row[Any], text: str) -> VersionDetail:
    return VersionDetail(ref.url, v.number, v.captured_at, v.title, v.byline, v.published, v.updated, v.site_name,
                         v.language, v.canonical_url, v.description, v.extractor, v.text_sha256, v.words, text)


@dataclass
class Capture:
    """One version as captured: its text and metadata (``detail``), the fetch that captured it, and
    each line of its text with the noise rule that skips it (None for a significant paragraph)."""

    detail: VersionDetail
    article_id: int
    host: str
    status: int | None
    final_url: str | None
    body_sha256: str | None
    updated_signal: str | None
    recovered_at: datetime | None
    drift: bool
    paragraphs: list[tuple[str, str | None]]


def capture(db: Db, url: str, number: int | None = None) -> Capture:
    """A version with its provenance and its paragraphs' noise rules (latest when ``number`` is None)."""
    from archive.normalize import comparable, paragraphs
    from archive.reading import SiteNoise, read_text

    F = t.fetches
    with _connected(db) as conn:
        ref = article(conn, url)
        v = _version_row(conn, ref, number, url)
        fetch = conn.execute(select(F.c.status, F.c.url, F.c.final_url, F.c.body_sha256)
                             .where(F.c.id == v.fetch_id)).first() if v.fetch_id else None
        text = read_text(conn, v)
        lines = [line for line in text.split("\n") if line.strip()]  # as captured; one per paragraph
        rules = SiteNoise(conn, ref.host).skipped_by([comparable(p) for p in paragraphs(text)], v.paragraph_hashes,
                                                     set(v.noise_hashes), v.language)
    return Capture(_detail(ref, v, text), ref.id, ref.host, fetch.status if fetch else None,
                   (fetch.final_url or fetch.url) if fetch else None, fetch.body_sha256 if fetch else None,
                   v.updated_signal, v.recovered_at, bool(v.drift),
                   [(line, rules[i] if i < len(rules) else None) for i, line in enumerate(lines)])


@dataclass
class FieldChange:
    """One metadata field in the two versions of a diff."""

    old: str | None
    new: str | None

    @property
    def changed(self) -> bool:
        return self.old != self.new


@dataclass
class VersionStamp:
    """Which version one side of a diff is."""

    version: int
    captured_at: datetime


@dataclass
class Diff:
    """Two versions and what changed between them.

    ``changes`` are the changed pieces only (insert, delete or replace, holding the changed text);
    ``paragraphs`` is the whole compared text, paragraph by paragraph, as word-level spans.
    ``old_text`` and ``new_text`` are the compared texts (without noise paragraphs, by default).
    """

    url: str
    old: VersionStamp
    new: VersionStamp
    title: FieldChange
    byline: FieldChange
    updated: FieldChange        # the declared modification time
    changes: list[Op]
    paragraphs: list[Paragraph]
    old_text: str
    new_text: str
    published: FieldChange | None = None  # the declared publication time
    where: list[Where] = field(default_factory=list)  # for each of ``changes``: its paragraph and sentence
    reverts_to: int | None = None  # the newer version's flip-flop mark: an earlier version it is identical to
    with_noise: bool = False

    def as_json(self, context: bool = False) -> dict[str, Any]:
        """The shape of ``redline diff --json`` (README, JSON contract), here so that the CLI and citation
        bundles (``archive.cite``) print the same thing; ``context`` (``--context``) adds each change's
        paragraph number and sentence."""
        changes = [{"op": o.op, "old": o.old, "new": o.new} for o in self.changes]
        if context:
            for change, where in zip(changes, self.where, strict=True):
                change.update(paragraph=where.paragraph, context=where.context)
        return {"url": self.url, "from": self.old.version, "to": self.new.version,
                "from_captured_at": iso(self.old.captured_at), "to_captured_at": iso(self.new.captured_at),
                "title": asdict(self.title), "byline": asdict(self.byline), "updated": asdict(self.updated),
                "changes": changes}

    @property
    def identical(self) -> bool:
        """No change in the compared text, title, byline or declared update time."""
        return not self.changes and not (self.title.changed or self.byline.changed or self.updated.changed)


def diff(db: Db, url: str, old: int | None = None, new: int | None = None, *, with_noise: bool = False) -> Diff:
    """Two versions and the word-level operations between them (default: the latest version and the one
    captured before it).

    Noise paragraphs (counters, teasers, template blocks) are left out unless ``with_noise``.
    """
    with _connected(db) as conn:
        ref = article(conn, url)
        if old is None and new is None:
            if ref.version_count < 2:
                raise ArchiveError(f"{url} has only {ref.version_count} version(s); nothing to diff yet")
            b = _version_row(conn, ref, None, url)
            before = conn.execute(_CAPTURED_BEFORE, {"article": ref.id, "at": b.captured_at, "number": b.number})
            a = before.first() or _version_row(conn, ref, -2, url)
        else:
            a, b = _version_row(conn, ref, old, url), _version_row(conn, ref, new, url)
        return _diff(conn, ref, a, b, with_noise)


def _diff(conn: Connection, ref: ArticleRef, a: Row[Any], b: Row[Any], with_noise: bool) -> Diff:
    from archive.diff import locate, paragraph_spans, word_ops
    from archive.reading import SiteNoise, read_pair

    old_text, new_text = read_pair(conn, a, b)
    if not with_noise:
        noise = SiteNoise(conn, ref.host)
        old_text, new_text = noise.significant_text(old_text, a), noise.significant_text(new_text, b)
    ops = word_ops(old_text, new_text)
    return Diff(ref.url, VersionStamp(a.number, a.captured_at), VersionStamp(b.number, b.captured_at),
                FieldChange(a.title, b.title), FieldChange(a.byline, b.byline), FieldChange(a.updated, b.updated),
                [o for o in ops if o.op != "equal"], paragraph_spans(ops), old_text, new_text,
                FieldChange(a.published, b.published), locate(ops), b.reverts_to, with_noise)


@dataclass(frozen=True)
class VersionChange:
    """A version, how it changed, and its diff against the version captured before it (for alerts)."""

    entry: VersionEntry
    diff: Diff


def version_change(db: Db, article_id: int, number: int) -> VersionChange:
    """Version ``number`` of article ``article_id`` and its diff against the version captured before it."""
    with _connected(db) as conn:
        row = conn.execute(_REF.where(A.c.id == article_id)).first()
        if row is None:
            raise ArchiveError(f"no archived article with id {article_id}")
        ref = ArticleRef(row.id, row.key, row.host, ArticleStatus(row.status), *row[4:])
        b = _version_row(conn, ref, number, ref.url)
        a = conn.execute(_CAPTURED_BEFORE, {"article": ref.id, "at": b.captured_at, "number": b.number}).first()
        if a is None:
            raise ArchiveError(f"version {number} of {ref.url} is its first; it has no change")
        return VersionChange(_version_entry(b), _diff(conn, ref, a, b, False))


def latest_change(db: Db) -> tuple[int, int] | None:
    """(article id, version number) of the change captured last in the whole archive (drift aside)."""
    query = (select(V.c.article_id, V.c.number).where(V.c.number > 1, ~V.c.drift)
             .order_by(V.c.captured_at.desc(), V.c.id.desc()).limit(1))
    with _connected(db) as conn:
        row = conn.execute(query).first()
    return (row.article_id, row.number) if row else None


# -- jobs ---------------------------------------------------------------------------------------------

@dataclass
class RunEntry:
    """One run of a schedule (or of a queued batch)."""

    id: int
    job: str
    started: datetime
    ended: datetime | None
    outcome: RunOutcome
    discovered: int
    fetched: int
    new_articles: int
    new_versions: int
    failures: int
    error: str | None


def runs(db: Db, *, job: str | None = None, limit: int | None = 20, after: str | None = None) -> Page[RunEntry]:
    """The run history, newest first."""
    query = select(R.c.id, R.c.job, R.c.started_at, R.c.ended_at, R.c.outcome, R.c.discovered, R.c.fetched,
                   R.c.new_articles, R.c.new_versions, R.c.failures, R.c.error
                   ).order_by(R.c.started_at.desc(), R.c.id.desc())
    if job:
        query = query.where(R.c.job == job)
    if after is not None:
        started, last_id = _cursor(after, _when, int)
        query = query.where(or_(R.c.started_at < started, and_(R.c.started_at == started, R.c.id < last_id)))
    if limit is not None:
        query = query.limit(limit + 1)
    with _connected(db) as conn:
        rows = [RunEntry(*r[:4], RunOutcome(r.outcome), *r[5:]) for r in conn.execute(query)]
    return _page(rows, limit, lambda r: (r.started.isoformat(), r.id))


@dataclass
class DueEntry:
    """When one tracked URL is next re-checked, and why."""

    job: str
    url: str
    due: datetime
    due_now: bool
    reason: str
    last_checked: datetime | None


def _schedule_rows(conn: Connection, names: Sequence[str]) -> list[Row[Any]]:
    rows = {r.name: r for r in conn.execute(select(S.c.id, S.c.name).order_by(S.c.name))}
    for name in names:
        if name not in rows:
            raise ArchiveError(f"no schedule named {name!r}; see 'redline schedule list'")
    return [rows[n] for n in dict.fromkeys(names)] if names else list(rows.values())


def _due_query(schedule: Row[Any], now: datetime, limit: int | None, only_due: bool,
               after: tuple[datetime, str] | None = None) -> Any:
    """One schedule's tracked URLs in due order, read along the index ``ix_tracked_due``."""
    query = (select(literal(schedule.name).label("job"), TR.c.url, TR.c.hint, TR.c.hint_seen, TR.c.due_at, TR.c.due_why)
             .where(TR.c.schedule_id == schedule.id).order_by(TR.c.due_at, TR.c.url).limit(limit))
    if only_due:
        query = query.where(TR.c.due_at <= now)
    if after is not None:  # keyset: a range on due_at the index serves, ties broken by URL
        query = query.where(TR.c.due_at >= after[0], or_(TR.c.due_at > after[0], TR.c.url > after[1]))
    return query


def due(db: Db, names: Sequence[str] = (), *, now: datetime, limit: int | None = None,
        only_due: bool = False) -> list[DueEntry]:
    """What the named schedules (all when empty) track, soonest due first; ``only_due``: due by ``now``.

    Reads the stored due times (``archive.frontier``): at most ``limit`` rows per schedule, whatever
    the number of tracked URLs, then the articles of the rows returned, for the reasons."""
    from archive.recheck import listed_update, reason

    with _connected(db) as conn:
        found = _schedule_rows(conn, names)
        if not found:
            return []
        parts = [_due_query(s, now, limit, only_due) for s in found]
        if len(parts) == 1:
            rows = conn.execute(parts[0]).all()
        else:
            union = union_all(*(select(p.subquery()) for p in parts)).subquery()
            rows = conn.execute(select(union).order_by(union.c.due_at, union.c.url).limit(limit)).all()
        urls = list({r.url for r in rows})
        articles = {a.url: a for start in range(0, len(urls), 500) for a in conn.execute(
            select(AU.c.url, A.c.last_checked, A.c.last_changed, A.c.first_seen, A.c.status)
            .join(A, A.c.id == AU.c.article_id).where(AU.c.url.in_(urls[start:start + 500])))}
    entries = []
    for r in rows:
        a = articles.get(r.url)
        why = reason(r.due_why, now, hint=listed_update(r.hint, r.hint_seen), last_changed=a.last_changed if a else None,
                     first_seen=a.first_seen if a else None, status=a.status if a else None)
        entries.append(DueEntry(r.job, r.url, r.due_at, r.due_at <= now, why, a.last_checked if a else None))
    return entries


def due_urls(db: Db, name: str, now: datetime, page: int = 1000) -> Iterator[str]:
    """The URLs schedule ``name`` has due by ``now``, soonest first, a keyset page at a time."""
    after = None
    while True:
        with _connected(db) as conn:
            found = _schedule_rows(conn, [name])[0]
            rows = conn.execute(_due_query(found, now, page, True, after)).all()
        yield from (r.url for r in rows)
        if len(rows) < page:
            return
        after = (rows[-1].due_at, rows[-1].url)


@dataclass
class LastRun:
    """When a schedule's latest run started and how it ended (so far)."""

    started: datetime
    outcome: RunOutcome


@dataclass
class ScheduleEntry:
    """A schedule as stored, with how many URLs it tracks and its latest run."""

    name: str
    every_seconds: int | None
    cron: str | None
    timezone: str
    feeds: list[str]
    sitemaps: list[str]
    urls: list[str]
    urls_file: str | None
    recheck: str | None
    settings: dict[str, str]
    paused: bool
    tracked: int
    last_run: LastRun | None


def schedules(db: Db) -> list[ScheduleEntry]:
    """Every schedule by name, with its tracked count and latest run, in one query."""
    latest = R.alias("latest")
    last_id = (select(latest.c.id).where(latest.c.schedule_id == S.c.id)
               .order_by(latest.c.started_at.desc(), latest.c.id.desc()).limit(1).correlate(S).scalar_subquery())
    tracked = select(func.count()).select_from(TR).where(TR.c.schedule_id == S.c.id).scalar_subquery()
    query = (select(S.c.name, S.c.every_seconds, S.c.cron, S.c.timezone, S.c.feeds, S.c.sitemaps, S.c.urls,
                    S.c.urls_file, S.c.recheck, S.c.settings, S.c.paused, tracked.label("tracked"),
                    R.c.started_at, R.c.outcome)
             .select_from(S).outerjoin(R, R.c.id == last_id).order_by(S.c.name))
    with _connected(db) as conn:
        return [ScheduleEntry(*r[:10], bool(r.paused), r.tracked,
                              LastRun(r.started_at, RunOutcome(r.outcome)) if r.started_at else None)
                for r in conn.execute(query)]


# -- alerts -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AlertRule:
    """An alert rule as stored, with how many of its alerts are pending, sent and failed."""

    name: str
    targets: list[str]
    sites: list[str]
    job: str | None
    kinds: list[str] | None
    stealth_only: bool
    min_words: int
    include_trivial: bool
    digest: str | None
    paused: bool
    created_at: datetime
    pending: int
    sent: int
    failed: int


def alert_rules(db: Db) -> list[AlertRule]:
    """Every alert rule by name, with its outbox counts."""
    AR, O = t.alert_rules, t.alert_outbox
    counts = {name: func.count().filter(O.c.status == name) for name in ("pending", "sent", "failed")}
    tally = (select(O.c.rule_id, *(c.label(n) for n, c in counts.items())).group_by(O.c.rule_id).subquery())
    query = (select(AR.c.name, AR.c.targets, AR.c.sites, AR.c.job, AR.c.kinds, AR.c.stealth_only, AR.c.min_words,
                    AR.c.include_trivial, AR.c.digest, AR.c.paused, AR.c.created_at,
                    *(func.coalesce(tally.c[n], 0) for n in counts))
             .outerjoin(tally, tally.c.rule_id == AR.c.id).order_by(AR.c.name))
    with _connected(db) as conn:
        return [AlertRule(*r[:5], bool(r.stealth_only), r.min_words, bool(r.include_trivial), r.digest,
                          bool(r.paused), *r[10:]) for r in conn.execute(query)]


@dataclass(frozen=True)
class AlertEntry:
    """One outbox row: one message to one target about one version (rows sharing a key are one digest)."""

    id: int
    key: str | None
    rule: str
    target: str
    url: str
    version: int
    created_at: datetime
    due_at: datetime
    status: str
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None
    attempt_log: list[dict[str, Any]]


def alert_log(db: Db, *, rule: str | None = None, status: str | None = None, limit: int | None = 50,
              after: str | None = None) -> Page[AlertEntry]:
    """Outbox rows, newest first; ``next_attempt_at`` only for pending rows."""
    O = t.alert_outbox
    query = (select(O.c.id, O.c.key, O.c.rule, O.c.target, A.c.key.label("url"), O.c.version, O.c.created_at,
                    O.c.due_at, O.c.status, O.c.attempts, O.c.next_attempt_at, O.c.sent_at, O.c.last_error,
                    O.c.attempt_log)
             .join(A, A.c.id == O.c.article_id).order_by(O.c.id.desc()))
    if rule:
        query = query.where(O.c.rule == rule)
    if status:
        query = query.where(O.c.status == status)
    if after is not None:
        (last_id,) = _cursor(after, int)
        query = query.where(O.c.id < last_id)
    if limit is not None:
        query = query.limit(limit + 1)
    with _connected(db) as conn:
        rows = [AlertEntry(*r[:10], r.next_attempt_at if r.status == "pending" else None, r.sent_at, r.last_error,
                           r.attempt_log or []) for r in conn.execute(query)]
    return _page(rows, limit, lambda e: (e.id,))


# -- summaries ----------------------------------------------------------------------------------------

@dataclass
class ReextractSummary:
    """What re-running the extractor over stored captures did."""

    checked: int
    unchanged: int
    drift: int
    failed: int


def reextract_summary(kinds: Iterable[str]) -> ReextractSummary:
    """Counts from the record kinds of a re-extraction.

    >>> reextract_summary(["unchanged", "drift", "unchanged"])
    ReextractSummary(checked=3, unchanged=2, drift=1, failed=0)
    """
    counts = Counter(kinds)
    return ReextractSummary(sum(counts.values()), counts[RecordKind.UNCHANGED], counts[RecordKind.DRIFT],
                            counts[RecordKind.EXTRACT_FAILED])
