"""Downloader middlewares Redline needs on top of Scrapy's own."""
from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from scraper.archive_link import ArchiveLink


class NotFetched(IgnoreRequest):
    """A request dropped unsent because the crawl was told to stop: no fetch, so nothing to record."""


class StopGate:
    """Sends no request once the crawl is stopping (a shutdown signal): Scrapy lets every request that
    already left the engine through, and one waiting on robots.txt would be fetched after the signal.
    Last before the downloader, so the requests it drops touched nothing."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StopGate:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        engine = self.crawler.engine
        if engine is not None and not engine.running:
            raise NotFetched("the crawl was stopped before this request was sent")


class RobotsTxtMiddleware(ScrapyRobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, without its 2.14–2.19 race, and with robots.txt in a download
    slot of its own.

    While robots.txt is downloading, every request to that host awaits one
    shared Deferred; awaiting it as a future replaces its result with None for
    later waiters, and None means "allowed". Here each waiter gets a Deferred
    of its own, fed from the shared one, whose result is passed on unchanged.

    robots.txt is fetched once per host and crawl, before the host's first page, which waits for it
    anyway; in the host's own slot it would also make that first page wait DOWNLOAD_DELAY (about a
    second of every one-URL crawl). Pages keep DOWNLOAD_DELAY between each other.
    """

    async def process_request(self, request: Request) -> None:
        if request.meta.get("dont_obey_robotstxt") and request.url.endswith("/robots.txt"):
            request.meta.setdefault("download_slot", f"robots.txt {urlparse_cached(request).netloc}")
        return await super().process_request(request)

    async def robot_parser(self, request: Request) -> RobotParser | None:
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if not isinstance(pending, Deferred):
            return await super().robot_parser(request)
        own: Deferred[RobotParser | None] = Deferred()

        def relay(result: Any) -> Any:
            own.callback(result)
            return result

        pending.addBoth(relay)
        return await maybe_deferred_to_future(own)


class ConditionalRequestMiddleware:
    """Looks up the last good capture requested at this URL (never another URL of its article, nor a
    copy's) once per request and passes it on in ``request.meta["redline_previous"]`` (body sha256, or
    None), for the pipeline to skip extracting an identical body; adds If-None-Match /
    If-Modified-Since when REDLINE_CONDITIONAL."""

    def __init__(self, link: ArchiveLink, conditional: bool) -> None:
        self.link, self.conditional = link, conditional

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestMiddleware:
        if not crawler.settings.get("REDLINE_DB"):
            raise NotConfigured
        return cls(ArchiveLink.of(crawler), crawler.settings.getbool("REDLINE_CONDITIONAL"))

    def process_request(self, request: Request) -> None:
        if (request.meta.get("redline_unconditional") or "redline_previous" in request.meta
                or request.url.endswith("/robots.txt")):
            return None  # a redirect keeps the original request's meta and headers
        sha, etag, last_modified = self.link.archive.previous_body(request.meta.get("redline_url", request.url))
        request.meta["redline_previous"] = sha
        if self.conditional and etag:
            request.headers.setdefault("If-None-Match", etag)
        if self.conditional and last_modified:
            request.headers.setdefault("If-Modified-Since", last_modified)
        return None
