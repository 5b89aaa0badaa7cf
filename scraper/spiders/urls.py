"""Capture a given list of article URLs once each."""
from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from archive.capture import Capture
from scraper.items import PageItem
from scraper.middlewares import NotFetched


class UrlsSpider(scrapy.Spider):
    name = "urls"

    def __init__(self, urls: list[str] | str = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = urls.split() if isinstance(urls, str) else list(urls)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.urls:
            yield scrapy.Request(url, callback=self.parse, errback=self.failed, dont_filter=True,
                                 meta={"redline_url": url})

    def parse(self, response: Response) -> PageItem:
        request_url = response.meta.get("redline_url", response.url)
        headers = response.headers
        fetch = Capture(
            url=request_url, fetched_at=datetime.now(UTC), final_url=response.url, status=response.status,
            body=response.body, content_type=_header(headers, b"Content-Type"), etag=_header(headers, b"ETag"),
            last_modified=_header(headers, b"Last-Modified"))
        is_html = isinstance(response, TextResponse) and "html" in (fetch.content_type or "text/html").lower()
        return PageItem(fetch, response.text if is_html and response.status == 200 else None,
                        response.meta.get("redline_previous"))

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
