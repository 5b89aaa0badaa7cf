"""The archive's tables, defined once in SQLAlchemy Core: the single definition of the schema.

History is an article row plus numbered version rows; "latest" is a query. Fetches and events
are separate from versions: a fetch is recorded whatever happened, a version only when the
article really changed.

This module imports no ``sqlalchemy.orm``, so view commands can query these tables without
paying for mapper set-up; the ORM classes in :mod:`archive.models` and
:mod:`archive.schedule_models` map onto them. The Alembic migrations must produce exactly this
schema (``alembic.autogenerate.compare_metadata`` finds no difference).
"""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the archive")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

# The full-text search index is not a Core table: an FTS5 virtual table (and its shadow tables) on SQLite,
# a tsvector table with a GIN index on PostgreSQL, made by migration 0014 and written by
# archive.store.indexing. Schema comparisons leave out every table whose name starts with this.
SEARCH_INDEX = "version_search"


def key_sha256(key: str) -> str:
    """The sha256 of an article's key: its short ID is a prefix of this (``archive.queries.short_ids``).

    >>> key_sha256("http://example.com/a")[:10]
    '5bd48fa661'
    """
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _key_sha256_default(context: Any) -> str:
    return key_sha256(context.get_current_parameters()["key"])

articles = Table(
    "articles", metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(2048), nullable=False, unique=True),
    # sha256 of ``key``, set on insert: an ID that survives export and import, unlike ``id``
    Column("key_sha256", String(64), index=True, default=_key_sha256_default),
    Column("host", String(255), nullable=False, index=True),
    Column("canonical_url", String(2048), index=True),
    Column("status", String(16), nullable=False, default="live"),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_checked", UTCDateTime),
    Column("last_changed", UTCDateTime, index=True),
    Column("version_count", Integer, nullable=False, default=0),
    # The version the article is in now: the one captured last. It is the highest number unless
    # 'renoise' recovered an older, wrongly suppressed state, which gets the next number.
    Column("latest_version", Integer),
)

# Every URL key an article was fetched under: requested or redirected to. A canonical link is never one
# (it relates copies: ``articles.canonical_url``). The validators of the last good capture requested at
# this URL are kept here, so a conditional request or the same-body skip only ever uses the URL's own.
article_urls = Table(
    "article_urls", metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id"), nullable=False, index=True),
    Column("url", String(2048), nullable=False, unique=True),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("etag", String(512)),
    Column("last_modified", String(128)),
    Column("last_body_sha256", String(64)),
)

# A raw response body, stored once per sha256 (of its full bytes), zstd-compressed: whole (a keyframe,
# base_sha256 NULL, depth 0) or against the body base_sha256 as a raw dictionary, depth deltas from its
# keyframe (archive/text/textpack.py; read through archive/queries/bodies.py).
bodies = Table(
    "bodies", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("base_sha256", String(64)),
    Column("depth", Integer, nullable=False, server_default="0"),
    Index("ix_bodies_base", "base_sha256"),  # what is stored against a body (repack, before changing it)
)

# Every fetch, with its outcome, whether or not it made a version.
fetches = Table(
    "fetches", metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id"), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("final_url", String(2048)),
    Column("fetched_at", UTCDateTime, nullable=False),
    Column("status", Integer),
    Column("outcome", String(32), nullable=False),
    Column("body_sha256", String(64), ForeignKey("bodies.sha256")),
    Column("content_type", String(255)),
    Column("error", Text),
    # Paragraphs that changed against the latest version but that a noise rule skipped, and which
    # rule: [{"change": "added"|"removed", "text": ..., "rule": ...}], so the rules can be audited.
    Column("noise", JSON),
    # How the page was fetched: "http" (Scrapy's HTTP handler) or "browser" (the HTTP body above, then the
    # page loaded again in a browser, whose DOM after its scripts ran is the rendered body, kept beside it).
    Column("fetched_with", String(16), nullable=False, default="http", server_default="http"),
    # a row of bodies, like body_sha256 (no foreign key: SQLite could add one only by rebuilding fetches)
    Column("rendered_sha256", String(64)),
    Index("ix_fetches_article_time", "article_id", "fetched_at"),
)

# A time a fetched page carried that tracks the request, not the article (archive.text.stamps).
render_stamps = Table(
    "render_stamps", metadata,
    Column("id", Integer, primary_key=True),
    Column("fetch_id", Integer, ForeignKey("fetches.id"), nullable=False, index=True),
    Column("signal", String(64), nullable=False),  # "generated" (a labelled line) or the date signal that gave it
    Column("at", String(64), nullable=False),  # the stamp, in ISO 8601
    Column("declared", String(64)),  # the page's update time with the stamp taken out (None: none, or a label)
)

# One distinct state of an article, numbered 1..n.
versions = Table(
    "versions", metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("captured_at", UTCDateTime, nullable=False),
    Column("fetch_id", Integer, ForeignKey("fetches.id")),
    Column("title", Text),
    Column("byline", Text),
    Column("published", String(64)),
    Column("updated", String(64)),
    Column("site_name", Text),
    Column("language", String(32)),
    Column("canonical_url", String(2048)),
    Column("description", Text),
    Column("text_blob", LargeBinary, nullable=False),
    Column("text_base", Integer),
    Column("text_sha256", String(64), nullable=False),
    Column("words", Integer, nullable=False),
    Column("paragraph_hashes", JSON, nullable=False),
    Column("noise_hashes", JSON, nullable=False),
    Column("extractor", String(128), nullable=False),
    Column("change_kinds", JSON),
    Column("added_words", Integer),
    Column("removed_words", Integer),
    Column("declared", Boolean),
    Column("reverts_to", Integer),
    Column("drift", Boolean, nullable=False, default=False),
    Column("state_sha256", String(64)),  # fingerprint of the compared state
    Column("updated_signal", String(64)),  # which of the page's date signals gave 'updated'
    Column("noise_spans", JSON),  # teaser spans (label + linked headline) inside longer paragraphs
    Column("recovered_at", UTCDateTime),  # set when 'renoise' inserted this version after the fact
    # True on a version fetched from another URL than the article's own, which a Redline before
    # revision 0010 merged into it through a canonical link (marked by that migration; never set since)
    Column("from_other_url", Boolean),
    # True on the first of the article's own versions after such a version: its change was measured
    # against the other URL's text, so it is no edit of this article either (marked by that migration)
    Column("against_other_url", Boolean),
    UniqueConstraint("article_id", "number", name="uq_versions_article_number"),
    Index("ix_versions_captured", "captured_at", "id"),  # the newest changes across the archive
)

# A fetch outcome worth showing in a history: gone, restored, blocked, ...
events = Table(
    "events", metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id"), nullable=False),
    Column("fetch_id", Integer, ForeignKey("fetches.id")),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("detail", Text),
    Index("ix_events_article_time", "article_id", "at"),
)

# A full-page screenshot of a version, rendered from its archived body (scraper/screenshots.py), and how
# it was made; chained as a record of its own (archive.proof.chain), its image checked by 'verify'.
screenshots = Table(
    "screenshots", metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id"), nullable=False),
    Column("version_id", Integer, ForeignKey("versions.id"), nullable=False, index=True),
    Column("taken_at", UTCDateTime, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("format", String(8), nullable=False),  # webp, png or jpeg
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("page_height", Integer, nullable=False),  # the page's own height: more than height when cut
    Column("seconds", Float, nullable=False),  # rendering and encoding
    Column("made_how", String(32), nullable=False),  # archived-body: the page came from the archive
    Column("subresources", String(32), nullable=False),  # blocked, or live-same-host (loaded at taken_at)
    Column("image", LargeBinary, nullable=False),
)

# A version that awaits its screenshot: written in the transaction that records the version, removed in
# the one that records its screenshot (or the event saying why there is none), so a crash loses no shot.
screenshot_wanted = Table(
    "screenshot_wanted", metadata,
    Column("version_id", Integer, ForeignKey("versions.id"), primary_key=True),
    Column("wanted_at", UTCDateTime, nullable=False),
)

# A per-site regular expression for paragraphs that are noise on that site.
site_rules = Table(
    "site_rules", metadata,
    Column("id", Integer, primary_key=True),
    Column("host", String(255), nullable=False, index=True),
    Column("pattern", Text, nullable=False),
    UniqueConstraint("host", "pattern", name="uq_site_rules_host_pattern"),
)

# A paragraph hash seen changing across many distinct articles of one site at once, with the
# evidence it was learned on (NULL for templates learned before evidence was kept).
template_paragraphs = Table(
    "template_paragraphs", metadata,
    Column("host", String(255), primary_key=True),
    Column("hash", String(16), primary_key=True),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("text", Text),
    Column("witnesses", Integer),  # distinct articles (near-duplicates counted once) it changed in
    Column("seen", Integer),  # distinct articles of the site in that batch
    Column("examples", JSON),  # up to three article URLs
)

# A crawl job: what to watch (feeds, sitemaps, URLs) and when (interval or cron in a zone).
# Stored as plain columns, never pickled: a database row must not become code.
schedules = Table(
    "schedules", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("every_seconds", Integer),
    Column("cron", String(200)),
    Column("timezone", String(64), nullable=False, default="UTC"),
    Column("feeds", JSON, nullable=False),
    Column("sitemaps", JSON, nullable=False),
    Column("urls", JSON, nullable=False),
    Column("urls_file", Text),
    Column("recheck", String(200)),
    Column("settings", JSON, nullable=False),
    Column("paused", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("screenshot", Boolean, nullable=False, default=False, server_default=false()),  # of every new version
    Column("render", String(8)),  # auto, js or never; None: each site's default (the sites table)
)

# Per-site defaults a crawl uses when neither its command line nor its schedule says otherwise.
sites = Table(
    "sites", metadata,
    Column("host", String(255), primary_key=True),  # a host name, lower case, without scheme or port
    Column("render", String(8)),  # auto, js or never; None: not set (auto)
    Column("screenshot", Boolean),  # take a screenshot of each new version; None: not set (no)
    Column("updated_at", UTCDateTime, nullable=False),
)

# An article URL a schedule watches, and the freshest update time its feed or sitemap gave.
tracked = Table(
    "tracked", metadata,
    Column("id", Integer, primary_key=True),
    Column("schedule_id", Integer, ForeignKey("schedules.id", ondelete="CASCADE"), nullable=False),
    Column("url", String(2048), nullable=False, index=True),
    Column("source", String(16), nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Column("hint", UTCDateTime),
    # When that hint was first listed: a hint later than this (a lastmod in the future, a publisher's
    # clock ahead) counts from here, so it brings one check forward, not every check until it passes.
    Column("hint_seen", UTCDateTime),
    # When it is next due for a re-check and why (archive.frontier keeps these current).
    Column("due_at", UTCDateTime, nullable=False),
    Column("due_why", String(32), nullable=False),
    UniqueConstraint("schedule_id", "url", name="uq_tracked_schedule_url"),
    Index("ix_tracked_due", "schedule_id", "due_at", "url"),
)

# One run of a schedule (or of a queued batch): when, how it ended, and what it found.
runs = Table(
    "runs", metadata,
    Column("id", Integer, primary_key=True),
    Column("schedule_id", Integer, ForeignKey("schedules.id", ondelete="SET NULL")),
    Column("job", String(100), nullable=False, index=True),
    Column("started_at", UTCDateTime, nullable=False, index=True),
    Column("ended_at", UTCDateTime),
    Column("outcome", String(16), nullable=False),
    Column("host", String(255)),
    Column("pid", Integer),
    Column("discovered", Integer, nullable=False, default=0),
    Column("fetched", Integer, nullable=False, default=0),
    Column("new_articles", Integer, nullable=False, default=0),
    Column("new_versions", Integer, nullable=False, default=0),
    Column("failures", Integer, nullable=False, default=0),
    Column("error", Text),
)

# The tamper-evident chain: one row per recorded fetch, version and event, and per later change to
# one (an amendment: another row for the same record), in the order they were recorded (see
# archive.proof.chain). ``record_id`` has no foreign key on purpose: the chain must outlive a
# deleted record, so that verification can name it.
chain = Table(
    "chain", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
    Column("record_id", Integer, nullable=False),
    Column("article_id", Integer, nullable=False, index=True),
    Column("format", Integer, nullable=False, server_default="1"),  # the record format it was hashed in
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("backfilled", Boolean, nullable=False, default=False),
    Column("content_sha256", String(64), nullable=False),
    Column("prev", String(64), nullable=False),
    Column("digest", String(64), nullable=False),
    Index("ix_chain_record", "kind", "record_id"),
)

# An RFC 3161 timestamp token over one chain head, from a timestamp authority.
chain_timestamps = Table(
    "chain_timestamps", metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("tsa_url", String(2048), nullable=False),
    Column("gen_time", UTCDateTime, nullable=False),
    Column("token", LargeBinary, nullable=False),
)

# An alert rule: which changes to tell whom about (apprise URLs), at once or in a digest.
# Written and read through Core only (archive.alerts), never mapped by the ORM.
alert_rules = Table(
    "alert_rules", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("targets", JSON, nullable=False),  # apprise URLs
    Column("sites", JSON, nullable=False),  # hosts; empty means every site
    Column("job", String(100)),  # only articles this schedule tracks
    Column("kinds", JSON),  # change kinds; NULL means any
    Column("stealth_only", Boolean, nullable=False, default=False),
    Column("min_words", Integer, nullable=False, default=0),
    Column("include_trivial", Boolean, nullable=False, default=False),
    Column("digest", String(16)),  # NULL (at once), "hourly" or "daily"
    Column("paused", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# The outbox: one message to one target about one version, written in the transaction that
# recorded the version. Rows sharing a key are sent as one message (a digest).
alert_outbox = Table(
    "alert_outbox", metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(64), index=True),  # the idempotency key; NULL until a digest's period closes
    Column("rule_id", Integer, ForeignKey("alert_rules.id", ondelete="SET NULL")),
    Column("rule", String(100), nullable=False),  # the rule's name, kept for the log
    Column("target", Text, nullable=False),
    Column("article_id", Integer, ForeignKey("articles.id"), nullable=False),
    Column("version", Integer, nullable=False),  # for a takedown: the article's latest version then
    Column("event_id", Integer, ForeignKey("events.id")),  # a takedown or restoration, not a version
    Column("created_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),  # now, or the end of the digest's period
    Column("status", String(16), nullable=False),  # pending, sent, failed, cancelled
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime),  # a sender holds the row until then
    Column("lease_token", String(32)),
    Column("sent_at", UTCDateTime),
    Column("last_error", Text),
    Column("attempt_log", JSON),  # [{"at", "error"}], one entry per attempt (error null when accepted)
    Index("ix_alert_outbox_status_next", "status", "next_attempt_at"),
)

# A site-wide edit: one significant paragraph added to (or removed from) many articles of one site
# at once (see archive.store.learning). Its versions are its members; the group is a record of its
# own, appended beside them, so no version row is rewritten when later members join it.
site_edits = Table(
    "site_edits", metadata,
    Column("id", Integer, primary_key=True),
    Column("host", String(255), nullable=False),
    Column("action", String(16), nullable=False),  # "added" or "removed"
    Column("hash", String(16), nullable=False),    # the paragraph's digest, as in versions.paragraph_hashes
    Column("text", Text, nullable=False),          # the paragraph, in comparable form
    Column("first_at", UTCDateTime, nullable=False),  # capture time of its first member
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("host", "action", "hash", name="uq_site_edits_host_action_hash"),
)

site_edit_members = Table(
    "site_edit_members", metadata,
    Column("site_edit_id", Integer, ForeignKey("site_edits.id"), primary_key=True),
    Column("version_id", Integer, ForeignKey("versions.id"), primary_key=True, index=True),
    Column("article_id", Integer, ForeignKey("articles.id"), nullable=False),
    Column("version", Integer, nullable=False),
)
