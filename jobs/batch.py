"""Gather the URLs of concurrent jobs into batches and crawl each batch in one child process.

A Scrapy process costs about a second to start, so one per article would waste most of
a worker's time. Each job coroutine awaits ``Batcher.crawl(url)``; a batch is crawled
when it holds ``size`` URLs or ``wait`` seconds after its first URL arrived, and every
job in it succeeds or fails with that crawl's exit status.
"""
from __future__ import annotations

import asyncio
import logging
import time

from archive.crawls import CrawlRequest
from jobs.child import CrawlFailed, run_crawl_async

log = logging.getLogger("redline.worker")


class Batcher:
    """Collects URLs and crawls each batch in one ``python -m scraper`` child."""

    def __init__(self, db_url: str, settings: dict[str, str], size: int, wait: float, timeout: float) -> None:
        self.db_url, self.settings = db_url, settings
        self.size, self.wait, self.timeout = size, wait, timeout
        self._pending: list[tuple[str, asyncio.Future[None]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._running: set[asyncio.Task[None]] = set()

    async def crawl(self, url: str) -> None:
        """Add ``url`` to the open batch and wait for that batch's crawl; raise CrawlFailed if it failed."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._pending.append((url, done))
        if len(self._pending) >= self.size:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.wait, self._flush)
        await done

    def _take(self) -> list[tuple[str, asyncio.Future[None]]]:
        """The open batch, emptied; its timer is cancelled."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending, []
        return batch

    def _flush(self) -> None:
        batch = self._take()
        if batch:
            task = asyncio.create_task(self._run(batch))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run(self, batch: list[tuple[str, asyncio.Future[None]]]) -> None:
        started = time.monotonic()
        try:
            await self._crawl(list(dict.fromkeys(url for url, _ in batch)))
            log.info("crawled a batch of %d URLs in %.1f s", len(batch), time.monotonic() - started)
        except BaseException as exc:  # noqa: BLE001  (every waiter must hear how its batch ended)
            for _, done in batch:
                if not done.done():
                    done.set_exception(exc if isinstance(exc, Exception) else CrawlFailed("crawl cancelled"))
            if not isinstance(exc, Exception):
                raise
        else:
            for _, done in batch:
                if not done.done():
                    done.set_result(None)

    async def _crawl(self, urls: list[str]) -> None:
        await run_crawl_async(CrawlRequest(self.db_url, urls, self.settings), self.timeout,
                              what=f"crawl of {len(urls)} URLs")

    async def close(self) -> None:
        """Fail the open batch and stop every running crawl; nothing is left behind."""
        for _, done in self._take():
            if not done.done():
                done.set_exception(CrawlFailed("worker stopped before the crawl started"))
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
