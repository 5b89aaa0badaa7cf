"""Extraction, then hand-over to the archive in batches."""
from __future__ import annotations

import logging

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from archive.capture import Capture, Extracted
from archive.normalize import sha256
from archive.store import Outcome
from archive.timestamps import stamp_after_crawl
from scraper.archive_link import ArchiveLink
from scraper.items import PageItem
from scraper.pool import ExtractionPool

logger = logging.getLogger(__name__)


class ArchivePipeline:
    """Extracts each HTML page in the pool and records captures, one transaction per batch."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.link = ArchiveLink.of(crawler)
        self.batch_size = settings.getint("REDLINE_BATCH_SIZE")
        self.pool_args = (settings.getint("REDLINE_EXTRACT_WORKERS"), settings.getfloat("REDLINE_EXTRACT_TIMEOUT"),
                          settings.getint("REDLINE_MAX_HTML_BYTES"))
        self.stats: StatsCollector = crawler.stats  # type: ignore[assignment]
        self.crawler = crawler
        self.pending: list[tuple[Capture, Extracted | None]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        if not crawler.settings.get("REDLINE_DB"):
            raise NotConfigured("REDLINE_DB is not set")
        return cls(crawler)

    def open_spider(self) -> None:
        self.pool = ExtractionPool(*self.pool_args)

    def close_spider(self) -> None:
        self.flush()  # before spider_closed disposes of the link's engine
        self.pool.close()
        stamp_after_crawl(self.link.archive.engine)  # only when REDLINE_TSA_URL names an authority

    async def process_item(self, item: PageItem) -> PageItem:
        extracted = None
        fetch = item.fetch
        if fetch.status == 200 and item.html is not None and not self._same_body(item):
            extracted = await self.pool.extract(item.html, fetch.final_url or fetch.url)
            self.stats.inc_value("extract/pages")
        self.pending.append((fetch, extracted))
        if len(self.pending) >= self.batch_size:
            self.flush()
        return item

    def _same_body(self, item: PageItem) -> bool:
        """The body is byte-identical to the last good capture (as the middleware looked it up)."""
        same = bool(item.fetch.body) and item.previous_sha == sha256(item.fetch.body or b"")
        if same:
            self.stats.inc_value("extract/skipped_same_body")
        return same

    def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        for outcome in self.link.archive.record_batch(batch):
            self._count(outcome)

    def _count(self, outcome: Outcome) -> None:
        self.stats.inc_value(f"archive/{outcome.kind}")
        self.crawler.signals.send_catch_log(signal=outcome_recorded, outcome=outcome)
        logger.info("%s %s%s", outcome.kind, outcome.url, f" v{outcome.version}" if outcome.version else "")


outcome_recorded = object()  # signal sent with each recorded Outcome (used for progress display)
