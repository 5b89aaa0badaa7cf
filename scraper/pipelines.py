"""Extraction, then hand-over to the archive in batches, written by one writer thread."""
from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector
from scrapy.utils.asyncio import create_looping_call
from scrapy.utils.defer import deferred_from_coro

from archive.capture import Capture, Extracted
from archive.proof.timestamps import stamp_after_crawl
from archive.store.learning import CrawlEvidence
from archive.store.outcomes import Recorded
from archive.text.normalize import sha256
from scraper.archive_link import ArchiveLink
from scraper.items import PageItem
from scraper.pool import ExtractionPool

logger = logging.getLogger(__name__)
TICKS = 4  # timer ticks per REDLINE_BATCH_SECONDS: a capture waits at most a quarter longer than that


class ArchivePipeline:
    """Extracts each HTML page in the pool and records captures, one transaction per batch.

    Batches are recorded by one writer thread, in order, so the reactor keeps fetching and handing
    pages to the pool while a batch is written (SQLite and the network release the GIL). Each batch
    is still one transaction: a kill loses at most the batches not yet committed, never part of one.
    The item that fills a batch waits for it, so a failed batch fails that item, as before.

    What is pending is also written once its first capture has waited ``REDLINE_BATCH_SECONDS``, so a
    slow crawl that is killed loses little (a fast one fills its batches first); and when the reactor
    is stopped at once (a second Ctrl-C), what is pending is written before it stops. Pages still
    being extracted then are not recorded.
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.link = ArchiveLink.of(crawler)
        self.batch_size = settings.getint("REDLINE_BATCH_SIZE")
        self.batch_seconds = settings.getfloat("REDLINE_BATCH_SECONDS")
        self.pool_args = (settings.getint("REDLINE_EXTRACT_WORKERS"), settings.getfloat("REDLINE_EXTRACT_TIMEOUT"),
                          settings.getint("REDLINE_MAX_HTML_BYTES"))
        self.stats: StatsCollector = crawler.stats  # type: ignore[assignment]
        self.crawler = crawler
        self.pending: list[tuple[Capture, Extracted | None]] = []
        self.pending_since = 0.0  # monotonic time the first pending capture came
        self.writing: set[asyncio.Future[list[Recorded]]] = set()  # batches handed to the writer thread
        self.timed: set[asyncio.Task[None]] = set()  # batches written on the timer
        self.stopping = False  # the reactor is stopping at once: record nothing more

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        if not crawler.settings.get("REDLINE_DB"):
            raise NotConfigured("REDLINE_DB is not set")
        return cls(crawler)

    def open_spider(self) -> None:
        from twisted.internet import reactor

        self.pool = ExtractionPool(*self.pool_args)
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="redline-writer")
        self.evidence = CrawlEvidence()  # template learning and site-wide edits see the whole crawl
        self.announced = 0
        self.timer = create_looping_call(self._on_timer)
        self.timer.start(self.batch_seconds / TICKS, now=False)
        self.at_stop = reactor.addSystemEventTrigger(  # type: ignore[attr-defined]
            "before", "shutdown", lambda: deferred_from_coro(self._write_before_stop()))

    async def close_spider(self) -> None:
        from twisted.internet import reactor

        reactor.removeSystemEventTrigger(self.at_stop)  # type: ignore[attr-defined]
        self.timer.stop()
        try:
            await self.flush()  # before spider_closed disposes of the link's engine
            await self._written()
            for found in self.evidence.site_wide_summary():
                self.stats.inc_value("archive/site_wide")
                self.crawler.signals.send_catch_log(signal=site_wide_grouped, found=found)
        finally:
            self.writer.shutdown(wait=True)
            self.pool.close()
        stamp_after_crawl(self.link.archive.engine)  # only when REDLINE_TSA_URL names an authority

    async def _write_before_stop(self) -> None:
        """The reactor is stopping before the spider closed (a forced stop): write what is pending,
        wait for every batch already handed over, and record nothing that comes after."""
        await self.flush()
        await self._written()
        self.stopping = True
        self.timer.stop()
        self.pool.stop()

    async def _written(self) -> None:
        """Wait until every batch handed to the writer is committed and counted."""
        while self.writing or self.timed:
            await asyncio.gather(*self.writing, *self.timed, return_exceptions=True)
            await asyncio.sleep(0)  # the flushes waiting on those batches count them first

    def _on_timer(self) -> None:
        if self.pending and not self.stopping and time.monotonic() - self.pending_since >= self.batch_seconds:
            task = asyncio.ensure_future(self.flush())
            self.timed.add(task)
            task.add_done_callback(self._timed_done)

    def _timed_done(self, task: asyncio.Task[None]) -> None:
        self.timed.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("cannot record a batch of captures: %s", task.exception())

    async def process_item(self, item: PageItem) -> PageItem:
        extracted = None
        fetch = item.fetch
        if fetch.status == 200 and item.html is not None and not self._same_body(item):
            size = len(fetch.rendered or fetch.body or b"")  # of the HTML extracted: the rendered DOM, if any
            extracted = await self.pool.extract(item.html, fetch.final_url or fetch.url, size)
            self.stats.inc_value("extract/pages")
            if item.render_note and extracted.why_empty and extracted.why_empty.startswith("script-rendered page:"):
                extracted.why_empty = f"{extracted.why_empty}; {item.render_note}"
        if fetch.fetched_with == "browser":
            self.stats.inc_value("fetch/browser")
        if self.stopping:
            return item  # extracted after a forced stop began: not recorded, and reported as not written
        if not self.pending:
            self.pending_since = time.monotonic()
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
        written = asyncio.wrap_future(self.writer.submit(record, batch, self.evidence))
        self.writing.add(written)
        try:
            outcomes = await written
        finally:
            self.writing.discard(written)
        for outcome in outcomes:
            self._count(outcome)
        self._announce()

    def _announce(self) -> None:
        """Say so whenever the crawl learns a site template paragraph: it will be skipped on every article."""
        for learned in self.evidence.learned[self.announced:]:
            self.stats.inc_value("archive/template_learned")
            self.crawler.signals.send_catch_log(signal=template_learned, learned=learned)
            logger.info("learned a template paragraph of %s (%s, %d of %d articles): %r; if it is an edit: "
                        "redline ignore forget %s %s", learned.host, learned.why, learned.witnesses, learned.seen,
                        learned.text, learned.host, learned.hash)
        self.announced = len(self.evidence.learned)

    def _count(self, outcome: Recorded) -> None:
        self.stats.inc_value(f"archive/{outcome.kind}")
        self.crawler.signals.send_catch_log(signal=outcome_recorded, outcome=outcome)
        logger.info("%s %s%s", outcome.kind, outcome.url, f" v{outcome.version}" if outcome.version else "")


outcome_recorded = object()  # signal sent with each recorded Recorded (used for progress display)
template_learned = object()  # signal sent with each learning.Learned, as the crawl learns it
site_wide_grouped = object()  # signal sent at the end of the crawl with each site-wide edit it recorded (a dict)
