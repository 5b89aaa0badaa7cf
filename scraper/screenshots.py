"""A full-page screenshot of a version, made by rendering the captured response itself in Chromium.

The page's URL is routed to the archived bytes (``route.fulfill`` with the stored body and its
Content-Type), so the picture shows what was archived, not what the site serves now. Everything else
the page asks for is refused, unless ``REDLINE_SCREENSHOT_LIVE`` allows same-host subresources (its
CSS and images) to load live: the screenshot is then labelled ``live-same-host``, since those parts
are today's, not the capture's. Third-party hosts are always blocked.

JavaScript is off in the screenshot's browser context: the archived page's scripts would run against
today's network (ads, consent walls, redirects, content loaded now), so the picture would no longer
show the archived bytes, and they are hostile code besides. The viewport is :data:`WIDTH` wide and the
picture is cut at :data:`MAX_HEIGHT` (WebP cannot be taller than 16,383 pixels).

The Playwright code stays here, out of ``archive``: the store only records what this module returns.
"""
from __future__ import annotations

import base64
import math
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from archive.clock import utcnow
from archive.errors import InvalidInput

if TYPE_CHECKING:
    from archive.queries.screenshots import Pending
    from archive.store.facade import Archive

WIDTH = 1280  # CSS pixels, device scale 1: a desktop reader's window
VIEWPORT_HEIGHT = 800
MAX_HEIGHT = 16_000  # pixels; a longer page is cut there (WebP's own limit is 16,383)
FORMATS = {"webp": "image/webp", "png": "image/png", "jpeg": "image/jpeg"}
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@dataclass(frozen=True)
class ShotSettings:
    """How screenshots are taken (Scrapy settings ``REDLINE_SCREENSHOT_*``)."""

    browser: str = "/usr/bin/chromium"  # executable; "" for Playwright's own Chromium (playwright install)
    image_format: str = "webp"
    quality: int = 80  # for webp and jpeg
    timeout: float = 30.0  # seconds for one page to load
    live_same_host: bool = False  # let the page's own host serve its CSS and images live

    @classmethod
    def from_settings(cls, settings: Any) -> ShotSettings:
        """From Scrapy settings (or anything with ``get``, ``getint``, ``getfloat``, ``getbool``)."""
        fmt = settings.get("REDLINE_SCREENSHOT_FORMAT")
        if fmt not in FORMATS:
            raise InvalidInput(f"bad setting REDLINE_SCREENSHOT_FORMAT={fmt!r}: use one of {', '.join(FORMATS)}")
        return cls(settings.get("REDLINE_SCREENSHOT_BROWSER"), fmt, settings.getint("REDLINE_SCREENSHOT_QUALITY"),
                   settings.getfloat("REDLINE_SCREENSHOT_TIMEOUT"), settings.getbool("REDLINE_SCREENSHOT_LIVE"))


@dataclass(frozen=True)
class Shot:
    """One screenshot and how it was made."""

    image: bytes
    image_format: str
    width: int
    height: int
    seconds: float  # rendering and encoding
    made_how: str  # "archived-body" or "rendered-dom": the page's own bytes came from the archive
    subresources: str  # "blocked", or "live-same-host" when the page's own host served some of them live
    page_height: int  # the page's full height, before the MAX_HEIGHT cut


class Shooter:
    """One browser, many screenshots."""

    def __init__(self, browser: Any, settings: ShotSettings) -> None:
        self.browser = browser
        self.settings = settings

    def shoot(self, url: str, body: bytes, content_type: str | None, made_how: str = "archived-body") -> Shot:
        """Render ``body`` (``made_how`` says which archived bytes) as the response to ``url`` and take a
        full-page screenshot of it."""
        started = time.perf_counter()
        context = self.browser.new_context(java_script_enabled=False, service_workers="block",
                                           viewport={"width": WIDTH, "height": VIEWPORT_HEIGHT},
                                           device_scale_factor=1)
        try:
            page = context.new_page()
            page.set_default_timeout(self.settings.timeout * 1000)
            router = _Router(url, body, content_type, self.settings.live_same_host)
            page.route("**/*", router)
            page.goto(url, wait_until="load")
            image, page_height = _capture(context.new_cdp_session(page), self.settings)
        finally:
            context.close()
        width, height = image_size(image)  # what the image holds, as its own header says
        return Shot(image, self.settings.image_format, width, height, round(time.perf_counter() - started, 3),
                    made_how, "live-same-host" if router.went_live else "blocked", page_height)


class _Router:
    """Serve the page's first navigation from the archive; refuse or (same host, if allowed) pass the rest."""

    def __init__(self, url: str, body: bytes, content_type: str | None, live_same_host: bool) -> None:
        self.body = body
        self.content_type = (content_type or "text/html").split(";")[0].strip() + _charset(content_type)
        self.host = urlsplit(url).hostname
        self.live_same_host = live_same_host
        self.served = False
        self.went_live = False  # a same-host subresource was let through: the picture is not the archive's alone

    def __call__(self, route: Any) -> None:
        request = route.request
        if not self.served and request.is_navigation_request() and request.frame.parent_frame is None:
            self.served = True
            route.fulfill(status=200, body=self.body, headers={"Content-Type": self.content_type})
        elif (self.live_same_host and not request.is_navigation_request()
              and urlsplit(request.url).hostname == self.host):
            self.went_live = True
            route.continue_()
        else:  # a second navigation (a meta refresh, a frame), or another host: not the archived page
            route.abort("blockedbyclient")


def _charset(content_type: str | None) -> str:
    """The charset parameter of a Content-Type, kept for the browser (Redline's own markers are dropped).

    >>> _charset("text/html; charset=iso-8859-1; x-redline-origin=import:warc")
    '; charset=iso-8859-1'
    >>> _charset(None)
    ''
    """
    for part in (content_type or "").split(";")[1:]:
        if part.strip().lower().startswith("charset="):
            return f"; {part.strip()}"
    return ""


def _capture(cdp: Any, settings: ShotSettings) -> tuple[bytes, int]:
    """(image, the page's full height) through the DevTools protocol, which encodes WebP."""
    size = cdp.send("Page.getLayoutMetrics")["cssContentSize"]
    page_height = max(1, math.ceil(size["height"]))
    height = min(page_height, MAX_HEIGHT)
    params: dict[str, Any] = {"format": settings.image_format, "captureBeyondViewport": True,
                              "clip": {"x": 0, "y": 0, "width": WIDTH, "height": height, "scale": 1}}
    if settings.image_format != "png":
        params["quality"] = settings.quality
    return base64.b64decode(cdp.send("Page.captureScreenshot", params)["data"]), page_height


BATCH = 20  # pending versions read (with their bodies) at a time


def take_pending(archive: Archive, settings: ShotSettings) -> dict[str, int]:
    """Take the screenshot of every version marked for one, each recorded in its own transaction with its
    mark removed; a failure (no browser, a timeout, a crash) is a ``screenshot-failed`` event saying why.
    What it did: ``{"taken": n, "failed": n}``."""
    from archive.queries.screenshots import pending_screenshots

    done = {"taken": 0, "failed": 0}
    pending = pending_screenshots(archive.engine, BATCH)
    if not pending:
        return done
    try:
        from playwright.sync_api import Error
    except ImportError:
        return _all_failed(archive, done, "Playwright is not installed: install the browser extra: "
                                          "pip install -e '.[browser]' and apt-get install chromium")
    try:
        with browser(settings) as shooter:
            while pending:
                for wanted in pending:
                    done["taken" if _take(archive, shooter, wanted) else "failed"] += 1
                pending = pending_screenshots(archive.engine, BATCH)
    except Error as exc:  # the browser would not start, or died: every version still marked says why
        which = f"REDLINE_SCREENSHOT_BROWSER={settings.browser}" if settings.browser else "Playwright's own Chromium"
        return _all_failed(archive, done, f"the browser failed ({which}): {_first_line(exc)}")
    return done


def _all_failed(archive: Archive, done: dict[str, int], reason: str) -> dict[str, int]:
    from archive.queries.screenshots import pending_versions

    for version_id in pending_versions(archive.engine):
        archive.screenshot_failed(version_id, reason)
        done["failed"] += 1
    return done


def _take(archive: Archive, shooter: Shooter, wanted: Pending) -> bool:
    """Shoot one version and record the screenshot, or the reason there is none; True when taken."""
    from playwright.sync_api import Error, TimeoutError

    taken_at = utcnow()
    try:
        shot = shooter.shoot(wanted.url, wanted.body, wanted.content_type, wanted.made_how)
    except TimeoutError:
        archive.screenshot_failed(wanted.version_id, f"timed out after {shooter.settings.timeout:g} s rendering "
                                  "the archived page (REDLINE_SCREENSHOT_TIMEOUT)")
        return False
    except (Error, ValueError) as exc:
        if not shooter.browser.is_connected():
            raise
        archive.screenshot_failed(wanted.version_id, f"the page could not be rendered: {_first_line(exc)}")
        return False
    archive.record_screenshot(wanted.version_id, shot.image, taken_at, format=shot.image_format, width=shot.width,
                              height=shot.height, page_height=shot.page_height, seconds=shot.seconds,
                              made_how=shot.made_how, subresources=shot.subresources)
    return True


def _first_line(exc: BaseException) -> str:
    """An exception's first line, without Playwright's call log.

    >>> _first_line(RuntimeError("no such file\\nCall log:\\n  - launching"))
    'no such file'
    """
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0].strip()


@contextmanager
def browser(settings: ShotSettings) -> Iterator[Shooter]:
    """A running Chromium for screenshots (Debian's at ``settings.browser``, or Playwright's own)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=settings.browser or None, args=ARGS,
                                      timeout=settings.timeout * 1000)
        try:
            yield Shooter(launched, settings)
        finally:
            launched.close()


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) read from a PNG, JPEG or WebP image's own header; ValueError for anything else.

    >>> image_size(b"\\x89PNG\\r\\n\\x1a\\n" + b"\\0\\0\\0\\rIHDR" + struct.pack(">II", 1280, 900))
    (1280, 900)
    """
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return struct.unpack(">II", data[16:24])
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp_size(data)
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    raise ValueError("not a PNG, JPEG or WebP image")


def _webp_size(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8X":
        return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    raise ValueError("a WebP image of an unknown kind")


def _jpeg_size(data: bytes) -> tuple[int, int]:
    at = 2
    while at + 9 < len(data):
        if data[at] != 0xFF:
            raise ValueError("a damaged JPEG image")
        marker, length = data[at + 1], struct.unpack(">H", data[at + 2:at + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # a start of frame
            height, width = struct.unpack(">HH", data[at + 5:at + 9])
            return width, height
        at += 2 + length
    raise ValueError("a JPEG image without a frame header")
