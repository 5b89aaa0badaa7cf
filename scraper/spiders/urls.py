"""Capture a given list of article URLs once each (through a browser too, where the page needs one)."""
from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from archive.capture import Capture
from archive.vocab import FetchedWith, RenderMode
from scraper.items import PageItem
from scraper.middlewares import NotFetched
from scraper.shell import needs_browser


class UrlsSpider(scrapy.Spider):
    """Each URL once through Scrapy's HTTP handler; again through the browser when its render mode says so:
    ``js`` always, ``auto`` when the HTML as served is an app shell with no text (:func:`needs_browser`)."""

    name = "urls"

    def __init__(self, urls: list[str] | str = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = urls.split() if isinstance(urls, str) else list(urls)
        self.site_render: dict[str, str] = {}  # host -> mode ('redline site set'), read at the start

    def mode(self, url: str) -> str:
        """The render mode for ``url``: the crawl's (command line or schedule), else its site's, else auto."""
        return self.settings.get("REDLINE_RENDER") or self.site_render.get(urlsplit(url).hostname or "",
                                                                               RenderMode.AUTO)

    def browser_missing(self) -> str | None:
        return self.settings.get("REDLINE_BROWSER_MISSING")

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if not self.settings.get("REDLINE_RENDER") and self.settings.get("REDLINE_DB"):
            from archive.queries.sites import site_render_modes
            from scraper.archive_link import ArchiveLink

            self.site_render = site_render_modes(ArchiveLink.of(self.crawler).archive.engine)
        for url in self.urls:
            mode = self.mode(url)
            # a page to render is fetched whole: its served shell rarely changes when its article does
            meta = {"redline_url": url, "redline_render": mode,
                    "redline_unconditional": mode == RenderMode.JS and not self.browser_missing()}
            yield scrapy.Request(url, callback=self.parse, errback=self.failed, dont_filter=True, meta=meta)

    def parse(self, response: Response) -> PageItem | scrapy.Request:
        item = self.static_item(response)
        mode = response.meta.get("redline_render", RenderMode.AUTO)
        if item.html is None:
            return item  # not an HTML page the server answered with 200: nothing to render
        if mode == RenderMode.NEVER:
            item.render_note = "this crawl fetches without a browser (--render never); crawl with --render auto or js"
            return item
        if self.browser_missing():
            item.render_note = f"not fetched through a browser: {self.browser_missing()}"
            return item
        if mode == RenderMode.JS or needs_browser(item.html):
            return self.render(response, item)
        item.render_note = "its HTML holds some text, so it was not fetched through a browser; crawl with --render js"
        return item

    def static_item(self, response: Response) -> PageItem:
        request_url = response.meta.get("redline_url", response.url)
        headers = response.headers
        fetch = Capture(
            url=request_url, fetched_at=datetime.now(UTC), final_url=response.url, status=response.status,
            body=response.body, content_type=_header(headers, b"Content-Type"), etag=_header(headers, b"ETag"),
            last_modified=_header(headers, b"Last-Modified"))
        is_html = isinstance(response, TextResponse) and "html" in (fetch.content_type or "text/html").lower()
        return PageItem(fetch, response.text if is_html and response.status == 200 else None,
                        response.meta.get("redline_previous"))

    def render(self, response: Response, item: PageItem) -> scrapy.Request:
        """The page again, through the browser: one more request in the same download slot (delay, concurrency,
        robots.txt as for any page), never conditional (the DOM is what is compared, not the shell)."""
        meta = {"playwright": True, "redline_url": item.fetch.url, "redline_static": item,
                "redline_unconditional": True}
        return scrapy.Request(response.url, callback=self.parse_rendered, errback=self.render_failed,
                              dont_filter=True, meta=meta)

    def parse_rendered(self, response: Response) -> PageItem:
        """The static capture with the rendered DOM beside its body; the text comes from the DOM."""
        static: PageItem = response.meta["redline_static"]
        fetch = replace(static.fetch, fetched_at=datetime.now(UTC), final_url=response.url,
                        fetched_with=FetchedWith.BROWSER, rendered=response.body)
        html = response.text if isinstance(response, TextResponse) else None
        if response.status != 200 or html is None:
            static.render_note = f"the browser's load answered HTTP {response.status}"
            return static
        return PageItem(fetch, html, None, "the page as a browser rendered it holds no article text either")

    def render_failed(self, failure: Failure) -> PageItem:
        """The browser load failed, or was never sent (the crawl was stopped): the static capture, already
        fetched, is recorded all the same, with why it was not rendered."""
        static: PageItem = failure.request.meta["redline_static"]  # type: ignore[attr-defined]
        why = ("the crawl was stopped before the browser's load" if failure.check(NotFetched) else
               f"the browser's load failed: {failure.type.__name__}: {failure.getErrorMessage()}")
        static.render_note = why[:400]
        return static

    def failed(self, failure: Failure) -> PageItem | None:
        if failure.check(NotFetched):
            return None  # never sent: the crawl was stopped
        request = failure.request  # type: ignore[attr-defined]
        error = failure.getErrorMessage() or failure.type.__name__
        if failure.check(IgnoreRequest):
            error = "forbidden by robots.txt"
        fetch = Capture(url=request.meta.get("redline_url", request.url), fetched_at=datetime.now(UTC),
                      error=f"{failure.type.__name__}: {error}")
        return PageItem(fetch)


def _header(headers: Any, name: bytes) -> str | None:
    value = headers.get(name)
    return value.decode("latin-1") if value else None
