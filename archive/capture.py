"""What the crawler hands to the archive: plain data, no crawler types."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# A Content-Type parameter marking a capture made by ``redline import`` (a text snapshot, not HTML).
IMPORT_MARKER = "x-redline-import"
# A Content-Type parameter marking a raw page ``redline import`` took from a WARC or a saved page: a real
# body the extractor can read again, but not fetched by this archive (``import:warc``, ``import:html``).
ORIGIN_MARKER = "x-redline-origin"


def imported_from(content_type: str | None) -> str | None:
    """The format a capture was imported from, read from its stored Content-Type; None when this archive
    fetched it.

    >>> imported_from("text/html; charset=utf-8; x-redline-origin=import:warc")
    'warc'
    >>> imported_from("text/plain; charset=utf-8; x-redline-import=txt"), imported_from("text/html")
    ('txt', None)
    """
    for part in (content_type or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name.lower() == IMPORT_MARKER and value:
            return value.strip('"')
        if name.lower() == ORIGIN_MARKER and value.startswith("import:"):
            return value.removeprefix("import:").strip('"')
    return None


def mark_imported(content_type: str | None, fmt: str) -> str:
    """A raw page's Content-Type marked as imported from ``fmt`` (kept as it is when already marked).

    >>> mark_imported("text/html; charset=utf-8", "warc")
    'text/html; charset=utf-8; x-redline-origin=import:warc'
    >>> mark_imported("text/html; x-redline-origin=import:html", "warc")
    'text/html; x-redline-origin=import:html'
    """
    if imported_from(content_type):
        return content_type or ""
    return f"{content_type or 'text/html'}; {ORIGIN_MARKER}=import:{fmt}"


@dataclass
class Capture:
    """One HTTP fetch as it happened, successful or not."""

    url: str
    fetched_at: datetime
    final_url: str | None = None
    status: int | None = None
    body: bytes | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
    # A page also loaded in a browser: "browser", and its DOM after the page's scripts ran (kept beside ``body``)
    fetched_with: str = "http"
    rendered: bytes | None = None


@dataclass
class Extracted:
    """An article as the extractor read it from a fetched body."""

    text: str
    title: str | None = None
    byline: str | None = None
    published: str | None = None
    updated: str | None = None
    updated_signal: str | None = None  # which of the page's date signals gave ``updated``
    site_name: str | None = None
    language: str | None = None
    canonical_url: str | None = None
    description: str | None = None
    extractor: str = ""
    boilerplate: list[str] = field(default_factory=list)
    noise_spans: list[str] = field(default_factory=list)  # teaser label + linked headline inside a longer paragraph
    markers: list[str] = field(default_factory=list)
    # Why the page may hold no article, as the extraction saw it (over the size limit, a script-rendered app
    # shell, an extractor error): the store gives it as the reason when the text came out empty or collapsed.
    why_empty: str | None = None
    prepared: Prepared | None = None  # the text work, done beside the extractor (archive.prepare)
    dates: list[tuple[str, str]] = field(default_factory=list)  # every stated update time, as (signal, ISO time)
    render_stamp: str | None = None  # a labelled page-generation time (archive.text.stamps)


@dataclass
class Prepared:
    """What the writer compares, worked out from an Extracted without the database (archive.prepare)."""

    text: str                 # normalized text
    spans: list[str]          # teaser and stamp spans masked inside paragraphs
    paras: list[str]          # comparable paragraphs without those spans
    hashes: list[str]         # their digests
    boilerplate: set[str]     # digests of link-heavy paragraphs


@dataclass
class Found:
    """An article URL a feed or sitemap listed, with the update time it gave (timezone-aware, or None)."""

    url: str
    source: str  # "feed" or "sitemap"
    hint: datetime | None = None
