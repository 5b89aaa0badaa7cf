"""Fetching through a browser: scrapy-playwright driving Chromium, for pages a script writes.

Only configured when a crawl may render (``REDLINE_RENDER`` is not ``never``) and the browser extra is
installed; then requests with ``meta["playwright"]`` go through the browser and every other request
through Scrapy's own HTTP handler. The browser is started at the first page that needs it, not at the
crawl's start, so a crawl that renders nothing pays nothing for it.

The browser's own requests (scripts, styles, XHR) are filtered by :class:`SubresourceGate`: other hosts
are refused unless ``REDLINE_BROWSER_THIRD_PARTY``, same-host ones obey that host's robots.txt (the
parser Scrapy's robots middleware already fetched for the page), and images, media and fonts are never
loaded (they add nothing to the text, and cost the most).
"""
from __future__ import annotations

import importlib
import os
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.settings import Settings
from twisted.internet.defer import Deferred

MODES = ("auto", "js", "never")
DEFAULT_CHROMIUM = "/usr/bin/chromium"
EXTRA = "install the browser extra: pip install -e '.[browser]' and apt-get install chromium"
HEAVY = {"image", "media", "font"}  # resource types never loaded


class BrowserMissing(RuntimeError):
    """The browser extra or the browser itself is not there; the message says how to install it."""


def executable(choice: str | None) -> str | None:
    """The browser ``REDLINE_BROWSER`` names: a path, or None for Playwright's own downloaded browser.

    >>> executable("playwright") is None
    True
    >>> executable("/opt/chrome/chrome")
    '/opt/chrome/chrome'
    """
    if choice == "playwright":
        return None
    return choice or DEFAULT_CHROMIUM


def missing(choice: str | None) -> str | None:
    """Why a page cannot be fetched through a browser here, or None when it can."""
    try:
        importlib.import_module("scrapy_playwright")  # the package only: its handler costs 0.3 s to import
    except ImportError as exc:
        return f"the browser extra is not installed ({exc}); {EXTRA}"
    path = executable(choice)
    if path is not None and not os.access(path, os.X_OK):
        return (f"no browser at {path}; apt-get install chromium, or set REDLINE_BROWSER to a Chromium's path "
                "(or to 'playwright' for Playwright's own browser)")
    return None


def configure(settings: Settings) -> None:
    """Route ``meta["playwright"]`` requests through the browser when this crawl may render and can.

    Sets ``REDLINE_BROWSER_MISSING`` (why not) instead when it may render but cannot; ``--render js``
    refuses to start then (:func:`require`), and ``auto`` fetches statically and says why in the reason.
    """
    if settings.get("REDLINE_RENDER") == "never":
        return
    why = missing(settings.get("REDLINE_BROWSER"))
    if why:
        settings.set("REDLINE_BROWSER_MISSING", why, priority="cmdline")
        return
    handler = "scraper.browser.RenderingHandler"
    settings.set("DOWNLOAD_HANDLERS", {"http": handler, "https": handler}, priority="cmdline")
    options: dict[str, Any] = {"headless": True}
    if path := executable(settings.get("REDLINE_BROWSER")):
        options["executable_path"] = path
    settings.set("PLAYWRIGHT_LAUNCH_OPTIONS", options, priority="cmdline")
    settings.set("PLAYWRIGHT_BROWSER_TYPE", "chromium", priority="cmdline")
    settings.set("PLAYWRIGHT_ABORT_REQUEST", SubresourceGate(settings.getbool("REDLINE_BROWSER_THIRD_PARTY")),
                 priority="cmdline")
    settings.set("PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT", settings.getfloat("DOWNLOAD_TIMEOUT") * 1000,
                 priority="cmdline")


def require(mode: str | None, choice: str | None) -> None:
    """Raise BrowserMissing when ``mode`` is ``js`` and no browser can be used."""
    if mode == "js" and (why := missing(choice)):
        raise BrowserMissing(f"--render js needs a browser: {why}")


class SubresourceGate:
    """``PLAYWRIGHT_ABORT_REQUEST``: True (abort) for a browser request Redline does not allow.

    The page itself (the navigation Scrapy sent, already past robots.txt) always passes.
    """

    def __init__(self, third_party: bool) -> None:
        self.third_party = third_party
        self.robots: Any = None  # Redline's RobotsTxtMiddleware, bound by BrowserGate

    def __deepcopy__(self, memo: dict[int, Any]) -> SubresourceGate:
        """Each crawler's copy of the settings gets a gate of its own, not yet bound to any crawl's robots.txt
        (a schedule's pass runs its discovery and its fetches as two crawlers of one process)."""
        return SubresourceGate(self.third_party)

    def __call__(self, request: Any) -> bool:
        try:
            if request.is_navigation_request() and request.frame == request.frame.page.main_frame:
                return False
            page = request.frame.page.main_frame.url
        except Exception:  # noqa: BLE001 (a worker's or a closed frame's request: nothing to allow it by)
            return True
        return not self.allows(request.url, request.resource_type, page)

    def allows(self, url: str, kind: str, page: str) -> bool:
        """Whether the browser may load ``url`` (a ``kind`` resource) for the page at ``page``.

        >>> gate = SubresourceGate(third_party=False)
        >>> gate.allows("https://cdn.example.net/app.js", "script", "https://news.example.com/a")
        False
        >>> gate.allows("https://news.example.com/logo.png", "image", "https://news.example.com/a")
        False
        >>> gate.allows("data:text/css,", "stylesheet", "https://news.example.com/a")
        True
        """
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob"):
            return True
        if kind in HEAVY or parts.scheme not in ("http", "https"):
            return False
        if parts.netloc != urlsplit(page).netloc:
            return self.third_party
        if self.robots is None:  # ROBOTSTXT_OBEY is off
            return True
        parser = self.robots._parsers.get(parts.netloc, _UNKNOWN)
        if parser is _UNKNOWN or isinstance(parser, Deferred):
            return False  # this host's robots.txt is not read yet: nothing allows the request
        agent = self.robots._robotstxt_useragent or self.robots._default_useragent
        return parser is None or bool(parser.allowed(url, agent))


class BrowserGate:
    """An extension binding the crawl's robots.txt parsers to its :class:`SubresourceGate`."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BrowserGate:
        gate = crawler.settings.get("PLAYWRIGHT_ABORT_REQUEST")
        if not isinstance(gate, SubresourceGate):
            raise NotConfigured
        extension = cls()
        extension.gate = gate
        crawler.signals.connect(extension.engine_started, signal=signals.engine_started)
        extension.crawler = crawler
        return extension

    def engine_started(self) -> None:
        from scraper.middlewares import RobotsTxtMiddleware

        for middleware in self.crawler.engine.downloader.middleware.middlewares:  # type: ignore[union-attr]
            if isinstance(middleware, RobotsTxtMiddleware):
                self.gate.robots = middleware

_UNKNOWN = object()


_UNKNOWN = object()


def _engine_started() -> object:
    from scrapy import signals

    return signals.engine_started


class RenderingHandler(BaseDownloadHandler):
    """The download handler of a crawl that may render: Scrapy's own HTTP handler for every request without
    ``meta["playwright"]``, and scrapy-playwright's for those with it, imported (0.3 s) and made at the first
    such request and shared by the crawl's schemes, so a crawl that renders nothing pays nothing for it."""

    lazy = False

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.http = HTTP11DownloadHandler.from_crawler(crawler)

    async def download_request(self, request: Request) -> Response:
        if not request.meta.get("playwright"):
            return await self.http.download_request(request)
        browser = getattr(self.crawler, _BROWSER, None)
        if browser is None:
            from scraper.browser_handler import LazyPlaywrightHandler

            browser = LazyPlaywrightHandler.from_crawler(self.crawler)
            setattr(self.crawler, _BROWSER, browser)
        return await browser.download_request(request)

    async def close(self) -> None:
        await self.http.close()
        browser = self.crawler.__dict__.pop(_BROWSER, None)
        if browser is not None:
            await browser.close()


_BROWSER = "redline_browser_handler"  # the crawler's scrapy-playwright handler, once made
