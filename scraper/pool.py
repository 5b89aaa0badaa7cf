"""Extraction off the reactor: a pool of worker processes with a hard per-page timeout."""
from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import TimeoutError as FutureTimeout

from pebble import ProcessPool
from pebble.common import ProcessExpired

from archive.capture import Extracted
from scraper.extract import EXTRACTOR, extract_page


class ExtractionPool:
    """Runs :func:`scraper.extract.extract_page` in worker processes.

    A page over the size cap is not extracted; a page that runs past the
    timeout has its worker killed. Both come back as empty text with a marker,
    which the archive records as an extraction-failure event.
    """

    def __init__(self, workers: int, timeout: float, max_bytes: int) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        size = workers or os.cpu_count() or 1
        self.pool = ProcessPool(max_workers=size, context=multiprocessing.get_context("forkserver"))

    async def extract(self, html: str, url: str) -> Extracted:
        if len(html) > self.max_bytes:
            return Extracted(text="", extractor=EXTRACTOR, markers=["too-large"])
        future = self.pool.schedule(extract_page, args=(html, url), timeout=self.timeout)
        try:
            return await asyncio.wrap_future(future)
        except FutureTimeout:
            return Extracted(text="", extractor=EXTRACTOR, markers=["timeout"])
        except ProcessExpired:
            return Extracted(text="", extractor=EXTRACTOR, markers=["worker-died"])

    def close(self) -> None:
        self.pool.close()
        self.pool.join(timeout=10)
