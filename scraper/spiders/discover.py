"""Find article URLs in feeds and sitemaps; the result stays on the spider, no items are yielded."""
from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import scrapy
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import Response
from twisted.python.failure import Failure
from w3lib.url import canonicalize_url

from archive.capture import Found
from scraper.feeds import MAX_BYTES, FeedError, merge, parse
from scraper.middlewares import NotFetched


class DiscoverSpider(scrapy.Spider):
    """Fetches each feed and sitemap once, following sitemap indexes within the configured caps.

    After the crawl, ``found`` holds one record per article URL (newest hint kept)
    and ``problems`` one line per document that could not be used.
    """

    name = "discover"

    def __init__(self, feeds: Sequence[str] | str = (), sitemaps: Sequence[str] | str = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.feeds = feeds.split() if isinstance(feeds, str) else list(feeds)
        self.sitemaps = sitemaps.split() if isinstance(sitemaps, str) else list(sitemaps)
        self.problems: list[str] = []
        self._found: dict[str, Found] = {}
        self._seen: set[str] = set()
        self._children = 0
        self._capped = False

    @property
    def found(self) -> list[Found]:
        """Every article URL found so far, deduplicated, in first-seen order."""
        return list(self._found.values())

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in [*self.feeds, *self.sitemaps]:
            if self._first_visit(url):
                yield self._request(url, depth=0)

    def parse(self, response: Response, depth: int = 0) -> Iterator[scrapy.Request]:
        """Record what a feed or sitemap lists; a sitemap index yields requests for its children."""
        url = response.meta["redline_url"]
        if response.status != 200:
            self.problems.append(f"{url}: HTTP {response.status}")
            return
        self._seen.add(canonicalize_url(response.url))
        max_bytes = response.meta.get("download_maxsize", self.settings.getint("DOWNLOAD_MAXSIZE")) or MAX_BYTES
        try:
            document = parse(response.body, response.url, max_bytes=max_bytes)
        except FeedError as exc:
            self.problems.append(str(exc) if response.url == url else f"{url} -> {exc}")
            return
        self._add(document.found)
        for child in document.sitemaps:
            request = self._child(child.url, url, depth + 1)
            if request:
                yield request

    def failed(self, failure: Failure) -> None:
        """One problem line for a document that never arrived."""
        url = failure.request.meta["redline_url"]  # type: ignore[attr-defined]
        if failure.check(NotFetched):
            return  # never sent: the crawl was stopped
        if failure.check(IgnoreRequest):  # robots.txt says "Forbidden by robots.txt"
            self.problems.append(f"{url}: {(failure.getErrorMessage() or 'request ignored').lower()}")
        elif failure.check(DownloadCancelledError):
            self.problems.append(f"{url}: too large ({failure.getErrorMessage()})")
        else:
            self.problems.append(f"{url}: unreachable ({failure.type.__name__}: {failure.getErrorMessage()})")

    def _request(self, url: str, depth: int) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse, errback=self.failed, cb_kwargs={"depth": depth},
                              meta={"redline_url": url, "redline_unconditional": True})

    def _first_visit(self, url: str) -> bool:
        key = canonicalize_url(url)
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def _child(self, url: str, parent: str, depth: int) -> scrapy.Request | None:
        max_depth = self.settings.getint("REDLINE_SITEMAP_MAX_DEPTH")
        max_files = self.settings.getint("REDLINE_SITEMAP_MAX_FILES")
        if canonicalize_url(url) in self._seen:
            self.problems.append(f"{url}: loop skipped, already fetched (listed again by {parent})")
        elif depth > max_depth:
            self.problems.append(f"{url}: skipped, sitemap depth limit {max_depth} reached (listed by {parent})")
        elif self._children >= max_files:
            self.problems.append(f"{url}: skipped, cap of {max_files} sitemap files reached (listed by {parent})")
        else:
            self._first_visit(url)
            self._children += 1
            return self._request(url, depth)
        return None

    def _add(self, found: list[Found]) -> None:
        cap = self.settings.getint("REDLINE_DISCOVER_MAX_URLS")
        for item in found:
            if item.url in self._found:
                self._found[item.url] = merge([self._found[item.url], item])[0]
            elif len(self._found) < cap:
                self._found[item.url] = item
            elif not self._capped:
                self.problems.append(f"cap of {cap} URLs reached; further URLs ignored")
                self._capped = True
