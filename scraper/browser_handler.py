"""scrapy-playwright's download handler, started lazily (imported by :class:`scraper.browser.RenderingHandler`
at a crawl's first page to render)."""
from __future__ import annotations

import asyncio
from typing import Any

from scrapy.crawler import Crawler
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler


class LazyPlaywrightHandler(ScrapyPlaywrightDownloadHandler):
    """scrapy-playwright's handler, starting Playwright at its first page instead of at the engine's start
    (it is made after the engine started, so that signal never comes)."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._starting = asyncio.Lock()

    async def _maybe_launch_in_thread(self) -> None:
        return None

    def _engine_started(self) -> None:  # the signal path of Scrapy versions before its async API
        return None

    async def _download_request(self, request: Any, spider: Any = None) -> Any:
        async with self._starting:
            if getattr(self, "browser_provider", None) is None:
                await self._launch()
        return await super()._download_request(request, spider)
