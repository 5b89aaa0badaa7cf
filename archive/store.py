"""Record captures: each fetch becomes a new version, an unchanged mark, or an event.

One batch of captures is one transaction, so a crash leaves either all of a
batch or none of it. Version numbers are assigned inside that transaction from
the article row, which is locked first. Rows another writer may be inserting at
the same moment (articles, their URLs, bodies, template paragraphs) are inserted
in a savepoint, so losing that race costs the savepoint, not the batch.
"""
from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from difflib import SequenceMatcher
from typing import Any

from sqlalchemy import Engine, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from archive import chain, frontier
from archive import models as m
from archive.alerts import queue_alerts
from archive.capture import IMPORT_MARKER, Capture, Extracted
from archive.classify import Change, State, classify
from archive.db import READ_ONLY, ArchiveError
from archive.noise import noise_rule, strip_spans
from archive.normalize import BadURL, comparable, paragraphs, sha256, url_host, url_key
from archive.notices import is_editorial_notice
from archive.outcomes import fetch_outcome
from archive.prepare import prepare
from archive.queries import lookup
from archive.reading import SiteNoise, read_text
from archive.textpack import FULL_EVERY, compress_body, decompress_body, pack
from archive.vocab import ArticleStatus, EventKind, FetchOutcome, RecordKind

# A paragraph is learned as site template noise only when it changed, identically, in at least
# TEMPLATE_MIN_ARTICLES distinct articles of one site in one batch, and in a large share of the distinct
# articles of that site the batch saw: half of them when the page marks it as boilerplate (link-dense),
# four in five otherwise. Articles whose paragraphs mostly coincide (one story at several URLs, near
# copies) are one witness. Editorial notices are never learned.
TEMPLATE_MIN_ARTICLES = 5
TEMPLATE_SHARE_WITH_EVIDENCE = 0.5
TEMPLATE_SHARE_BARE = 0.8
SAME_STORY = 0.5  # Jaccard similarity of two articles' paragraph sets above which they are one witness


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
    spans: list[str] = field(default_factory=list)
    drift: bool = False


class Archive:
    """The versioned store."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        chain.watch(self.sessions)  # every fetch and version joins the tamper-evident chain
        frontier.watch(self.sessions)  # tracked URLs' next re-check follows their articles

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

    def renoise_targets(self, urls: Sequence[str] = (), site: str | None = None) -> list[tuple[int, str]]:
        """(id, URL) of the articles to re-evaluate: those of the URLs given, of one site, or every article."""
        with self.sessions() as session:
            if urls:
                found = []
                for url in urls:
                    article = find_article(session, url)
                    if article is None:
                        raise ArchiveError(f"no archived article for {url}; see 'redline list'")
                    found.append((article.id, article.key))
                return found
            query = select(m.Article.id, m.Article.key).where(m.Article.version_count > 0).order_by(m.Article.id)
            if site:
                query = query.where(m.Article.host == site.lower())
            return [(row.id, row.key) for row in session.execute(query)]

    def stored_captures(self, article_id: int) -> list[tuple[int, str, bytes | None, str | None]]:
        """(fetch id, URL, raw body, content type) of every capture that made a version or that was compared
        with one (``content`` and ``noise-only`` fetches), oldest first: what ``renoise`` re-decides."""
        with self.sessions() as session:
            made = select(m.Version.fetch_id).where(m.Version.article_id == article_id)
            rows = session.execute(
                select(m.Fetch.id, m.Fetch.final_url, m.Fetch.url, m.Fetch.body_sha256, m.Fetch.content_type)
                .where(m.Fetch.article_id == article_id,
                       m.Fetch.id.in_(made) | (m.Fetch.outcome.in_((FetchOutcome.CONTENT, FetchOutcome.NOISE_ONLY))
                                               & m.Fetch.body_sha256.is_not(None)))
                .order_by(m.Fetch.fetched_at, m.Fetch.id)).all()
            found = []
            for row in rows:
                body = session.get(m.Body, row.body_sha256) if row.body_sha256 else None
                found.append((row.id, row.final_url or row.url, decompress_body(body.data) if body else None,
                              row.content_type))
            return found

    def record_renoise(self, article_id: int, captures: Sequence[tuple[int, Extracted | None]],
                       now: datetime) -> list[Outcome]:
        """Re-decide, under the current noise rules, which of an article's captures were real edits.

        ``captures`` are the article's stored captures extracted again, oldest first (None where a capture
        cannot be re-extracted, such as an imported text). Each capture is compared with the one before it,
        both extracted by the same extractor, so extractor changes cancel out. A capture that differs but
        made no version gets one now: the next free number, its capture time, and ``recovered_at``. Nothing
        already recorded is changed, deleted or renumbered.
        """
        with self.sessions.begin() as session:
            writer = _Writer(session)
            article = writer._lock(article_id)
            made: dict[int | None, m.Version] = {
                v.fetch_id: v for v in session.scalars(select(m.Version).where(m.Version.article_id == article_id)
                                                       .order_by(m.Version.number))}
            noise, previous, outcomes = writer._noise(article.host), None, []
            for fetch_id, extracted in captures:
                row = session.get(m.Fetch, fetch_id)
                assert row is not None
                if extracted is None or not extracted.text.strip():
                    previous = writer._side(made[fetch_id]) if fetch_id in made else previous
                    continue
                fetch = Capture(url=row.url, fetched_at=row.fetched_at, final_url=row.final_url, status=row.status)
                plan = _Plan(fetch, article, False, row, FetchOutcome.CONTENT, extracted)
                writer._fill_text(plan, extracted)
                side = _plan_side(plan)
                if fetch_id not in made and previous is not None:
                    old_state, state, _ = _compare(noise, previous, side)
                    if old_state == state:
                        continue
                    change = classify(old_state, state)
                    version = writer._new_version(plan, None, state, change, recovered_at=now)
                    outcomes.append(Outcome(row.url, RecordKind.RECOVERED, article.id, version.number, change.kinds))
                previous = side
            return outcomes

    def previous_body(self, url: str) -> tuple[str | None, str | None, str | None]:
        """(body sha256, ETag, Last-Modified) of the article's last good capture, for re-crawls."""
        with self.engine.connect().execution_options(**{READ_ONLY: True}) as conn:
            found = lookup(conn, url)
        return (found.last_body_sha256, found.etag, found.last_modified) if found else (None, None, None)


def _stamp_unknown(extracted: Extracted) -> bool:
    """An imported plain text snapshot without an ``Updated:`` line may simply not carry the page's update
    time, so it cannot tell a declared edit from a stealth one: its ``declared`` stays unknown (None)."""
    return extracted.extractor == "import:txt" and extracted.updated is None


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
        ready = extracted.prepared or prepare(extracted)  # the pool's workers prepare crawled pages
        plan.text, plan.spans, plan.paras = ready.text, list(ready.spans), list(ready.paras)
        plan.hashes, plan.boilerplate = list(ready.hashes), set(ready.boilerplate)

    # -- templates ------------------------------------------------------------------------------

    def learn_templates(self, plans: list[_Plan]) -> None:
        """Learn site template paragraphs from the batch; see TEMPLATE_MIN_ARTICLES for the evidence needed."""
        by_host: dict[str, list[_Plan]] = defaultdict(list)
        for plan in plans:
            if self._latest(plan.article) is not None:
                by_host[plan.article.host].append(plan)
        for host, group in by_host.items():
            witness = _witnesses([set(p.hashes) for p in group])
            seen = len(set(witness))
            if seen < TEMPLATE_MIN_ARTICLES:
                continue
            changed: dict[str, set[int]] = defaultdict(set)
            for plan, w in zip(group, witness):
                latest = self._latest(plan.article)
                assert latest is not None
                for h in set(latest.paragraph_hashes) ^ set(plan.hashes):
                    changed[h].add(w)
            known = self._noise(host).templates
            for h, ws in changed.items():
                if h in known or len(ws) < max(TEMPLATE_MIN_ARTICLES, math.ceil(TEMPLATE_SHARE_WITH_EVIDENCE * seen)):
                    continue
                text, marked = self._template_text(h, group)
                if (text is None or is_editorial_notice(text) or noise_rule(text) is not None  # nothing to learn
                        or (not marked and len(ws) < TEMPLATE_SHARE_BARE * seen)):
                    continue
                known.add(h)
                examples = sorted({p.article.key for p, w in zip(group, witness) if w in ws})[:3]
                self._insert_if_new(m.TemplateParagraph(host=host, hash=h, first_seen=group[0].fetch.fetched_at,
                                                        text=text, witnesses=len(ws), seen=seen, examples=examples))

    def _template_text(self, h: str, group: list[_Plan]) -> tuple[str | None, bool]:
        """A learned paragraph's text, and whether a page marked it as boilerplate (link-dense)."""
        marked = any(h in p.boilerplate for p in group)
        for plan in group:
            if h in plan.hashes:
                return plan.paras[plan.hashes.index(h)], marked
        for plan in group:
            latest = self._latest(plan.article)
            if latest is not None and h in latest.paragraph_hashes:
                marked = marked or h in latest.noise_hashes
                return comparable(paragraphs(self._text(latest))[latest.paragraph_hashes.index(h)]), marked
        return None, marked

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
        """Compare a fetched text with the article's latest version under the current noise rules.

        What the rules skipped among the paragraphs that changed is kept on the fetch row; a fetch that
        differs from the latest version only there is recorded as ``noise-only``, never silently.
        """
        article, extracted = plan.article, plan.extracted
        assert extracted is not None
        latest = self._latest(article)
        noise = self._noise(article.host)
        if latest is None:
            state, _ = _state(noise, extracted, plan.paras, plan.hashes, plan.boilerplate)
            version = self._new_version(plan, None, state, None)
            return Outcome(plan.fetch.url, RecordKind.NEW_ARTICLE, article.id, version.number)
        old_state, state, evidence = _compare(noise, self._side(latest), _plan_side(plan))
        plan.fetch_row.noise = evidence or None
        if old_state == state:
            if evidence:
                plan.fetch_row.outcome = FetchOutcome.NOISE_ONLY
            return Outcome(plan.fetch.url, RecordKind.UNCHANGED, article.id)
        change = classify(old_state, state)
        version = self._new_version(plan, latest, state, change)
        return Outcome(plan.fetch.url, RecordKind.NEW_VERSION, article.id, version.number, change.kinds)

    def _side(self, version: m.Version) -> _Side:
        """A stored version in the form it is compared in."""
        spans = version.noise_spans or []
        paras = [strip_spans(comparable(p), spans) for p in paragraphs(self._text(version))]
        return _Side(version, paras, version.paragraph_hashes, set(version.noise_hashes), spans)

    def _new_version(self, plan: _Plan, latest: m.Version | None, state: State, change: Change | None,
                     recovered_at: datetime | None = None) -> m.Version:
        """Insert the next-numbered version. A recovered version (see ``renoise``) is stored whole and
        becomes the article's latest only if it was captured after the current latest."""
        article, extracted, fetch = plan.article, plan.extracted, plan.fetch
        assert extracted is not None
        number = article.version_count + 1
        base = latest if latest is not None and recovered_at is None and (number - 1) % FULL_EVERY else None
        own, _ = _state(self._noise(article.host), extracted, plan.paras, plan.hashes, plan.boilerplate)
        fingerprint = _fingerprint(own)
        version = m.Version(
            article_id=article.id, number=number, captured_at=fetch.fetched_at, fetch_id=plan.fetch_row.id,
            title=extracted.title, byline=extracted.byline, published=extracted.published,
            updated=extracted.updated, updated_signal=extracted.updated_signal, site_name=extracted.site_name,
            language=extracted.language, canonical_url=extracted.canonical_url, description=extracted.description,
            text_blob=pack(plan.text, self._text(base) if base else None), text_base=base.number if base else None,
            text_sha256=sha256(plan.text.encode("utf-8")), words=len(plan.text.split()),
            paragraph_hashes=plan.hashes, noise_hashes=[h for h in plan.hashes if h in plan.boilerplate],
            noise_spans=plan.spans or None, extractor=extracted.extractor,
            change_kinds=change.kinds if change else None,
            added_words=change.added_words if change else None,
            removed_words=change.removed_words if change else None,
            declared=change.declared if change and not _stamp_unknown(extracted) else None,
            reverts_to=self._reverts_to(article, fingerprint) if change else None, drift=plan.drift,
            state_sha256=fingerprint, recovered_at=recovered_at)
        self.s.add(version)
        queue_alerts(self.s, article.id, article.host, number, change, plan.drift)  # same transaction
        article.version_count = number
        current = self._latest(article) if recovered_at else None
        if current is None or current.captured_at <= fetch.fetched_at:
            article.latest_version = number
            if extracted.canonical_url:
                try:
                    article.canonical_url = url_key(extracted.canonical_url)
                except BadURL:
                    pass
        article.last_changed = max(filter(None, [article.last_changed if recovered_at else None, fetch.fetched_at]))
        self.s.flush()
        self.texts[version.id] = plan.text
        self.latest[article.id, number] = version
        return version

    def _reverts_to(self, article: m.Article, target: str) -> int | None:
        """The earlier version (not the latest) whose state fingerprint is ``target``: an A → B → A
        flip-flop. Versions stored before fingerprints were (state_sha256 NULL) are rebuilt to compare."""
        latest = article.latest_version or article.version_count
        earlier = (m.Version.article_id == article.id, m.Version.number != latest)
        match = self.s.scalar(select(m.Version.number).where(*earlier, m.Version.state_sha256 == target)
                              .order_by(m.Version.captured_at.desc()).limit(1))
        unknown = select(m.Version).where(*earlier, m.Version.state_sha256.is_(None))
        if match is not None:
            unknown = unknown.where(m.Version.number > match)
        for row in self.s.scalars(unknown.order_by(m.Version.number.desc())):
            side = self._side(row)
            old, _ = _state(self._noise(article.host), row, side.paras, side.hashes, side.boilerplate)
            if _fingerprint(old) == target:
                return row.number
        return match

    def _latest(self, article: m.Article) -> m.Version | None:
        """The version the article is in now (the one captured last)."""
        number = article.latest_version or article.version_count
        if not number:
            return None
        key = (article.id, number)
        if key not in self.latest:
            self.latest[key] = self.s.scalar(_VERSION, {"article": article.id, "number": number})
        return self.latest[key]

    def _text(self, version: m.Version) -> str:
        if version.id not in self.texts:
            self.texts[version.id] = read_text(self.s, version)
        return self.texts[version.id]


def _not_imported() -> Any:
    """Imported snapshots are text files, not HTML an extractor can re-read."""
    return m.Fetch.content_type.is_(None) | ~m.Fetch.content_type.contains(IMPORT_MARKER)


def _state(noise: SiteNoise, source: Extracted | m.Version, paras: list[str], hashes: Sequence[str],
           boilerplate: set[str], language: str | None = None) -> tuple[State, list[str | None]]:
    """The compared state of a text (its significant paragraphs), and the rule that skipped each paragraph."""
    skips = noise.skipped_by(paras, hashes, boilerplate, language or source.language)
    kept = tuple(p for p, rule in zip(paras, skips) if rule is None)
    return State(comparable(source.title or ""), comparable(source.byline or ""), source.updated, kept), skips


@dataclass
class _Side:
    """One side of a comparison: a text's metadata and its paragraphs as compared."""

    source: Extracted | m.Version
    paras: list[str]
    hashes: Sequence[str]
    boilerplate: set[str]
    spans: list[str]


def _plan_side(plan: _Plan) -> _Side:
    assert plan.extracted is not None
    return _Side(plan.extracted, plan.paras, plan.hashes, plan.boilerplate, plan.spans)


def _compare(noise: SiteNoise, old: _Side, new: _Side) -> tuple[State, State, list[dict[str, str]]]:
    """Both sides' compared states under one mask, and the changed paragraphs a rule skipped."""
    boilerplate = old.boilerplate | new.boilerplate  # a paragraph on both sides is masked on both or neither
    language = new.source.language or old.source.language
    old_state, old_skips = _state(noise, old.source, old.paras, old.hashes, boilerplate, language)
    new_state, new_skips = _state(noise, new.source, new.paras, new.hashes, boilerplate, language)
    evidence = _evidence(old.paras, old.hashes, old_skips, new.paras, new.hashes, new_skips)
    return old_state, new_state, evidence + _span_evidence(old.spans, new.spans)


def _evidence(old: list[str], old_hashes: Sequence[str], old_skips: list[str | None],
              new: list[str], new_hashes: Sequence[str], new_skips: list[str | None]) -> list[dict[str, str]]:
    """The changed paragraphs that a noise rule skipped, each with its rule.

    >>> _evidence(["A", "3 hours ago"], ["a", "t3"], [None, "relative-time"],
    ...           ["A", "4 hours ago"], ["a", "t4"], [None, "relative-time"])
    [{'change': 'removed', 'text': '3 hours ago', 'rule': 'relative-time'}, {'change': 'added', 'text': '4 hours ago', 'rule': 'relative-time'}]
    """
    found = []
    for op, i1, i2, j1, j2 in SequenceMatcher(a=old_hashes, b=new_hashes, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        found += [{"change": "removed", "text": old[i], "rule": old_skips[i]} for i in range(i1, i2) if old_skips[i]]
        found += [{"change": "added", "text": new[j], "rule": new_skips[j]} for j in range(j1, j2) if new_skips[j]]
    return found  # type: ignore[return-value]


def _span_evidence(old: list[str], new: list[str]) -> list[dict[str, str]]:
    """Teasers and stamps inside longer paragraphs that appeared or went away."""
    return ([{"change": "removed", "text": s, "rule": "in-paragraph"} for s in old if s not in new]
            + [{"change": "added", "text": s, "rule": "in-paragraph"} for s in new if s not in old])


def _witnesses(bodies: list[set[str]]) -> list[int]:
    """A witness number per article: articles whose paragraph sets mostly coincide share one.

    >>> _witnesses([{"a", "b", "c"}, {"a", "b", "c", "x"}, {"d", "e"}])
    [0, 0, 2]
    """
    witness = list(range(len(bodies)))
    for i, body in enumerate(bodies):
        for j in range(i):
            union = body | bodies[j]
            if union and len(body & bodies[j]) / len(union) >= SAME_STORY:
                witness[i] = witness[j]
                break
    return witness


def _fingerprint(state: State) -> str:
    blob = "\x1f".join([state.title, state.byline, *state.paragraphs])
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _is_front_page(key: str) -> bool:
    return key.split("://", 1)[-1].split("/", 1)[-1] in ("", "?")
