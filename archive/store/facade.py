"""Record captures: each fetch becomes a new version, an unchanged mark, or an event.

One batch of captures is one transaction, so a crash leaves either all of a
batch or none of it. Version numbers are assigned inside that transaction from
the article row, which is locked first. Rows another writer may be inserting at
the same moment (articles, their URLs, bodies, template paragraphs) are inserted
in a savepoint, so losing that race costs the savepoint, not the batch.
"""
from __future__ import annotations

import copy
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from archive.capture import IMPORT_MARKER, Capture, Extracted
from archive.errors import ArchiveError
from archive.proof import chain
from archive.queries import lookup, validators
from archive.queries.bodies import BodyReader, read_body
from archive.schema import models as m
from archive.schema.db import READ_ONLY
from archive.store import indexing, stamps
from archive.store import screenshots as shots
from archive.store.compare import compare
from archive.store.learning import CrawlEvidence
from archive.store.outcomes import Recorded
from archive.store.writer import Claimed, Plan, Writer, plan_side
from archive.text.classify import classify
from archive.vocab import EventKind, FetchOutcome, RecordKind
from archive.watch import frontier


class Archive:
    """The versioned store."""

    def __init__(self, engine: Engine, screenshots: bool = False, screenshot_hosts: Collection[str] = ()) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        chain.watch(self.sessions)  # every fetch and version joins the tamper-evident chain
        frontier.watch(self.sessions)  # tracked URLs' next re-check follows their articles
        indexing.watch(self.sessions)  # every version is searchable from the transaction that adds it
        if screenshots:
            shots.want(self.sessions)  # every new version is marked for a screenshot as it is recorded
        elif screenshot_hosts:
            shots.want(self.sessions, screenshot_hosts)  # those of the sites set to have them

    def want_screenshot(self, article_id: int, number: int) -> None:
        """Mark one version for a screenshot (again); an ArchiveError when it has no such version."""
        shots.mark(self.sessions, article_id, number)

    def want_failed_screenshots(self) -> int:
        """Mark again the versions whose screenshot failed and that still have none; how many."""
        return shots.mark_failed(self.sessions)

    def record_screenshot(self, version_id: int, image: bytes, taken_at: datetime, **how: Any) -> int:
        """Store a version's screenshot (see :func:`archive.store.screenshots.record`)."""
        return shots.record(self.sessions, version_id, image, taken_at, **how)

    def screenshot_failed(self, version_id: int, reason: str) -> None:
        """Record why a version has no screenshot, as a ``screenshot-failed`` event."""
        shots.failed(self.sessions, version_id, reason)

    def record(self, fetch: Capture, extracted: Extracted | None) -> Recorded:
        """Record one capture in its own transaction."""
        return self.record_batch([(fetch, extracted)])[0]

    def record_batch(self, captures: Sequence[tuple[Capture, Extracted | None]],
                     evidence: CrawlEvidence | None = None) -> list[Recorded]:
        """Record captures in one transaction, adding them to the crawl's ``evidence`` (one batch's own
        when None) to learn site template noise and group site-wide edits (``archive.store.learning``).

        ``evidence`` is updated only when the transaction commits, so a failed batch leaves no trace in it.
        """
        work = copy.deepcopy(evidence) if evidence is not None else CrawlEvidence()
        with self.sessions.begin() as session:
            writer = Writer(session, work)
            plans = [writer.plan(f, e) for f, e in captures]
            writer.learn_templates([p for p in plans if p.outcome == FetchOutcome.CONTENT])
            results = [writer.apply(p) for p in plans]
            writer.group_site_wide(results)
        if evidence is not None:
            vars(evidence).update(vars(work))
        return results

    def record_imported(self, fetch: Capture, extracted: Extracted | None, is_version: bool,
                        claimed: Claimed | None = None, event: str | None = None) -> Recorded:
        """Record one imported capture in its own transaction (see :meth:`Writer.apply_imported`); with
        ``event``, a fetch that made that event in the archive it came from, recorded as that outcome, or,
        for a restoration or recovery that made no version, as a good fetch that brought the article back."""
        with self.sessions.begin() as session:
            writer = Writer(session)
            plan = writer.plan(fetch, extracted)
            if event in (EventKind.RESTORED, EventKind.RECOVERED):
                plan.outcome = plan.fetch_row.outcome = FetchOutcome.CONTENT
                plan.reason, plan.fetch_row.error = None, fetch.error  # its body was not exported: not a failure
                return writer.apply_imported(plan, False)
            if event is not None:
                plan.outcome = plan.fetch_row.outcome = event
                return writer.apply(plan)
            return writer.apply_imported(plan, is_version, claimed)

    def raw_captures(self, urls: Sequence[str] = ()) -> list[tuple[int, int, str, bytes, str | None]]:
        """(article id, fetch id, URL, raw body, content type) of each article's latest good capture: an HTTP 200
        with a body (its ``error`` may say why it gave no article, so that is no filter here). The body is the
        rendered DOM for a page fetched through a browser: its text came from that."""
        with self.sessions() as session:
            if urls:
                articles = [a for a in (find_article(session, u) for u in urls) if a is not None]
            else:
                articles = list(session.scalars(select(m.Article).order_by(m.Article.id)))
            found = []
            for article in articles:
                row = session.scalar(select(m.Fetch).where(m.Fetch.article_id == article.id, m.Fetch.status == 200,
                                                           m.Fetch.body_sha256.is_not(None), _not_imported())
                                     .order_by(m.Fetch.fetched_at.desc(), m.Fetch.id.desc()).limit(1))
                if row is not None and article.version_count:
                    found.append((article.id, row.id, row.final_url or row.url,
                                  read_body(session, row.rendered_sha256 or row.body_sha256), row.content_type))
            return found

    def record_reextraction(self, article_id: int, fetch_id: int, extracted: Extracted) -> Recorded:
        """Compare a fresh extraction of a stored capture with the latest version; a difference is
        recorded as a version marked as extractor drift, never as a publisher's edit."""
        with self.sessions.begin() as session:
            writer = Writer(session)
            row = session.get(m.Fetch, fetch_id)
            assert row is not None
            article = writer._lock(article_id)
            fetch = Capture(url=row.url, fetched_at=row.fetched_at, final_url=row.final_url, status=row.status)
            if not extracted.text.strip():
                return Recorded(row.url, RecordKind.EXTRACT_FAILED, article.id)
            plan = Plan(fetch, article, False, row, FetchOutcome.CONTENT, extracted, drift=True)
            writer._fill_text(plan, extracted)
            result = writer._content(plan)
            if result.kind == RecordKind.UNCHANGED:
                return result
            return Recorded(row.url, RecordKind.DRIFT, article.id, result.version, result.change_kinds)

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
        with one (``content`` and ``noise-only`` fetches), oldest first: what ``renoise`` re-decides. A page
        fetched through a browser gives its rendered DOM, whose text it was."""
        with self.sessions() as session:
            made = select(m.Version.fetch_id).where(m.Version.article_id == article_id)
            rows = session.execute(
                select(m.Fetch.id, m.Fetch.final_url, m.Fetch.url, m.Fetch.body_sha256, m.Fetch.content_type,
                       m.Fetch.rendered_sha256)
                .where(m.Fetch.article_id == article_id,
                       m.Fetch.id.in_(made) | (m.Fetch.outcome.in_((FetchOutcome.CONTENT, FetchOutcome.NOISE_ONLY))
                                               & m.Fetch.body_sha256.is_not(None)))
                .order_by(m.Fetch.fetched_at, m.Fetch.id)).all()
            found = []
            bodies = BodyReader(session)  # an article's captures in order: each delta decoded once
            for row in rows:
                sha = row.rendered_sha256 or row.body_sha256
                body = bodies.read(sha) if sha else None
                found.append((row.id, row.final_url or row.url, body, row.content_type))
            return found

    def record_renoise(self, article_id: int, captures: Sequence[tuple[int, Extracted | None]],
                       now: datetime) -> list[Recorded]:
        """Re-decide, under the current noise rules, which of an article's captures were real edits.

        ``captures`` are the article's stored captures extracted again, oldest first (None where a capture
        cannot be re-extracted, such as an imported text). Each capture is compared with the one before it,
        both extracted by the same extractor, so extractor changes cancel out. A capture that differs but
        made no version gets one now: the next free number, its capture time, and ``recovered_at``. Nothing
        already recorded is changed, deleted or renumbered.
        """
        with self.sessions.begin() as session:
            writer = Writer(session)
            article = writer._lock(article_id)
            made: dict[int | None, m.Version] = {
                v.fetch_id: v for v in session.scalars(select(m.Version).where(m.Version.article_id == article_id)
                                                       .order_by(m.Version.number))}
            noise, previous, previous_at, outcomes = writer._noise(article.host), None, None, []
            for fetch_id, extracted in captures:
                row = session.get(m.Fetch, fetch_id)
                assert row is not None
                if extracted is None or not extracted.text.strip():
                    if fetch_id in made:
                        previous, previous_at = writer._side(made[fetch_id]), row.fetched_at
                    continue
                fetch = Capture(url=row.url, fetched_at=row.fetched_at, final_url=row.final_url, status=row.status)
                plan = Plan(fetch, article, False, row, FetchOutcome.CONTENT, extracted)
                writer._fill_text(plan, extracted)
                side = plan_side(plan)
                if fetch_id not in made and previous is not None:
                    old_state, state, _ = compare(noise, previous, side)
                    old_state, state = stamps.replay(session, row, extracted, previous.source,
                                                     previous_at or row.fetched_at, old_state, state)
                    change = classify(old_state, state)
                    if not change.kinds:
                        continue
                    version = writer._new_version(plan, None, state, change, recovered_at=now)
                    outcomes.append(Recorded(row.url, RecordKind.RECOVERED, article.id, version.number, change.kinds))
                previous, previous_at = side, row.fetched_at
            return outcomes

    def previous_body(self, url: str) -> tuple[str | None, str | None, str | None]:
        """(body sha256, ETag, Last-Modified) of the last good capture requested at ``url``, for re-crawls."""
        with self.engine.connect().execution_options(**{READ_ONLY: True}) as conn:
            return validators(conn, url)


def find_article(session: Session, url: str) -> m.Article | None:
    """The article any of whose URLs (requested or redirected to) has the same key as ``url``."""
    found = lookup(session, url)
    return session.get(m.Article, found.id) if found else None


def _not_imported() -> Any:
    """Imported snapshots are text files, not HTML an extractor can re-read."""
    return m.Fetch.content_type.is_(None) | ~m.Fetch.content_type.contains(IMPORT_MARKER)
