"""The writer: the work of one transaction, planning each capture then applying it (a version, an
unchanged mark or an event)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Row, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.capture import Capture, Extracted
from archive.queries.bodies import BodyReader
from archive.queries.reading import SiteNoise, read_text
from archive.schema import models as m
from archive.store import learning, stamps
from archive.store.compare import Side, compare, compared_state, state_fingerprint
from archive.store.outcomes import Recorded, failure_reason, fetch_outcome
from archive.text.classify import Change, State, classify
from archive.text.noise import noise_rule, strip_spans
from archive.text.normalize import BadURL, comparable, digest, paragraphs, sha256, url_host, url_key
from archive.text.notices import is_editorial_notice
from archive.text.prepare import prepare
from archive.text.textpack import BODY_KEY_EVERY, FULL_EVERY, compress_body, pack
from archive.vocab import TAKEDOWNS, ArticleStatus, ChangeKind, EventKind, FetchOutcome, RecordKind
from archive.watch.alerts import queue_alerts, queue_event_alerts, queue_site_wide_alerts


@dataclass
class Plan:
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
    url_row: m.ArticleURL | None = None  # the requested URL's row: its validators (None when another writer owns it)
    reason: str | None = None  # why a page the server answered gave no article (stored as the fetch's error)


@dataclass
class Claimed:
    """What an imported export says one version was, kept as it was claimed instead of recomputed
    (see :meth:`Writer.apply_imported`); None fields are the store's own to decide."""

    change_kinds: list[str] | None = None
    added_words: int | None = None
    removed_words: int | None = None
    declared: bool | None = None
    drift: bool = False
    recovered_at: datetime | None = None


# The writer's per-capture queries, built once (their SQL is cached; only parameters change).
_URL_ROWS = select(m.ArticleURL).where(m.ArticleURL.url.in_(bindparam("keys", expanding=True)))
_LOCK = (select(m.Article).where(m.Article.id == bindparam("id")).with_for_update()
         .execution_options(populate_existing=True))  # the row may already be in the session: re-read it
_VERSION = select(m.Version).where(m.Version.article_id == bindparam("article"),
                                   m.Version.number == bindparam("number"))
_BODY_EXISTS = select(m.Body.sha256).where(m.Body.sha256 == bindparam("sha"))
_LAST_BODY = (select(m.Fetch.body_sha256, m.Body.depth).join(m.Body, m.Body.sha256 == m.Fetch.body_sha256)
              .where(m.Fetch.article_id == bindparam("article"), m.Fetch.url == bindparam("url"))
              .order_by(m.Fetch.fetched_at.desc(), m.Fetch.id.desc()).limit(1))


class Writer:
    """The work of one transaction."""

    def __init__(self, session: Session, evidence: learning.CrawlEvidence | None = None) -> None:
        self.s = session
        self.evidence = evidence if evidence is not None else learning.CrawlEvidence()
        self.touched: set[str] = set()  # hosts whose site-wide evidence this transaction added to
        self.texts: dict[int, str] = {}
        self.latest: dict[tuple[int, int], m.Version | None] = {}  # by (article id, version number)
        self.noise: dict[str, SiteNoise] = {}
        self.bodies = BodyReader(session)

    def _noise(self, host: str) -> SiteNoise:
        if host not in self.noise:
            self.noise[host] = SiteNoise(self.s, host)
        return self.noise[host]

    # -- planning -------------------------------------------------------------------------------

    def plan(self, fetch: Capture, extracted: Extracted | None) -> Plan:
        article, created, url_row = self._article(fetch)
        body_sha = self._store_body(fetch, article)
        rendered_sha = self._store_rendered(fetch)
        latest = self._latest(article)
        if fetch.status is not None and fetch.status < 300 and self._redirected_away(article, fetch):
            outcome = FetchOutcome.REDIRECTED
        elif (fetch.status == 200 and extracted is None and body_sha and url_row is not None
                and body_sha == url_row.last_body_sha256 and latest is not None):
            outcome = FetchOutcome.SAME_BODY
        else:
            outcome = fetch_outcome(fetch, extracted, latest.words if latest else None)
        reason = failure_reason(fetch, extracted, outcome, latest.words if latest else None)
        row = m.Fetch(article_id=article.id, url=fetch.url, final_url=fetch.final_url, fetched_at=fetch.fetched_at,
                      status=fetch.status, outcome=outcome, body_sha256=body_sha, content_type=fetch.content_type,
                      error=fetch.error or reason, fetched_with=fetch.fetched_with, rendered_sha256=rendered_sha)
        self.s.add(row)
        plan = Plan(fetch, article, created, row, outcome, extracted, url_row=url_row, reason=reason)
        if outcome == FetchOutcome.CONTENT and extracted is not None:
            self._fill_text(plan, extracted)
        return plan

    def _article(self, fetch: Capture) -> tuple[m.Article, bool, m.ArticleURL | None]:
        """The article a capture belongs to, and the requested URL's row: (article, created, row).

        An article is the URL requested and the URL a redirect ended at (a moved slug stays one article).
        The page's canonical link is no part of it: a copy at another URL naming the original is an article
        of its own, related to the original by ``canonical_url`` (``queries.related``), never merged into it.
        """
        keys = [url_key(fetch.url)]
        try:
            keys.append(url_key(fetch.final_url or ""))
        except BadURL:
            pass
        unique = list(dict.fromkeys(keys))
        rows = {row.url: row for row in self.s.scalars(_URL_ROWS, {"keys": unique})}
        owner = next((rows[k].article_id for k in unique if k in rows), None)  # the requested URL's owner first
        if owner is None:
            article, created = self._create_article(keys[0], fetch)
        else:
            article, created = self._lock(owner), False
        for key in unique:
            if key not in rows and (key == keys[0] or not is_front_page(key)):
                row = m.ArticleURL(article_id=article.id, url=key, first_seen=fetch.fetched_at)
                if self._insert_if_new(row):
                    rows[key] = row
        requested = rows.get(keys[0])
        return article, created, requested if requested is not None and requested.article_id == article.id else None

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
        return is_front_page(final) or (owner is not None and owner.article_id != article.id)

    def _store_body(self, fetch: Capture, article: m.Article) -> str | None:
        """Store a raw body once per sha256, against the body the last fetch of the same URL brought, if any
        (whatever that fetch's outcome: a failed extraction's body is as good a base)."""
        body = fetch.body
        if not body:
            return None
        sha = sha256(body)
        if self.s.scalar(_BODY_EXISTS, {"sha": sha}) is None:
            last = self.s.execute(_LAST_BODY, {"article": article.id, "url": fetch.url}).first()
            self._insert_if_new(self._body_row(sha, body, last))
        self.bodies.known(sha, body)
        return sha

    def _store_rendered(self, fetch: Capture) -> str | None:
        """Store a rendered DOM once per sha256, whole (a DOM differs from the shell it was served as)."""
        if not fetch.rendered:
            return None
        sha = sha256(fetch.rendered)
        if self.s.scalar(_BODY_EXISTS, {"sha": sha}) is None:
            self._insert_if_new(self._body_row(sha, fetch.rendered, None))
        self.bodies.known(sha, fetch.rendered)
        return sha

    def _body_row(self, sha: str, body: bytes, last: Row[tuple[str, int]] | None) -> m.Body:
        """A delta against the ``last`` (body sha256, depth), or a keyframe when there is none or its chain is full."""
        if last is None or last.depth + 1 >= BODY_KEY_EVERY:
            return m.Body(sha256=sha, size=len(body), data=compress_body(body), base_sha256=None, depth=0)
        return m.Body(sha256=sha, size=len(body), data=compress_body(body, self.bodies.read(last.body_sha256)),
                      base_sha256=last.body_sha256, depth=last.depth + 1)

    def _fill_text(self, plan: Plan, extracted: Extracted) -> None:
        ready = extracted.prepared or prepare(extracted)  # the pool's workers prepare crawled pages
        plan.text, plan.spans, plan.paras = ready.text, list(ready.spans), list(ready.paras)
        plan.hashes, plan.boilerplate = list(ready.hashes), set(ready.boilerplate)

    # -- templates and site-wide edits (the evidence rules are archive.store.learning's) ------------

    def learn_templates(self, plans: list[Plan]) -> None:
        """Add the batch's captures to the crawl's evidence, then learn the site template paragraphs it
        now supports (see archive.store.learning)."""
        hosts = set()
        for plan in plans:
            site = self.evidence.site(plan.article.host)
            site.add(self._seen(plan))
            hosts.add(plan.article.host)
        for host in sorted(hosts):
            known = self._noise(host).templates
            for learned in self.evidence.site(host).templates(host, known):
                if is_editorial_notice(learned.text) or noise_rule(learned.text) is not None:
                    continue  # never learned: a notice is never noise, and a rule's line is skipped already
                known.add(learned.hash)
                if self._insert_if_new(m.TemplateParagraph(
                        host=host, hash=learned.hash, first_seen=plans[0].fetch.fetched_at, text=learned.text,
                        witnesses=learned.witnesses, seen=learned.seen, examples=list(learned.examples))):
                    self.evidence.learned.append(learned)

    def _seen(self, plan: Plan) -> learning.Seen:
        """What one capture tells the crawl's evidence: every paragraph of a first capture; the paragraphs
        that changed against the latest version of an article read before, and which the page marks."""
        latest = self._latest(plan.article)
        hashes = set(plan.hashes)
        if latest is None:
            return learning.Seen(plan.article.id, plan.article.key, True, hashes,
                                 texts=dict(zip(plan.hashes, plan.paras)))
        changed = set(latest.paragraph_hashes) ^ hashes
        marked = changed & (plan.boilerplate | set(latest.noise_hashes))
        texts = {h: p for h, p in zip(plan.hashes, plan.paras) if h in marked}
        gone = marked - texts.keys()
        if gone:
            old = [comparable(p) for p in paragraphs(self._text(latest))]
            texts |= {h: p for h, p in zip(latest.paragraph_hashes, old) if h in gone}
        return learning.Seen(plan.article.id, plan.article.key, False, hashes, changed, marked, texts)

    def _note_edits(self, plan: Plan, old: State, new: State, version: m.Version, change: Change) -> None:
        """Note the significant paragraphs (and passages) a version added and removed, for site-wide grouping."""
        if plan.drift:
            return
        site = self.evidence.site(plan.article.host)
        member = learning.Member(plan.article.id, version.number, version.id, version.captured_at, change)
        for action, text in learning.passages(old.paragraphs, new.paragraphs):
            if not is_editorial_notice(text):
                site.edited(action, digest(text), text, member)
        self.touched.add(plan.article.host)

    def group_site_wide(self, results: list[Recorded]) -> None:
        """Group the site-wide edits the crawl's evidence now shows, and tell each member's result and
        the alert rules that ask for ``site-wide`` (see archive.store.learning)."""
        by_version = {(r.article_id, r.version): r for r in results if r.version}
        for host in sorted(self.touched):
            site = self.evidence.site(host)
            known = self._groups(host, site)
            for action, h in site.site_wide(set(known)):
                group = known.get((action, h)) or self._new_group(host, action, h, site)
                for member in site.edits[action, h].values():
                    if (action, h, member.row) in site.grouped:
                        continue
                    self.s.add(m.SiteEditMember(site_edit_id=group, version_id=member.row, article_id=member.article,
                                                version=member.version))
                    site.grouped.add((action, h, member.row))
                    queue_site_wide_alerts(self.s, member.article, host, member.version, member.change)
                    result = by_version.get((member.article, member.version))
                    if result is not None and ChangeKind.SITE_WIDE not in (result.change_kinds or []):
                        result.change_kinds = [*(result.change_kinds or []), ChangeKind.SITE_WIDE]
        self.s.flush()

    def _groups(self, host: str, site: learning.SiteEvidence) -> dict[tuple[str, str], int]:
        """The site's groups, from this crawl or earlier ones, for the edits the crawl has seen."""
        digests = sorted({h for _action, h in site.edits})
        rows = self.s.execute(select(m.SiteEdit.id, m.SiteEdit.action, m.SiteEdit.hash)
                              .where(m.SiteEdit.host == host, m.SiteEdit.hash.in_(digests))).all()
        return {(r.action, r.hash): r.id for r in rows}

    def _new_group(self, host: str, action: str, h: str, site: learning.SiteEvidence) -> int:
        """Insert the group, or, when another writer just did, use theirs."""
        first = min(member.captured_at for member in site.edits[action, h].values())
        group = m.SiteEdit(host=host, action=action, hash=h, text=site.texts[h], first_at=first,
                           created_at=datetime.now(UTC))
        if self._insert_if_new(group):
            return group.id
        return self.s.scalars(select(m.SiteEdit.id).where(m.SiteEdit.host == host, m.SiteEdit.action == action,
                                                          m.SiteEdit.hash == h)).one()

    # -- applying -------------------------------------------------------------------------------

    def apply(self, plan: Plan) -> Recorded:
        article, fetch = plan.article, plan.fetch
        article.last_checked = max(filter(None, [article.last_checked, fetch.fetched_at]))
        result = Recorded(fetch.url, plan.outcome, article.id, reason=plan.reason)
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

    def apply_imported(self, plan: Plan, is_version: bool, claimed: Claimed | None = None) -> Recorded:
        """Apply an imported capture whose source said whether it made a version: a capture that made one
        becomes one even when this archive's rules call it unchanged (nothing lost), one that made none
        never does (nothing invented). ``claimed`` facts replace the recomputed change; a first version
        here has no change to claim."""
        if plan.outcome != FetchOutcome.CONTENT:
            return self.apply(plan)
        article, fetch = plan.article, plan.fetch
        article.last_checked = max(filter(None, [article.last_checked, fetch.fetched_at]))
        self._back_to_live(plan)
        if not is_version:
            return Recorded(fetch.url, RecordKind.UNCHANGED, article.id)
        assert plan.extracted is not None  # a content outcome always has an extraction
        latest = self._latest(article)
        if latest is None:
            state, _ = compared_state(self._noise(article.host), plan.extracted, plan.paras, plan.hashes,
                                      plan.boilerplate)
            change = None
        else:
            old_state, state, evidence = compare(self._noise(article.host), self._side(latest), plan_side(plan))
            plan.fetch_row.noise = evidence or None
            change = classify(old_state, state)
        if claimed is not None:
            plan.drift = claimed.drift
            if change is not None and claimed.change_kinds is not None:
                change = Change(claimed.change_kinds, claimed.added_words or 0, claimed.removed_words or 0,
                                bool(claimed.declared))
        version = self._new_version(plan, latest, state, change, claimed.recovered_at if claimed else None)
        if claimed is not None and change is not None:
            version.declared = claimed.declared
        kind = RecordKind.NEW_ARTICLE if latest is None else RecordKind.NEW_VERSION
        return Recorded(fetch.url, kind, article.id, version.number, change.kinds if change else None)

    def _back_to_live(self, plan: Plan) -> None:
        article = plan.article
        if article.status == ArticleStatus.GONE:
            self._event(plan, EventKind.RESTORED, None)
        elif article.status == ArticleStatus.FAILING and article.version_count:
            self._event(plan, EventKind.RECOVERED, None)
        article.status = ArticleStatus.LIVE
        row = plan.url_row
        if row is None:
            return
        if plan.fetch_row.body_sha256:
            row.last_body_sha256 = plan.fetch_row.body_sha256
        row.etag = plan.fetch.etag or row.etag
        row.last_modified = plan.fetch.last_modified or row.last_modified

    def _event_outcome(self, plan: Plan) -> None:
        article = plan.article
        new_status = ArticleStatus.GONE if plan.outcome == FetchOutcome.GONE else ArticleStatus.FAILING
        last = self.s.scalar(select(m.Event.kind).where(m.Event.article_id == article.id)
                             .order_by(m.Event.at.desc(), m.Event.id.desc()).limit(1))
        if article.status != new_status or last != plan.outcome:
            detail = plan.fetch_row.error or (f"HTTP {plan.fetch.status}" if plan.fetch.status else None)
            if plan.outcome == FetchOutcome.REDIRECTED:
                detail = f"redirected to {plan.fetch.final_url}"
            self._event(plan, plan.outcome, detail)
        article.status = new_status

    def _event(self, plan: Plan, kind: str, detail: str | None) -> None:
        """Record an event. A takedown or restoration of an article that has a version is a change: it
        moves ``last_changed`` and queues its alerts in this same transaction, as a version does."""
        self.s.flush()
        article = plan.article
        event = m.Event(article_id=article.id, fetch_id=plan.fetch_row.id, at=plan.fetch.fetched_at, kind=kind,
                        detail=detail)
        self.s.add(event)
        if kind in TAKEDOWNS and article.version_count:
            self.s.flush()
            article.last_changed = max(filter(None, [article.last_changed, event.at]))
            latest = article.latest_version or article.version_count
            queue_event_alerts(self.s, article.id, article.host, latest, event.id, EventKind(kind))

    def _content(self, plan: Plan) -> Recorded:
        """Compare a fetched text with the article's latest version under the current noise rules.

        What the rules skipped among the paragraphs that changed is kept on the fetch row; a fetch that
        differs from the latest version only there is recorded as ``noise-only``, never silently.
        """
        article, extracted = plan.article, plan.extracted
        assert extracted is not None
        latest = self._latest(article)
        noise = self._noise(article.host)
        stamps.record_label(self.s, plan.fetch_row, extracted)
        if latest is None:
            state, _ = compared_state(noise, extracted, plan.paras, plan.hashes, plan.boilerplate)
            version = self._new_version(plan, None, state, None)
            return Recorded(plan.fetch.url, RecordKind.NEW_ARTICLE, article.id, version.number)
        old_state, state, evidence = compare(noise, self._side(latest), plan_side(plan))
        plan.fetch_row.noise = evidence or None
        old_state, state = stamps.settle(self.s, latest, plan.fetch_row, extracted, old_state, state)
        change = classify(old_state, state)
        if not change.kinds:
            if evidence:
                plan.fetch_row.outcome = FetchOutcome.NOISE_ONLY
            return Recorded(plan.fetch.url, RecordKind.UNCHANGED, article.id)
        version = self._new_version(plan, latest, state, change)
        self._note_edits(plan, old_state, state, version, change)
        return Recorded(plan.fetch.url, RecordKind.NEW_VERSION, article.id, version.number, list(change.kinds))

    def _side(self, version: m.Version) -> Side:
        """A stored version in the form it is compared in."""
        spans = version.noise_spans or []
        paras = [strip_spans(comparable(p), spans) for p in paragraphs(self._text(version))]
        return Side(version, paras, version.paragraph_hashes, set(version.noise_hashes), spans)

    def _new_version(self, plan: Plan, latest: m.Version | None, state: State, change: Change | None,
                     recovered_at: datetime | None = None) -> m.Version:
        """Insert the next-numbered version. A recovered version (see ``renoise``) is stored whole and
        becomes the article's latest only if it was captured after the current latest."""
        article, extracted, fetch = plan.article, plan.extracted, plan.fetch
        assert extracted is not None
        number = article.version_count + 1
        base = latest if latest is not None and recovered_at is None and (number - 1) % FULL_EVERY else None
        own, _ = compared_state(self._noise(article.host), extracted, plan.paras, plan.hashes, plan.boilerplate)
        fingerprint = state_fingerprint(own)
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
            reverts_to=self._reverts_to(article, fingerprint) if change and change.edits else None, drift=plan.drift,
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
            old, _ = compared_state(self._noise(article.host), row, side.paras, side.hashes, side.boilerplate)
            if state_fingerprint(old) == target:
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


def _stamp_unknown(extracted: Extracted) -> bool:
    """An imported plain text snapshot without an ``Updated:`` line may simply not carry the page's update
    time, so it cannot tell a declared edit from a stealth one: its ``declared`` stays unknown (None)."""
    return extracted.extractor == "import:txt" and extracted.updated is None


def is_front_page(key: str) -> bool:
    return key.split("://", 1)[-1].split("/", 1)[-1] in ("", "?")


def plan_side(plan: Plan) -> Side:
    assert plan.extracted is not None
    return Side(plan.extracted, plan.paras, plan.hashes, plan.boilerplate, plan.spans)
