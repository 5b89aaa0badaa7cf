"""Crawls in child processes: ``python -m scraper`` given a CrawlRequest, answering a CrawlResult.

A Twisted reactor runs once per process, and a child contains memory growth and can be
killed on a timeout; this is the only way ``jobs`` reaches the crawler. The request goes in on
stdin, so nothing (a database password included) shows in ``ps``.
"""
from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable

from archive.crawls import CrawlRequest, CrawlResult
from archive.errors import ArchiveError

COMMAND = (sys.executable, "-m", "scraper")
STOP_GRACE = 30.0  # seconds a crawl gets to record what it fetched after SIGTERM before it is killed
PR_SET_PDEATHSIG = 1
REFUSED = "Error: "  # how python -m scraper starts the one line that says why it refused a request


class CrawlFailed(RuntimeError):
    """The crawl process exited badly, was killed, or timed out."""

    def __init__(self, message: str, returncode: int | None = None) -> None:
        super().__init__(message)
        self.returncode = returncode


class CrawlTimeout(CrawlFailed):
    """The crawl ran over its time limit and was stopped."""


class CrawlRefused(CrawlFailed, ArchiveError):
    """The crawl refused its request with a one-line reason the user can act on (no such schedule, ...)."""


def _failure(what: str, returncode: int, stderr: str) -> CrawlFailed:
    """The one-line error for a crawl that exited badly: its status and the last line it logged.

    >>> str(_failure("crawl of 2 URLs", 1, "INFO start\\nTraceback ...\\nKeyError: 'x'\\n"))
    "crawl of 2 URLs exited with 1: KeyError: 'x'"
    >>> str(_failure("crawl", 1, "Error: no schedule named 'x'; see 'redline schedule list'"))
    "no schedule named 'x'; see 'redline schedule list'"
    """
    last = (stderr.strip().splitlines() or ["no output"])[-1]
    if returncode == 1 and last.startswith(REFUSED):
        return CrawlRefused(last.removeprefix(REFUSED), returncode)
    return CrawlFailed(f"{what} exited with {returncode}: {last}", returncode)


def run_crawl(request: CrawlRequest, timeout: float | None, what: str = "crawl",
              on_start: Callable[[subprocess.Popen[str]], None] | None = None,
              on_timeout: Callable[[], None] | None = None) -> CrawlResult:
    """Run ``request`` in a child and wait for its result. On a timeout, ``on_timeout`` runs, then the
    child is stopped (SIGTERM, then SIGKILL after the grace time) and CrawlTimeout raised; an
    interrupt here (Ctrl-C) stops the child the same way before it propagates."""
    child = subprocess.Popen(COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)
    if on_start:
        on_start(child)
    try:
        out, err = child.communicate(request.to_json(), timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        if on_timeout:
            on_timeout()
        stop(child)
        raise CrawlTimeout(f"{what} timed out after {exc.timeout:.0f} s") from exc
    except BaseException:
        stop(child)
        raise
    if child.returncode != 0:
        raise _failure(what, child.returncode, err)
    return CrawlResult.from_json(out)


def stop(child: subprocess.Popen[str]) -> None:
    """SIGTERM the crawl, and SIGKILL its process group if it has not stopped within the grace time."""
    terminate(child)
    try:
        child.communicate(timeout=STOP_GRACE)
    except subprocess.TimeoutExpired:
        signal_group(child.pid, signal.SIGKILL)
        child.communicate()


def terminate(child: subprocess.Popen[str]) -> None:
    """SIGTERM the crawl's main process only: Scrapy then stops gracefully and closes its extraction
    workers itself (signalling them too would fail the pages they are extracting)."""
    with contextlib.suppress(ProcessLookupError):
        child.send_signal(signal.SIGTERM)


def signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signum)


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec hook so the crawl is killed if its parent dies, even by SIGKILL (Linux only)."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    return lambda: libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


async def run_crawl_async(request: CrawlRequest, timeout: float, what: str = "crawl") -> CrawlResult:
    """``run_crawl`` for an asyncio worker: the child dies with it, and is killed (with its extraction
    workers) on a timeout or a cancellation."""
    proc = await asyncio.create_subprocess_exec(
        *COMMAND, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        start_new_session=True, preexec_fn=_die_with_parent())
    try:
        out, err = await asyncio.wait_for(proc.communicate(request.to_json().encode()), timeout)
    except TimeoutError as exc:
        raise CrawlTimeout(f"{what} timed out after {timeout:.0f} s") from exc
    finally:
        if proc.returncode is None:
            signal_group(proc.pid, signal.SIGKILL)
            await asyncio.shield(proc.wait())
    if proc.returncode != 0:
        raise _failure(what, proc.returncode, err.decode(errors="replace"))
    return CrawlResult.from_json(out.decode())
