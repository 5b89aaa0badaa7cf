"""Extraction off the reactor: a pool of worker processes with a hard per-page timeout.

The crawl process never imports trafilatura: workers fork from a forkserver that
has imported :mod:`scraper.extract` once, and jobs name :func:`extract` in this
module, which only looks the extractor up in the worker.
"""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

from pebble import ProcessPool
from pebble.common import ProcessExpired

from archive.capture import Extracted
from scraper.memory import pin_mmap_threshold

logger = logging.getLogger(__name__)
EXTRACT_MODULE = "scraper.extract"
# Pages a worker extracts before it is replaced by a fresh fork: a bound on any slow leak (a worker's
# RSS plateaus after ~100 pages), rare enough that re-paying trafilatura's lazy loads does not matter.
MAX_TASKS = 1000


def extract(html: str, url: str) -> Extracted:
    """:func:`scraper.extract.extract_page`, run in a worker (where the forkserver preloaded it),
    with the text work the writer would otherwise do on the reactor thread (:mod:`archive.prepare`)."""
    from archive.text.prepare import prepare
    from scraper.extract import extract_page

    extracted = extract_page(html, url)
    if extracted.text.strip():
        extracted.prepared = prepare(extracted)
    return extracted


def start_forkserver() -> None:
    """Start the forkserver now, so that its import of trafilatura (about a second) runs on the other
    core while this process imports Scrapy and opens the archive; the pool later forks from it."""
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload([EXTRACT_MODULE])
    if threading.current_thread() is not threading.main_thread():
        forkserver.ensure_running()  # signal handlers can only be set on the main thread
        return
    # Started with SIGINT ignored (inherited, so its workers ignore it too): a terminal's Ctrl-C reaches
    # the whole process group, and this process stops its workers itself; a forkserver interrupted
    # while importing would print a traceback. SIGINT is blocked meanwhile, so one that comes now
    # stays pending for this process's own handler instead of being ignored.
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


class ExtractionPool:
    """Runs :func:`scraper.extract.extract_page` in worker processes.

    A page over the size cap is not extracted; a page that runs past the
    timeout has its worker killed; a page the workers cannot extract at all (the
    pool cannot start, or the extractor fails to import) is not dropped. Each comes
    back as empty text with a marker and the reason (``why_empty``, naming the setting
    that raises a limit), which the archive records, raw capture and all, as an
    extraction-failure event.
    """

    def __init__(self, workers: int, timeout: float, max_bytes: int) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.size = workers or os.cpu_count() or 1
        self.started: Future[ProcessPool] | None = None

    def start(self) -> Future[ProcessPool]:
        """Fork the workers on a thread, once: on the first page to extract, so a crawl that extracts
        nothing (discovery, a run with nothing due) starts no workers; :func:`start_forkserver`
        has usually imported trafilatura by then."""
        if self.started is None:
            self.started = Future()
            threading.Thread(target=self._start, daemon=True, name="redline-pool-start").start()
        return self.started

    def _start(self) -> None:
        assert self.started is not None
        try:
            start_forkserver()  # a no-op when the crawl started it already
            pool = ProcessPool(max_workers=self.size, max_tasks=MAX_TASKS, initializer=pin_mmap_threshold,
                               context=multiprocessing.get_context("forkserver"))
            pool.schedule(os.getpid).result()  # pebble forks its workers on first use
            self.started.set_result(pool)
        except BaseException as exc:  # handed to whoever waits for the pool
            self.started.set_exception(exc)

    async def extract(self, html: str, url: str, size: int) -> Extracted:
        """Extract a page of ``size`` bytes (its raw body); what cannot be extracted comes back empty, saying why."""
        if size > self.max_bytes:
            return Extracted(text="", markers=["too-large"], why_empty=(
                f"too large: the page is {size:,} bytes, over the {self.max_bytes:,}-byte extraction limit "
                f"(raise it with -s REDLINE_MAX_HTML_BYTES={_above(size)})"))
        try:
            pool = await asyncio.wrap_future(self.start())
            return await asyncio.wrap_future(pool.schedule(extract, args=(html, url), timeout=self.timeout))
        except FutureTimeout:
            return Extracted(text="", markers=["timeout"], why_empty=(
                f"extractor timeout: extraction ran past {self.timeout:g} s and was stopped "
                "(raise it with -s REDLINE_EXTRACT_TIMEOUT=SECONDS)"))
        except ProcessExpired as exc:
            return Extracted(text="", markers=["worker-died"], why_empty=f"extractor error: the worker died ({exc})")
        except Exception as exc:  # the capture is recorded all the same, so nothing fetched is lost
            logger.error("cannot extract %s: %s: %s", url, type(exc).__name__, exc)
            return Extracted(text="", markers=["extractor-unavailable"],
                             why_empty=f"extractor error: {type(exc).__name__}: {exc}")

    def close(self) -> None:
        if self.started is None:
            return
        pool = self.started.result()
        pool.close()
        pool.join(timeout=10)

    def stop(self) -> None:
        """Stop the workers now, abandoning the pages they are extracting (a forced stop)."""
        if self.started is None or not self.started.done() or self.started.exception() is not None:
            return
        pool = self.started.result()
        pool.stop()
        pool.join(timeout=10)


def _above(size: int) -> int:
    """A round limit above ``size``: the next whole megabyte (decimal, as the default's 2,000,000).

    >>> _above(2_621_440)
    3000000
    """
    return (size // 1_000_000 + 1) * 1_000_000
