"""Record captures: each fetch becomes a new version, an unchanged mark, or an event.

One batch of captures is one transaction, so a crash leaves either all of a
batch or none of it. Version numbers are assigned inside that transaction from
the article row, which is locked first. Rows another writer may be inserting at
the same moment (articles, their URLs, bodies, template paragraphs) are inserted
in a savepoint, so losing that race costs the savepoint, not the batch.
"""
from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from archive import models as m
from archive.capture import IMPORT_MARKER, Capture, Extracted
from archive.db import READ_ONLY
from archive.classify import State, classify
from archive.noise import is_noise
from archive.normalize import BadURL, clean_text, comparable, digest, paragraphs, sha256, url_host, url_key
from archive.outcomes import fetch_outcome
from archive.queries import lookup
from archive.reading import SiteNoise, read_text
from archive.textpack import FULL_EVERY, compress_body, decompress_body, pack
from archive.vocab import ArticleStatus, EventKind, FetchOutcome, RecordKind

TEMPLATE_MIN_ARTICLES = 3  # the same paragraph change in this many articles of a site at once is template noise


@dataclass
class Outcome:
    """What recording one capture did."""

    url: str
    kind: str  # a RecordKind; for a fetch that made an event, its FetchOutcome (gone, blocked, ...)
    article_id: int | None = None
    version: int | None = None
    change_kinds: list[str] | None = None


@dataclass
class _Plan:
    fetch: Capture
    article: m.Article
    created: bool
    fetch_row: m.Fetch
    outcome: str
    extracted: Extracted | None = None
    text: str = ""
    paras: list[str] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)
    boilerplate: set[str] = field(default_factory=set)
    drift: bool = False


class Archive:
    """The versioned store."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    def record(self, fetch: Capture, extracted: Extracted | None) -> Outcome:
        """Record one capture in its own transaction."""
        return self.record_batch([(fetch, extracted)])[0]

    def record_batch(self, captures: Sequence[tuple[Capture, Extracted | None]]) -> list[Outcome]:
        """Record captures in one transaction, learning site template noise across them."""
        with self.sessions.begin() as session:
            writer = _Writer(session)
            plans = [writer.plan(f, e) for f, e in captures]
            writer.learn_templates([p for p in plans if p.outcome == FetchOutcome.CONTENT])
            return [writer.apply(p) for p in plans]

    def raw_captures(self, urls: Sequence[str] = ()) -> list[tuple[int, int, str, bytes, str | None]]:
        """(article id, fetch id, URL, raw body, content type) of each article's latest good capture."""
        with self.sessions() as session:
            if urls:
                articles = [a for a in (find_article(session, u) for u in urls) if a is not None]
            else:
                articles = list(session.scalars(select(m.Article).order_by(m.Article.id)))
            found = []
            for article in articles:
                row = session.scalar(select(m.Fetch).where(m.Fetch.article_id == article.id, m.Fetch.status == 200,
                                                           m.Fetch.body_sha256.is_not(None),
                                                           m.Fetch.error.is_(None), _not_imported())
                                     .order_by(m.Fetch.fetched_at.desc(), m.Fetch.id.desc()).limit(1))
                if row is not None and article.version_count:
                    body = session.get(m.Body, row.body_sha256)
                    assert body is not None
                    found.append((article.id, row.id, row.final_url or row.url, decompress_body(body.data),
                                  row.content_type))
            return found

    def record_reextraction(self, article_id: int, fetch_id: int, extracted: Extracted) -> Outcome:
        """Compare a fresh extraction of a stored capture with the latest version; a difference is
        recorded as a version marked as extractor drift, never as a publisher's edit."""
        with self.sessions.begin() as session:
            writer = _Writer(session)
            row = session.get(m.Fetch, fetch_id)
            assert row is not None
            article = writer._lock(article_id)
            fetch = Capture(url=row.url, fetched_at=row.fetched_at, final_url=row.final_url, status=row.status)
            if not extracted.text.strip():
                return Outcome(row.url, RecordKind.EXTRACT_FAILED, article.id)
            plan = _Plan(fetch, article, False, row, FetchOutcome.CONTENT, extracted, drift=True)
            writer._fill_text(plan, extracted)
            result = writer._content(plan)
            if result.kind == RecordKind.UNCHANGED:
                return result
            return Outcome(row.url, RecordKind.DRIFT, article.id, result.version, result.change_kinds)

    def previous_body(self, url: str) -> tuple[str | None, str | None, str | None]:
        """(body sha256, ETag, Last-Modified) of the article's last good capture, for re-crawls."""
        with self.engine.connect().execution_options(**{READ_ONLY: True}) as conn:
            found = lookup(conn, url)
        return (found.last_body_sha256, found.etag, found.last_modified) if found else (None, None, None)


def find_article(session: Session, url: str) -> m.Article | None:
    """The article any of whose known URLs (or canonical URL) has the same key as ``url``."""
    found = lookup(session, url)
    return session.get(m.Article, found.id) if found else None


# The writer's per-capture queries, built once (their SQL is cached; only parameters change).
_OWNERS = select(m.ArticleURL.url, m.ArticleURL.article_id).where(
    m.ArticleURL.url.in_(bindparam("keys", expanding=True)))
_LOCK = (select(m.Article).where(m.Article.id == bindparam("id")).with_for_update()
         .execution_options(populate_existing=True))  # the row may already be in the session: re-read it
_VERSION = select(m.Version).where(m.Version.article_id == bindparam("article"),
                                   m.Version.number == bindparam("number"))
_BODY_EXISTS = select(m.Body.sha256).where(m.Body.sha256 == bindparam("sha"))


class _Writer:
    """The work of one transaction."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.texts: dict[int, str] = {}
        self.latest: dict[tuple[int, int], m.Version | None] = {}  # by (article id, version number)
        self.noise: dict[str, SiteNoise] = {}

    def _noise(self, host: str) -> SiteNoise:
        if host not in self.noise:
            self.noise[host] = SiteNoise(self.s, host)
        return self.noise[host]

    # -- planning -------------------------------------------------------------------------------

    def plan(self, fetch: Capture, extracted: Extracted | None) -> _Plan:
        article, created = self._article(fetch, extracted)
        body_sha = self._store_body(fetch.body)
        latest = self._latest(article)
        if fetch.status is not None and fetch.status < 300 and self._redirected_away(article, fetch):
            outcome = FetchOutcome.REDIRECTED
        elif (fetch.status == 200 and extracted is None and body_sha
                and body_sha == article.last_body_sha256 and latest is not None):
            outcome = FetchOutcome.SAME_BODY
        else:
            outcome = fetch_outcome(fetch, extracted, latest.words if latest else None)
        row = m.Fetch(article_id=article.id, url=fetch.url, final_url=fetch.final_url, fetched_at=fetch.fetched_at,
                      status=fetch.status, outcome=outcome, body_sha256=body_sha, content_type=fetch.content_type,
                      error=fetch.error)
        self.s.add(row)
        plan = _Plan(fetch, article, created, row, outcome, extracted)
        if outcome == FetchOutcome.CONTENT and extracted is not None:
            self._fill_text(plan, extracted)
        return plan

    def _article(self, fetch: Capture, extracted: Extracted | None) -> tuple[m.Article, bool]:
        keys = [url_key(fetch.url)]
        for extra in (fetch.final_url, extracted.canonical_url if extracted else None):
            try:
                keys.append(url_key(extra or ""))
            except BadURL:
                continue
        unique = list(dict.fromkeys(keys))
        owners: dict[str, int] = dict(self.s.execute(_OWNERS, {"keys": unique}).all())
        owner = next((owners[k] for k in unique if k in owners), None)  # the requested URL's owner first
        if owner is None:
            article, created = self._create_article(keys[0], fetch)
        else:
            article, created = self._lock(owner), False
        for key in unique:
            if key not in owners and (key == keys[0] or not _is_front_page(key)):
                self._insert_if_new(m.ArticleURL(article_id=article.id, url=key, first_seen=fetch.fetched_at))
        return article, created

    def _create_article(self, key: str, fetch: Capture) -> tuple[m.Article, bool]:
        """Insert the article, or, when another writer just created it, lock theirs: (article, created)."""
        article = m.Article(key=key, host=url_host(key), first_seen=fetch.fetched_at, status=ArticleStatus.LIVE,
                            version_count=0)
        if self._insert_if_new(article):
            return article, True
        theirs = self.s.scalars(select(m.Article.id).where(m.Article.key == key)).one()
        return self._lock(theirs), False

    def _insert_if_new(self, row: object) -> bool:
        """Insert ``row`` in a savepoint; False (and nothing inserted) when a unique key already exists."""
        try:
            with self.s.begin_nested():
                self.s.add(row)
        except IntegrityError:
            return False
        return True

    def _lock(self, article_id: int) -> m.Article:
        return self.s.scalars(_LOCK, {"id": article_id}).one()

    def _redirected_away(self, article: m.Article, fetch: Capture) -> bool:
        if not fetch.final_url or url_key(fetch.final_url) == url_key(fetch.url):
            return False
        final = url_key(fetch.final_url)
        owner = self.s.scalar(select(m.ArticleURL).where(m.ArticleURL.url == final))
        return _is_front_page(final) or (owner is not None and owner.article_id != article.id)

    def _store_body(self, body: bytes | None) -> str | None:
        if not body:
            return None
        sha = sha256(body)
        if self.s.scalar(_BODY_EXISTS, {"sha": sha}) is None:
            self._insert_if_new(m.Body(sha256=sha, size=len(body), data=compress_body(body)))
        return sha

    def _fill_text(self, plan: _Plan, extracted: Extracted) -> None:
        plan.text = clean_text(extracted.text)
        plan.paras = [comparable(p) for p in paragraphs(plan.text)]
        plan.hashes = [digest(p) for p in plan.paras]
        plan.boilerplate = {digest(comparable(b)) for b in extracted.boilerplate}

    # -- templates ------------------------------------------------------------------------------

    def learn_templates(self, plans: list[_Plan]) -> None:
        """Paragraphs added or removed identically in many articles of one site are template noise."""
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for plan in plans:
            latest = self._latest(plan.article)
            if latest is None:
                continue
            old, new = set(latest.paragraph_hashes), set(plan.hashes)
            counts[plan.article.host].update(old ^ new)
        for host, counter in counts.items():
            known = self._noise(host).templates
            for h, n in counter.items():
                if n >= TEMPLATE_MIN_ARTICLES and h not in known:
                    known.add(h)
                    self._insert_if_new(m.TemplateParagraph(host=host, hash=h, first_seen=plans[0].fetch.fetched_at))

    # -- applying -------------------------------------------------------------------------------

    def apply(self, plan: _Plan) -> Outcome:
        article, fetch = plan.article, plan.fetch
        article.last_checked = max(filter(None, [article.last_checked, fetch.fetched_at]))
        result = Outcome(fetch.url, plan.outcome, article.id)
        if plan.outcome in (FetchOutcome.CONTENT, FetchOutcome.SAME_BODY, FetchOutcome.NOT_MODIFIED):
            self._back_to_live(plan)
            if plan.outcome == FetchOutcome.CONTENT:
                result = self._content(plan)
            else:
                result.kind = RecordKind.UNCHANGED
        else:
            self._event_outcome(plan)
        self.s.flush()
        return result

    def _back_to_live(self, plan: _Plan) -> None:
        article = plan.article
        if article.status == ArticleStatus.GONE:
            self._event(plan, EventKind.RESTORED, None)
        elif article.status == ArticleStatus.FAILING and article.version_count:
            self._event(plan, EventKind.RECOVERED, None)
        article.status = ArticleStatus.LIVE
        if plan.fetch_row.body_sha256:
            article.last_body_sha256 = plan.fetch_row.body_sha256
        article.etag = plan.fetch.etag or article.etag
        article.last_modified = plan.fetch.last_modified or article.last_modified

    def _event_outcome(self, plan: _Plan) -> None:
        article = plan.article
        new_status = ArticleStatus.GONE if plan.outcome == FetchOutcome.GONE else ArticleStatus.FAILING
        last = self.s.scalar(select(m.Event.kind).where(m.Event.article_id == article.id)
                             .order_by(m.Event.at.desc(), m.Event.id.desc()).limit(1))
        if article.status != new_status or last != plan.outcome:
            detail = plan.fetch.error or (f"HTTP {plan.fetch.status}" if plan.fetch.status else None)
            if plan.outcome == FetchOutcome.REDIRECTED:
                detail = f"redirected to {plan.fetch.final_url}"
            self._event(plan, plan.outcome, detail)
        article.status = new_status

    def _event(self, plan: _Plan, kind: str, detail: str | None) -> None:
        self.s.flush()
        self.s.add(m.Event(article_id=plan.article.id, fetch_id=plan.fetch_row.id, at=plan.fetch.fetched_at,
                           kind=kind, detail=detail))

    def _content(self, plan: _Plan) -> Outcome:
        article, extracted = plan.article, plan.extracted
        assert extracted is not None
        latest = self._latest(article)
        state = self._state(article.host, extracted.title, extracted.byline, extracted.updated, plan.paras,
                            plan.hashes, plan.boilerplate)
        change = None
        if latest is not None:
            old_text = self._text(latest)
            old_paras = [comparable(p) for p in paragraphs(old_text)]
            old_state = self._state(article.host, latest.title, latest.byline, latest.updated, old_paras,
                                    latest.paragraph_hashes, set(latest.noise_hashes))
            if old_state == state:
                return Outcome(plan.fetch.url, RecordKind.UNCHANGED, article.id)
            change = classify(old_state, state)
        version = self._new_version(plan, latest, state, change)
        kind = RecordKind.NEW_ARTICLE if latest is None else RecordKind.NEW_VERSION
        return Outcome(plan.fetch.url, kind, article.id, version.number, change.kinds if change else None)

    def _state(self, host: str, title: str | None, byline: str | None, updated: str | None,
               paras: list[str], hashes: Iterable[str], boilerplate: set[str]) -> State:
        keep = self._noise(host).mask(paras, hashes, boilerplate)
        kept = tuple(p for p, k in zip(paras, keep) if k)
        return State(comparable(title or ""), comparable(byline or ""), updated, kept)

    def _new_version(self, plan: _Plan, latest: m.Version | None, state: State, change) -> m.Version:
        article, extracted, fetch = plan.article, plan.extracted, plan.fetch
        assert extracted is not None
        number = article.version_count + 1
        base = latest if latest is not None and (number - 1) % FULL_EVERY else None
        rules = self._noise(article.host).rules
        fingerprint = _fingerprint(state)
        noise = [h for p, h in zip(plan.paras, plan.hashes) if h in plan.boilerplate or is_noise(p, rules)]
        version = m.Version(
            article_id=article.id, number=number, captured_at=fetch.fetched_at, fetch_id=plan.fetch_row.id,
            title=extracted.title, byline=extracted.byline, published=extracted.published,
            updated=extracted.updated, site_name=extracted.site_name, language=extracted.language,
            canonical_url=extracted.canonical_url, description=extracted.description,
            text_blob=pack(plan.text, self._text(base) if base else None), text_base=base.number if base else None,
            text_sha256=sha256(plan.text.encode("utf-8")), words=len(plan.text.split()),
            paragraph_hashes=plan.hashes, noise_hashes=noise, extractor=extracted.extractor,
            change_kinds=change.kinds if change else None,
            added_words=change.added_words if change else None,
            removed_words=change.removed_words if change else None,
            declared=change.declared if change else None,
            reverts_to=self._reverts_to(article, fingerprint) if change else None, drift=plan.drift,
            state_sha256=fingerprint)
        self.s.add(version)
        article.version_count = number
        article.last_changed = fetch.fetched_at
        if extracted.canonical_url:
            try:
                article.canonical_url = url_key(extracted.canonical_url)
            except BadURL:
                pass
        self.s.flush()
        self.texts[version.id] = plan.text
        self.latest[article.id, number] = version
        return version

    def _reverts_to(self, article: m.Article, target: str) -> int | None:
        """The earlier version (not the latest) whose state fingerprint is ``target``: an A → B → A
        flip-flop. Versions stored before fingerprints were (state_sha256 NULL) are rebuilt to compare."""
        earlier = (m.Version.article_id == article.id, m.Version.number < article.version_count)
        match = self.s.scalar(select(m.Version.number).where(*earlier, m.Version.state_sha256 == target)
                              .order_by(m.Version.number.desc()).limit(1))
        unknown = select(m.Version).where(*earlier, m.Version.state_sha256.is_(None))
        if match is not None:
            unknown = unknown.where(m.Version.number > match)
        for row in self.s.scalars(unknown.order_by(m.Version.number.desc())):
            paras = [comparable(p) for p in paragraphs(self._text(row))]
            old = self._state(article.host, row.title, row.byline, row.updated, paras, row.paragraph_hashes,
                              set(row.noise_hashes))
            if _fingerprint(old) == target:
                return row.number
        return match

    def _latest(self, article: m.Article) -> m.Version | None:
        if not article.version_count:
            return None
        key = (article.id, article.version_count)
        if key not in self.latest:
            self.latest[key] = self.s.scalar(_VERSION, {"article": article.id, "number": article.version_count})
        return self.latest[key]

    def _text(self, version: m.Version) -> str:
        if version.id not in self.texts:
            self.texts[version.id] = read_text(self.s, version)
        return self.texts[version.id]


def _not_imported() -> Any:
    """Imported snapshots are text files, not HTML an extractor can re-read."""
    return m.Fetch.content_type.is_(None) | ~m.Fetch.content_type.contains(IMPORT_MARKER)


def _fingerprint(state: State) -> str:
    blob = "\x1f".join([state.title, state.byline, *state.paragraphs])
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _is_front_page(key: str) -> bool:
    return key.split("://", 1)[-1].split("/", 1)[-1] in ("", "?")
