"""Gather the URLs of concurrent jobs into batches and crawl each batch in one child process.

A Scrapy process costs about a second to start, so one per article would waste most of
a worker's time. Each job coroutine awaits ``Batcher.crawl(url)``; a batch is crawled
when it holds ``size`` URLs or ``wait`` seconds after its first URL arrived, and every
job in it succeeds or fails with that crawl's exit status.
"""
from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import sys
import time
from collections.abc import Callable

from jobs.runner import CrawlFailed

PR_SET_PDEATHSIG = 1
log = logging.getLogger("redline.worker")


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec hook so the crawl is killed if its worker dies, even by SIGKILL (Linux only)."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    return lambda: libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


async def _reap(proc: asyncio.subprocess.Process) -> None:
    """Kill ``proc`` and its extraction workers (its own process group) if still running; wait for it."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await asyncio.shield(proc.wait())


class Batcher:
    """Collects URLs and runs ``python -m redline crawl --json -- URLS`` per batch."""

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
        args = [sys.executable, "-m", "redline", "crawl", "--json"]
        for name, value in self.settings.items():
            args += ["-s", f"{name}={value}"]
        # The URL goes in the environment, not the arguments, so a password in it stays out of ps.
        proc = await asyncio.create_subprocess_exec(
            *args, "--", *urls, env={**os.environ, "REDLINE_DB": self.db_url}, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            start_new_session=True, preexec_fn=_die_with_parent())
        try:
            _, err = await asyncio.wait_for(proc.communicate(), self.timeout)
        except TimeoutError as exc:
            raise CrawlFailed(f"crawl of {len(urls)} URLs timed out after {self.timeout:.0f} s") from exc
        finally:
            await _reap(proc)
        if proc.returncode != 0:
            last = (err.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
            raise CrawlFailed(f"crawl of {len(urls)} URLs exited with {proc.returncode}: {last}")

    async def close(self) -> None:
        """Fail the open batch and stop every running crawl; nothing is left behind."""
        for _, done in self._take():
            if not done.done():
                done.set_exception(CrawlFailed("worker stopped before the crawl started"))
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
