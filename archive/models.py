"""Tables. History is an article row plus numbered version rows; "latest" is a query.

Fetches and events are separate from versions: a fetch is recorded whatever
happened, a version only when the article really changed.
"""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (JSON, Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        TypeDecorator, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


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


def utcnow() -> datetime:
    """Now, timezone-aware, in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(2048), unique=True)
    host: Mapped[str] = mapped_column(String(255), index=True)
    canonical_url: Mapped[str | None] = mapped_column(String(2048), index=True)
    status: Mapped[str] = mapped_column(String(16), default="live")
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_checked: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_changed: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    version_count: Mapped[int] = mapped_column(Integer, default=0)
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    last_body_sha256: Mapped[str | None] = mapped_column(String(64))

    urls: Mapped[list[ArticleURL]] = relationship(back_populates="article")


class ArticleURL(Base):
    """Every URL key an article was seen under: requested, redirected-to or canonical."""

    __tablename__ = "article_urls"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)

    article: Mapped[Article] = relationship(back_populates="urls")


class Body(Base):
    """A raw response body, stored once per sha256, zstd-compressed."""

    __tablename__ = "bodies"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Fetch(Base):
    """Every fetch, with its outcome, whether or not it made a version."""

    __tablename__ = "fetches"
    __table_args__ = (Index("ix_fetches_article_time", "article_id", "fetched_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    url: Mapped[str] = mapped_column(String(2048))
    final_url: Mapped[str | None] = mapped_column(String(2048))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(32))
    body_sha256: Mapped[str | None] = mapped_column(ForeignKey("bodies.sha256"))
    content_type: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)


class Version(Base):
    """One distinct state of an article, numbered 1..n."""

    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("article_id", "number", name="uq_versions_article_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    number: Mapped[int] = mapped_column(Integer)
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fetch_id: Mapped[int | None] = mapped_column(ForeignKey("fetches.id"))
    title: Mapped[str | None] = mapped_column(Text)
    byline: Mapped[str | None] = mapped_column(Text)
    published: Mapped[str | None] = mapped_column(String(64))
    updated: Mapped[str | None] = mapped_column(String(64))
    site_name: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(32))
    canonical_url: Mapped[str | None] = mapped_column(String(2048))
    description: Mapped[str | None] = mapped_column(Text)
    text_blob: Mapped[bytes] = mapped_column(LargeBinary)
    text_base: Mapped[int | None] = mapped_column(Integer)
    text_sha256: Mapped[str] = mapped_column(String(64))
    words: Mapped[int] = mapped_column(Integer)
    paragraph_hashes: Mapped[list[str]] = mapped_column(JSON)
    noise_hashes: Mapped[list[str]] = mapped_column(JSON)
    extractor: Mapped[str] = mapped_column(String(128))
    change_kinds: Mapped[list[str] | None] = mapped_column(JSON)
    added_words: Mapped[int | None] = mapped_column(Integer)
    removed_words: Mapped[int | None] = mapped_column(Integer)
    declared: Mapped[bool | None] = mapped_column(Boolean)
    reverts_to: Mapped[int | None] = mapped_column(Integer)
    drift: Mapped[bool] = mapped_column(Boolean, default=False)
    state_sha256: Mapped[str | None] = mapped_column(String(64))  # fingerprint of the compared state


class Event(Base):
    """A fetch outcome worth showing in a history: gone, restored, blocked, ..."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_article_time", "article_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    fetch_id: Mapped[int | None] = mapped_column(ForeignKey("fetches.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)


class SiteRule(Base):
    """A per-site regular expression for paragraphs that are noise on that site."""

    __tablename__ = "site_rules"
    __table_args__ = (UniqueConstraint("host", "pattern", name="uq_site_rules_host_pattern"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    host: Mapped[str] = mapped_column(String(255), index=True)
    pattern: Mapped[str] = mapped_column(Text)


class TemplateParagraph(Base):
    """A paragraph hash seen changing across many articles of one site at once."""

    __tablename__ = "template_paragraphs"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    hash: Mapped[str] = mapped_column(String(16), primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
