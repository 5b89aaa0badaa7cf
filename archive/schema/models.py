"""ORM classes for the store's writer, mapped onto the Core tables of :mod:`archive.tables`.

The columns are defined there, once; the annotations here only give attribute types.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import DeclarativeBase, Mapped, relationship

from archive.schema import tables as t


class Base(DeclarativeBase):
    """Declarative base sharing the Core tables' metadata, so Alembic and the ORM see one schema."""

    metadata = t.metadata


class Article(Base):
    __table__ = t.articles

    id: Mapped[int]
    key: Mapped[str]
    host: Mapped[str]
    canonical_url: Mapped[str | None]
    status: Mapped[str]
    first_seen: Mapped[datetime]
    last_checked: Mapped[datetime | None]
    last_changed: Mapped[datetime | None]
    version_count: Mapped[int]
    latest_version: Mapped[int | None]

    urls: Mapped[list[ArticleURL]] = relationship(back_populates="article")


class ArticleURL(Base):
    """Every URL key an article was fetched under (requested or redirected to), with the validators of
    its last good capture."""

    __table__ = t.article_urls

    id: Mapped[int]
    article_id: Mapped[int]
    url: Mapped[str]
    first_seen: Mapped[datetime]
    etag: Mapped[str | None]
    last_modified: Mapped[str | None]
    last_body_sha256: Mapped[str | None]

    article: Mapped[Article] = relationship(back_populates="urls")


class Body(Base):
    """A raw response body, stored once per sha256, zstd-compressed whole or against ``base_sha256``."""

    __table__ = t.bodies

    sha256: Mapped[str]
    size: Mapped[int]
    data: Mapped[bytes]
    base_sha256: Mapped[str | None]
    depth: Mapped[int]


class Fetch(Base):
    """Every fetch, with its outcome, whether or not it made a version."""

    __table__ = t.fetches

    id: Mapped[int]
    article_id: Mapped[int]
    url: Mapped[str]
    final_url: Mapped[str | None]
    fetched_at: Mapped[datetime]
    status: Mapped[int | None]
    outcome: Mapped[str]
    body_sha256: Mapped[str | None]
    content_type: Mapped[str | None]
    error: Mapped[str | None]
    noise: Mapped[list[dict[str, str]] | None]
    fetched_with: Mapped[str]
    rendered_sha256: Mapped[str | None]


class RenderStamp(Base):
    """A time a fetched page carried that tracks the request (archive.text.stamps)."""

    __table__ = t.render_stamps

    id: Mapped[int]
    fetch_id: Mapped[int]
    signal: Mapped[str]
    at: Mapped[str]
    declared: Mapped[str | None]


class Version(Base):
    """One distinct state of an article, numbered 1..n."""

    __table__ = t.versions

    id: Mapped[int]
    article_id: Mapped[int]
    number: Mapped[int]
    captured_at: Mapped[datetime]
    fetch_id: Mapped[int | None]
    title: Mapped[str | None]
    byline: Mapped[str | None]
    published: Mapped[str | None]
    updated: Mapped[str | None]
    site_name: Mapped[str | None]
    language: Mapped[str | None]
    canonical_url: Mapped[str | None]
    description: Mapped[str | None]
    text_blob: Mapped[bytes]
    text_base: Mapped[int | None]
    text_sha256: Mapped[str]
    words: Mapped[int]
    paragraph_hashes: Mapped[list[str]]
    noise_hashes: Mapped[list[str]]
    extractor: Mapped[str]
    change_kinds: Mapped[list[str] | None]
    added_words: Mapped[int | None]
    removed_words: Mapped[int | None]
    declared: Mapped[bool | None]
    reverts_to: Mapped[int | None]
    drift: Mapped[bool]
    state_sha256: Mapped[str | None]
    updated_signal: Mapped[str | None]
    noise_spans: Mapped[list[str] | None]
    recovered_at: Mapped[datetime | None]
    from_other_url: Mapped[bool | None]
    against_other_url: Mapped[bool | None]


class Event(Base):
    """A fetch outcome worth showing in a history: gone, restored, blocked, ..."""

    __table__ = t.events

    id: Mapped[int]
    article_id: Mapped[int]
    fetch_id: Mapped[int | None]
    at: Mapped[datetime]
    kind: Mapped[str]
    detail: Mapped[str | None]


class Screenshot(Base):
    """A full-page screenshot of a version, and how it was made."""

    __table__ = t.screenshots

    id: Mapped[int]
    article_id: Mapped[int]
    version_id: Mapped[int]
    taken_at: Mapped[datetime]
    sha256: Mapped[str]
    format: Mapped[str]
    width: Mapped[int]
    height: Mapped[int]
    page_height: Mapped[int]
    seconds: Mapped[float]
    made_how: Mapped[str]
    subresources: Mapped[str]
    image: Mapped[bytes]


class SiteRule(Base):
    """A per-site regular expression for paragraphs that are noise on that site."""

    __table__ = t.site_rules

    id: Mapped[int]
    host: Mapped[str]
    pattern: Mapped[str]


class TemplateParagraph(Base):
    """A paragraph hash seen changing across many distinct articles of one site at once."""

    __table__ = t.template_paragraphs

    host: Mapped[str]
    hash: Mapped[str]
    first_seen: Mapped[datetime]
    text: Mapped[str | None]
    witnesses: Mapped[int | None]
    seen: Mapped[int | None]
    examples: Mapped[list[str] | None]


class ChainRow(Base):
    """One link of the tamper-evident chain: a recorded fetch, version or event (or a change to one)."""

    __table__ = t.chain

    seq: Mapped[int]
    kind: Mapped[str]
    record_id: Mapped[int]
    article_id: Mapped[int]
    format: Mapped[int]
    recorded_at: Mapped[datetime]
    backfilled: Mapped[bool]
    content_sha256: Mapped[str]
    prev: Mapped[str]
    digest: Mapped[str]


class ChainTimestamp(Base):
    """An RFC 3161 timestamp token over one chain head."""

    __table__ = t.chain_timestamps

    id: Mapped[int]
    seq: Mapped[int]
    digest: Mapped[str]
    tsa_url: Mapped[str]
    gen_time: Mapped[datetime]
    token: Mapped[bytes]


class SiteEdit(Base):
    """A site-wide edit: one paragraph added to or removed from many articles of one site."""

    __table__ = t.site_edits

    id: Mapped[int]
    host: Mapped[str]
    action: Mapped[str]
    hash: Mapped[str]
    text: Mapped[str]
    first_at: Mapped[datetime]
    created_at: Mapped[datetime]


class SiteEditMember(Base):
    """One version of a site-wide edit."""

    __table__ = t.site_edit_members

    site_edit_id: Mapped[int]
    version_id: Mapped[int]
    article_id: Mapped[int]
    version: Mapped[int]
