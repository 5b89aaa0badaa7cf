"""An article's history: its versions, events and fetches, the changes across the archive, one version's text."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Integer, Row, Text, and_, bindparam, cast, func, literal, null, or_, select, union_all

from archive.errors import ArchiveError
from archive.queries.articles import ArticleRef, article, related, search_clause, short_ids
from archive.queries.common import A, Db, E, Page, V, connected, cursor_values, make_page, parse_when
from archive.queries.screenshots import ScreenshotInfo, screenshots
from archive.queries.sitewide import MEMBER_ROWS, NOT_NEWEST, SiteWide, groups_of
from archive.schema import tables as t
from archive.text.stamps import RETIRED_SIGNALS
from archive.vocab import LISTED_KINDS, TAKEDOWNS, TEXT_EDITS, ChangeKind, EventKind


@dataclass
class FieldWords:
    """A changed headline or byline: both sides as captured, and the words added and removed (compared
    as versions are: quotes, dashes and spaces unified)."""

    old: str | None
    new: str | None
    added_words: int
    removed_words: int


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
    headline: FieldWords | None = None  # set by ``with_fields`` when the kinds say the headline changed
    byline: FieldWords | None = None    # the same for the byline (``added_words`` stay the body's)

    def words_said(self, body_note: str = "") -> str:
        """The change in words: headline and byline changes as such, then the body's words (always said
        when nothing else is, so a moved stamp still reads "+0/-0 words").

        >>> c = ChangeSummary(["headline"], 0, 0, False, True, None, False, headline=FieldWords("A b", "A c d", 2, 1))
        >>> c.words_said()
        'headline changed (+2/-1 words)'
        >>> c.added_words = 5; c.words_said(" (noise excluded)")
        'headline changed (+2/-1 words); body +5/-0 words (noise excluded)'
        """
        said = [f"{name} changed (+{f.added_words}/-{f.removed_words} words)"
                for name, f in (("headline", self.headline), ("byline", self.byline)) if f is not None]
        if not said or self.added_words or self.removed_words:
            counts = "/".join(f"{sign}{'?' if n is None else n}" for sign, n in (("+", self.added_words),
                                                                                ("-", self.removed_words)))
            said.append(("body " if said else "") + f"{counts} words{body_note}")
        return "; ".join(said)


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
    screenshot: ScreenshotInfo | None = None  # its latest screenshot, if one was taken


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
    page = make_page([version_entry(v, groups.get(v.row)) for v in rows], limit,
                     lambda v: (v.captured_at.isoformat(), v.version))
    with_fields(conn, ref.id, page.items)
    shots = screenshots(conn, ref.id, [v.version for v in page.items])
    for entry in page.items:
        entry.screenshot = shots.get(entry.version)
    return page


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


def with_fields(conn: Connection, article_id: int, entries: Sequence[VersionEntry]) -> None:
    """Fill in each change's ``headline`` and ``byline`` (when its kinds name them) from the version
    captured before it: two small reads per such change, which are rare."""
    from archive.text.classify import word_delta
    from archive.text.normalize import comparable

    for v in entries:
        c = v.change
        if c is None or not {ChangeKind.HEADLINE, ChangeKind.BYLINE} & set(c.kinds):
            continue
        new = conn.execute(_VERSION, {"article": article_id, "number": v.version}).one()
        old = conn.execute(CAPTURED_BEFORE, {"article": article_id, "at": v.captured_at, "number": v.version}).first()
        for name, kind in (("headline", ChangeKind.HEADLINE), ("byline", ChangeKind.BYLINE)):
            column = "title" if name == "headline" else "byline"
            if kind in c.kinds and old is not None:
                before, after = old._mapping[column], new._mapping[column]
                setattr(c, name, FieldWords(before, after, *word_delta(comparable(before or ""), comparable(after or ""))))


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
    fetched_with: str = "http"  # "browser": also loaded in a browser, whose DOM is kept beside the body
    rendered_sha256: str | None = None  # that DOM's sha256


def fetches(db: Db, url: str) -> list[FetchEntry]:
    """Every fetch of an article, oldest first, with the render stamps it recorded."""
    F, RS = t.fetches, t.render_stamps
    with connected(db) as conn:
        ref = article(conn, url)
        rows = conn.execute(select(F.c.outcome, F.c.fetched_at, F.c.status, F.c.url, F.c.final_url, F.c.body_sha256,
                                   F.c.noise, F.c.id, F.c.error, F.c.fetched_with, F.c.rendered_sha256).where(F.c.article_id == ref.id)
                            .order_by(F.c.fetched_at, F.c.id)).all()
        stamps: dict[int, list[dict[str, str | None]]] = {}
        for s in conn.execute(select(RS.c.fetch_id, RS.c.signal, RS.c.at, RS.c.declared)
                              .join(F, F.c.id == RS.c.fetch_id).where(F.c.article_id == ref.id).order_by(RS.c.id)):
            stamps.setdefault(s.fetch_id, []).append({"signal": s.signal, "at": s.at, "declared": s.declared})
        return [FetchEntry(r.outcome, r.fetched_at, r.status, r.final_url or r.url, r.body_sha256, r.noise or [],
                           stamps.get(r.id, []), r.error, r.fetched_with, r.rendered_sha256) for r in rows]


def log(db: Db, url: str) -> Log:
    """An article with all its versions and all its fetch events."""
    with connected(db) as conn:
        ref = article(conn, url)
        return Log(ref, _versions(conn, ref, False, False, None, None).items, _events(conn, ref, None, None).items)


@dataclass
class ChangeEntry:
    """One change in the archive-wide listing: a version, with its article and the number of the version
    captured just before it (``previous``, None for a first capture), its diff's other side; or, with
    ``event`` set, a takedown or restoration, with ``entry`` the article's latest version at that time."""

    article_id: int
    url: str
    host: str
    entry: VersionEntry
    previous: int | None
    short_id: str = ""          # the article's ID, as every command and the web view's links take it
    event: EventEntry | None = None

    @property
    def at(self) -> datetime:
        """When the change was recorded: the version's capture or the event's time."""
        return self.event.at if self.event else self.entry.captured_at


def last_recorded(db: Db) -> datetime | None:
    """The newest time the archive holds a record of (a fetch, a version or an event), None for an
    archive with none: what a feed with no entries is dated by."""
    newest = [select(func.max(F.c.fetched_at)).scalar_subquery(), select(func.max(V.c.captured_at)).scalar_subquery(),
              select(func.max(E.c.at)).scalar_subquery()]
    with connected(db) as conn:
        row = conn.execute(select(*newest)).one()
    return max((t for t in row if t is not None), default=None)


def _previous_number(at: Any, number: Any) -> Any:
    """The number of the version of the same article captured before (``at``, ``number``)."""
    prev = V.alias("prev")
    return (select(prev.c.number)
            .where(prev.c.article_id == V.c.article_id,
                   or_(prev.c.captured_at < at, and_(prev.c.captured_at == at, prev.c.number < number)))
            .order_by(prev.c.captured_at.desc(), prev.c.number.desc()).limit(1).correlate(V).scalar_subquery())


def _changes_select(event: bool) -> Any:
    """Versions (or takedown events, each with the article's latest version then), with one shape:
    the version's columns, its article, the time (``at``), ``src`` (0 a version, 1 an event) and ``row``.
    The nulls are typed: PostgreSQL types an untyped NULL in a subquery as text, which no union matches."""
    columns = (*(V.c[name] for name in _LOG_COLUMNS), FETCHED_URL, A.c.id.label("article"), A.c.key, A.c.host,
               A.c.key_sha256)
    if not event:
        return (select(*columns, V.c.captured_at.label("at"), literal(0, Integer).label("src"), V.c.id.label("row"),
                       _previous_number(V.c.captured_at, V.c.number).label("previous"),
                       cast(null(), E.c.kind.type).label("event"), cast(null(), Text).label("detail"))
                .select_from(WITH_FETCH).join(A, A.c.id == V.c.article_id))
    last = (select(V.c.number).where(V.c.article_id == E.c.article_id, V.c.captured_at <= E.c.at)
            .order_by(V.c.captured_at.desc(), V.c.number.desc()).limit(1).correlate(E).scalar_subquery())
    return (select(*columns, E.c.at.label("at"), literal(1, Integer).label("src"), E.c.id.label("row"),
                   cast(null(), Integer).label("previous"), E.c.kind.label("event"), E.c.detail.label("detail"))
            .select_from(E).join(A, A.c.id == E.c.article_id)
            .join(V, and_(V.c.article_id == E.c.article_id, V.c.number == last)).outerjoin(F, F.c.id == V.c.fetch_id))


def changes(db: Db, *, site: str | None = None, kinds: Sequence[str] = (), stealth: bool = False,
            declared: bool = False, since: datetime | None = None, until: datetime | None = None,
            search: str | None = None, article_id: int | None = None, limit: int | None = None,
            after: str | None = None, grouped: bool = False, first_captures: bool = True) -> Page[ChangeEntry]:
    """Changes across the archive, newest first, filtered and paged in one query: versions, and the
    takedowns and restorations (``gone`` and ``restored`` events) of articles that had a version.

    ``kinds``: any of these change kinds (``gone`` and ``restored`` among them; none: every change);
    ``stealth`` / ``declared`` as in ``versions`` (no takedown is either); ``since`` and ``until``: the
    time in [since, until); ``search``: in the (latest) version's title or the article's URL.
    ``grouped``: a site-wide edit once, at its newest member (its ``change.site_wide`` names the group).
    ``first_captures=False`` leaves out every version 1 (a first capture: the one version with no change).
    """
    wanted = set(kinds)
    if wanted - set(LISTED_KINDS):
        raise ArchiveError(f"unknown change kind; use one of {', '.join(LISTED_KINDS)}")
    cursor = cursor_values(after, parse_when, int, int) if after is not None else None
    edits = [k for k in kinds if k in set(ChangeKind)]
    events = [k for k in kinds if k in TAKEDOWNS] or ([] if wanted else list(TAKEDOWNS))
    filters = (site, since, until, search, article_id, cursor, limit, grouped, first_captures)
    parts = []
    if edits or not wanted:
        parts.append(_part(False, edits, stealth, declared, *filters))
    if events and not stealth and not declared:
        parts.append(_part(True, events, False, False, *filters))
    if not parts:
        return Page([])
    both = union_all(*(select(part) for part in parts)).subquery("c")
    query = select(both).order_by(both.c.at.desc(), both.c.src.desc(), both.c.row.desc())
    if limit is not None:
        query = query.limit(limit + 1)
    with connected(db) as conn:
        rows = conn.execute(query).all()
        page = make_page(rows, limit, lambda r: (r.at.isoformat(), r.src, r.row))
        ids = short_ids(conn, {r.key_sha256 for r in page.items})
        groups = groups_of(conn, (r.row for r in page.items if not r.src))
        entries = [_change_entry(r, ids[r.key_sha256], None if r.src else groups.get(r.row)) for r in page.items]
        for c in entries:
            if c.event is None:
                with_fields(conn, c.article_id, [c.entry])
    return Page(entries, page.next)


def _part(event: bool, kinds: Sequence[str], stealth: bool, declared: bool, site: str | None,
          since: datetime | None, until: datetime | None, search: str | None, article_id: int | None,
          cursor: list[Any] | None, limit: int | None, grouped: bool, first_captures: bool) -> Any:
    """One side of the changes listing (versions or takedowns), filtered, newest first and limited on its
    own, so each side reads its time index rather than the whole union being sorted."""
    query = _changes_select(event)
    at, src, row = (E.c.at, 1, E.c.id) if event else (V.c.captured_at, 0, V.c.id)
    conditions = []
    if site:
        conditions.append(A.c.host == site)
    if event:
        conditions.append(E.c.kind.in_(list(kinds)))
    elif kinds:
        conditions.append(or_(*(V.c.id.in_(MEMBER_ROWS) if k == ChangeKind.SITE_WIDE
                                else cast(V.c.change_kinds, Text).contains(f'"{k}"') for k in kinds)))
    if grouped and not event:
        conditions.append(V.c.id.not_in(NOT_NEWEST))
    if not first_captures and not event:
        conditions.append(V.c.number > 1)  # as version_entry: version 1 is the one without a change
    kept = ([_STEALTH] if stealth else []) + \
        ([and_(V.c.number > 1, V.c.declared)] if declared else [])
    if kept:
        conditions.append(or_(*kept))
    if since is not None:
        conditions.append(at >= since)
    if until is not None:
        conditions.append(at < until)
    if search:
        conditions.append(search_clause(search, V.c.title, A.c.key))
    if article_id is not None:
        conditions.append(A.c.id == article_id)
    if cursor is not None:
        after_at, after_src, after_row = cursor
        conditions.append(or_(at < after_at, and_(at == after_at, src < after_src),
                              and_(at == after_at, src == after_src, row < after_row)))
    query = query.where(*conditions).order_by(at.desc(), row.desc())
    return (query.limit(limit + 1) if limit is not None else query).subquery()


def _change_entry(r: Row[Any], short: str, site_wide: SiteWide | None) -> ChangeEntry:
    event = EventEntry(EventKind(r.event), r.at, r.detail, r.row) if r.src else None
    return ChangeEntry(r.article, r.key, r.host, version_entry(r, site_wide), r.previous, short, event)


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
