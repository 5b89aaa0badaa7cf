"""Extraction, then hand-over to the archive in batches, written by one writer thread."""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from archive.capture import Capture, Extracted
from archive.proof.timestamps import stamp_after_crawl
from archive.store.outcomes import Recorded
from archive.text.normalize import sha256
from scraper.archive_link import ArchiveLink
from scraper.items import PageItem
from scraper.pool import ExtractionPool

logger = logging.getLogger(__name__)


class ArchivePipeline:
    """Extracts each HTML page in the pool and records captures, one transaction per batch.

    Batches are recorded by one writer thread, in order, so the reactor keeps fetching and handing
    pages to the pool while a batch is written (SQLite and the network release the GIL). Each batch
    is still one transaction: a kill loses at most the batches not yet committed, never part of one.
    The item that fills a batch waits for it, so a failed batch fails that item, as before.
    """

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
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="redline-writer")

    async def close_spider(self) -> None:
        try:
            await self.flush()  # before spider_closed disposes of the link's engine
        finally:
            self.writer.shutdown(wait=True)
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
            await self.flush()
        return item

    def _same_body(self, item: PageItem) -> bool:
        """The body is byte-identical to the last good capture (as the middleware looked it up)."""
        same = bool(item.fetch.body) and item.previous_sha == sha256(item.fetch.body or b"")
        if same:
            self.stats.inc_value("extract/skipped_same_body")
        return same

    async def flush(self) -> None:
        """Record what is pending on the writer thread; the outcomes are counted back on the reactor."""
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        record = self.link.archive.record_batch  # the link opens on the reactor thread, never the writer's
        for outcome in await asyncio.wrap_future(self.writer.submit(record, batch)):
            self._count(outcome)

    def _count(self, outcome: Recorded) -> None:
        self.stats.inc_value(f"archive/{outcome.kind}")
        self.crawler.signals.send_catch_log(signal=outcome_recorded, outcome=outcome)
        logger.info("%s %s%s", outcome.kind, outcome.url, f" v{outcome.version}" if outcome.version else "")


outcome_recorded = object()  # signal sent with each recorded Recorded (used for progress display)
