"""The crawl's one connection to the archive, shared by the pipeline and the middleware.

One engine per crawl: opened when the spider opens, disposed when it closes. The middleware's
lookups run on the reactor thread (read-only connections); the pipeline's batches run on its one
writer thread, one at a time, so the store's transactions never run concurrently with each other.
"""
from __future__ import annotations

from scrapy import signals
from scrapy.crawler import Crawler

from archive.queries.sites import site_screenshot_hosts
from archive.schema.db import open_engine
from archive.store.facade import Archive

ATTRIBUTE = "redline_archive_link"


class ArchiveLink:
    """Holds the crawl's ``Archive`` between spider_opened and spider_closed."""

    def __init__(self, db_url: str, screenshots: bool = False) -> None:
        self.db_url = db_url
        self.screenshots = screenshots  # mark each new version for a screenshot (REDLINE_SCREENSHOT)
        self._archive: Archive | None = None

    @classmethod
    def of(cls, crawler: Crawler) -> ArchiveLink:
        """The crawler's link, made (and tied to its spider's opening and closing) on first use."""
        link = getattr(crawler, ATTRIBUTE, None)
        if link is None:
            link = cls(crawler.settings["REDLINE_DB"], crawler.settings.getbool("REDLINE_SCREENSHOT"))
            crawler.signals.connect(link.open, signal=signals.spider_opened)
            crawler.signals.connect(link.close, signal=signals.spider_closed)
            setattr(crawler, ATTRIBUTE, link)
        return link

    def open(self) -> None:
        if self._archive is None:
            engine = open_engine(self.db_url, writer=True)
            hosts = () if self.screenshots else site_screenshot_hosts(engine)  # 'redline site set HOST --screenshot'
            self._archive = Archive(engine, self.screenshots, hosts)

    def close(self) -> None:
        if self._archive is not None:
            self._archive.engine.dispose()
            self._archive = None

    @property
    def archive(self) -> Archive:
        self.open()  # a pipeline's open_spider runs before spider_opened is sent
        assert self._archive is not None
        return self._archive
