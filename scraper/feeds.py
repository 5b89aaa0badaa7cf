"""Article URLs from RSS, RDF, Atom, JSON Feed and sitemap documents: pure parsing, no network.

The format is detected from the content. XML is parsed without loading DTDs,
without network access and without expanding entities; a document that declares
entities is rejected outright, since no feed or sitemap needs them.
"""
from __future__ import annotations

import email.utils
import json
import struct
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from dateutil.parser import isoparse
from lxml import etree
from scrapy.utils.gz import gunzip

from archive.capture import Found

MAX_BYTES = 50 * 1024 * 1024  # the sitemap protocol's limit for one uncompressed file
GZIP_MAGIC = b"\x1f\x8b"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
RSS1 = "{http://purl.org/rss/1.0/}"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
ATOM = "{http://www.w3.org/2005/Atom}"
DATE_TAGS = {"pubDate", "date", "updated", "published", "modified", "lastmod"}


class FeedError(ValueError):
    """A document that is unparsable, too large, or neither a feed nor a sitemap."""


@dataclass
class Document:
    """What one fetched document lists: article URLs, or (for a sitemap index) child sitemaps."""

    kind: str  # "feed", "sitemap" or "sitemapindex"
    found: list[Found] = field(default_factory=list)
    sitemaps: list[Found] = field(default_factory=list)


def parse(body: bytes, url: str, max_bytes: int = MAX_BYTES) -> Document:
    """Detect and parse a feed or sitemap fetched from ``url``; raises FeedError naming the URL."""
    data = _gunzipped(body, url, max_bytes) if body.startswith(GZIP_MAGIC) else body
    if len(data) > max_bytes:
        raise FeedError(f"{url}: too large ({len(data)} bytes, limit {max_bytes})")
    text = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"{"):
        return Document("feed", merge(_json_feed(_json(text, url), url)))
    root = _xml(data, url)
    kind = etree.QName(root).localname
    if kind == "sitemapindex":
        return Document(kind, sitemaps=merge(_sitemap_entries(root, url, "sitemap")))
    if kind == "urlset":
        return Document("sitemap", merge(_sitemap_entries(root, url, "url")))
    if kind in {"rss", "RDF"}:
        return Document("feed", merge(_rss_items(root, url)))
    if kind == "feed":
        return Document("feed", merge(_atom_entries(root, url)))
    raise FeedError(f"{url}: neither a feed nor a sitemap (root element <{kind}>)")


def merge(found: Iterable[Found]) -> list[Found]:
    """One record per URL, in first-seen order; a record with a newer hint replaces an older one."""
    by_url: dict[str, Found] = {}
    for item in found:
        old = by_url.get(item.url)
        if old is None or (item.hint is not None and (old.hint is None or item.hint > old.hint)):
            by_url[item.url] = item
    return list(by_url.values())


def parse_date(value: str | None) -> datetime | None:
    """An RFC 822 or W3C/ISO 8601 date as aware UTC (naive taken as UTC); None if unparseable.

    >>> parse_date("Thu, 05 Dec 2024 10:14:00 -0500")
    datetime.datetime(2024, 12, 5, 15, 14, tzinfo=datetime.timezone.utc)
    >>> parse_date("2024-12-05T10:14+01:00")
    datetime.datetime(2024, 12, 5, 9, 14, tzinfo=datetime.timezone.utc)
    >>> parse_date("2024-12-05")
    datetime.datetime(2024, 12, 5, 0, 0, tzinfo=datetime.timezone.utc)
    >>> parse_date("soon") is None
    True
    """
    text = (value or "").strip()
    if not text:
        return None
    try:
        parsed = isoparse(text) if text[:4].isdigit() else email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    try:
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def article_url(href: str | None, base: str) -> str | None:
    """``href`` resolved against ``base``, without fragment; None unless it is an http(s) URL.

    >>> article_url("../2024/story.html#comments", "https://example.com/feeds/rss.xml")
    'https://example.com/2024/story.html'
    >>> article_url("#top", "https://example.com/feeds/rss.xml") is None
    True
    >>> article_url("javascript:void(0)", "https://example.com/") is None
    True
    """
    href = (href or "").strip()
    if not href or href.startswith("#"):
        return None
    url = href if href.startswith(("https://", "http://")) else urljoin(base, href)
    url = url.partition("#")[0]
    parts = urlsplit(url)
    return url if parts.scheme in {"http", "https"} and parts.netloc else None


def _gunzipped(body: bytes, url: str, max_bytes: int) -> bytes:
    try:
        return gunzip(body, max_size=max_bytes)
    except ValueError:  # scrapy's _DecompressionMaxSizeExceeded
        raise FeedError(f"{url}: too large (over {max_bytes} bytes after gunzip)") from None
    except (OSError, EOFError, struct.error, zlib.error) as exc:
        raise FeedError(f"{url}: unparsable gzip ({exc})") from None


def _json(text: bytes, url: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise FeedError(f"{url}: unparsable JSON ({str(exc).splitlines()[0]})") from None


def _xml(data: bytes, url: str) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             recover=True, remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(data, parser, base_url=url)
    except etree.XMLSyntaxError as exc:
        raise FeedError(f"{url}: unparsable XML ({exc})") from None
    if root is None:
        raise FeedError(f"{url}: unparsable (neither XML nor JSON)")
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise FeedError(f"{url}: rejected, the document declares XML entities")
    return root


def _latest(values: Iterable[str | None]) -> datetime | None:
    return max((d for d in map(parse_date, values) if d is not None), default=None)


def _newest(element: etree._Element) -> datetime | None:
    """The latest date among an item's own date elements (pubDate, dc:date, updated, ...)."""
    return _latest(child.text for child in element.iterchildren()
                   if isinstance(child.tag, str) and etree.QName(child).localname in DATE_TAGS)


def _rss_items(root: etree._Element, url: str) -> Iterator[Found]:
    for item in root.iter("{*}item"):
        guid = item.find("{*}guid")
        permalink = guid.text if guid is not None and guid.get("isPermaLink", "true") != "false" else None
        links = [el.text for el in item.iterchildren("link", f"{RSS1}link") if el.text]  # not atom:link
        href = next(iter(links), None) or item.get(f"{RDF}about") or permalink
        link = article_url(href, item.base or url)
        if link:
            yield Found(link, "feed", _newest(item))


def _atom_entries(root: etree._Element, url: str) -> Iterator[Found]:
    for entry in root.iter(f"{ATOM}entry"):
        links = [el for el in entry.findall(f"{ATOM}link")
                 if el.get("rel", "alternate") == "alternate"]
        link = article_url(links[0].get("href"), links[0].base or url) if links else None
        if link:
            yield Found(link, "feed", _newest(entry))


def _json_feed(feed: Any, url: str) -> Iterator[Found]:
    if not isinstance(feed, dict) or not str(feed.get("version", "")).startswith("https://jsonfeed.org/version/"):
        raise FeedError(f"{url}: JSON but not a JSON Feed")
    for item in feed.get("items") or []:
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            continue
        link = article_url(item["url"], url)
        dates = [item.get(key) for key in ("date_published", "date_modified")]
        if link:
            yield Found(link, "feed", _latest(d for d in dates if isinstance(d, str)))


def _sitemap_entries(root: etree._Element, url: str, tag: str) -> Iterator[Found]:
    for entry in root.iterchildren("{*}" + tag):
        texts = {child.tag.rpartition("}")[2]: child.text for child in entry.iterchildren("{*}loc", "{*}lastmod")}
        link = article_url(texts.get("loc"), url)
        if link:
            yield Found(link, "sitemap", _latest([texts.get("lastmod"),
                                                  entry.findtext(f"{NEWS}news/{NEWS}publication_date")]))
