"""Ctrl-C and SIGTERM during ``redline crawl`` (issue 22, finding 6): the first one sends no more
requests, writes every page already fetched, says so and exits 130 (143); a second one stops at once
and still loses nothing already written; no traceback at any point, start-up included.

Each test runs the real ``redline crawl`` in its own process group against a slow loopback site and
signals it as a terminal's Ctrl-C does (the whole group: extraction workers and forkserver too).
"""
from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from redline.fakesite import FakeSite, load_stories
from tests.conftest import run_redline

URLS = 24
SLOW = {"DOWNLOAD_DELAY": "0.2", "AUTOTHROTTLE_ENABLED": "False", "CONCURRENT_REQUESTS_PER_DOMAIN": "2",
        "RETRY_TIMES": "0", "DOWNLOAD_TIMEOUT": "120", "REDLINE_EXTRACT_WORKERS": "1",
        "REDLINE_BATCH_SECONDS": "1", "LOG_LEVEL": "INFO"}
MESSAGE = re.compile(r"^interrupted: (\d+) fetched and written, (\d+) not fetched$", re.MULTILINE)
FORCED = re.compile(r"^interrupted twice, stopped at once: (\d+) fetched and written, (\d+) not written$", re.MULTILINE)


@dataclass
class SlowSite(FakeSite):
    """A site whose pages answer after ``delay``; from the ``hang_from``-th on (and robots.txt, with
    ``hang_robots``) only once released."""

    hang_from: int | None = None
    hang_robots: bool = False
    release: threading.Event = field(default_factory=threading.Event)
    held: list[str] = field(default_factory=list)  # paths waiting to be released

    def respond(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            arrived = sum(1 for entry in self.log if entry["path"] != "/robots.txt")
        if path == "/robots.txt" and self.hang_robots or (
                path != "/robots.txt" and self.hang_from is not None and arrived >= self.hang_from):
            self.held.append(path)
            self.release.wait(600)
        return super().respond(path, headers)


@pytest.fixture
def site() -> Iterator[SlowSite]:
    """The fixture stories at URLS different URLs, each page answering after 0.3 s."""
    fake = SlowSite(delay=0.3).start()
    stories = load_stories()
    for i in range(URLS):
        fake.add(replace(stories[i % len(stories)], slug=f"news/story-{i}"))
    yield fake
    fake.release.set()
    fake.stop()


class Crawl:
    """``redline crawl --json`` over every page of the site, in a process group of its own."""

    def __init__(self, db: str, site: FakeSite, log: Path, **settings: str) -> None:
        self.db, self.site, self.log = db, site, log
        args = [arg for name, value in {**SLOW, **settings}.items() for arg in ("-s", f"{name}={value}")]
        urls = [site.url(path) for path in site.routes]
        self.stderr = log.open("w")
        self.proc = subprocess.Popen([sys.executable, "-m", "redline", "--db", db, "crawl", "--json", *args, *urls],
                                     stdout=subprocess.PIPE, stderr=self.stderr, text=True, start_new_session=True)

    def interrupt(self, signum: int = signal.SIGINT) -> None:
        """As Ctrl-C in a terminal: the signal goes to the whole process group."""
        os.killpg(self.proc.pid, signum)

    def finish(self) -> tuple[int, dict, str]:
        """Exit status, JSON summary and stderr; the pages the site served are counted at exit."""
        out, _ = self.proc.communicate(timeout=90)
        self.served = served(self.site)
        self.stderr.close()
        return self.proc.returncode, json.loads(out) if out.strip() else {}, self.log.read_text()


def served(site: FakeSite) -> int:
    """Article pages the site answered in full."""
    return sum(1 for path in list(site.served) if path != "/robots.txt")


def rows(db: str, table: str = "fetches") -> int:
    """Rows in a table of the archive file, read beside the running crawl."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # our own table names
    except sqlite3.OperationalError:  # not created yet
        return 0


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def crawl(db: str, site: FakeSite, tmp_path: Path, **settings: str) -> Crawl:
    return Crawl(db, site, tmp_path / "stderr.log", **settings)


def assert_kept(db: str, written: int, stderr: str) -> None:
    """Exactly ``written`` pages are in the archive, each a first version, and nothing was altered."""
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert rows(db) == written and rows(db, "versions") == written
    verified = run_redline(db, "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_first_ctrl_c_stops_fetching_and_writes_every_page_fetched(db: str, site: FakeSite, tmp_path: Path) -> None:
    run = crawl(db, site, tmp_path)
    wait_for(lambda: served(site) >= 3, "three pages served")
    run.interrupt()
    status, summary, stderr = run.finish()
    assert status == 130, stderr
    found = MESSAGE.search(stderr)
    assert found, stderr
    written, not_fetched = int(found[1]), int(found[2])
    assert written == run.served == summary["fetched"] and written + not_fetched == URLS
    assert not_fetched >= URLS // 2, "the queue was fetched after Ctrl-C"
    assert summary["interrupted"] == {"signal": "SIGINT", "forced": False, "not_written": not_fetched}
    assert summary["failed"] == 0 and not summary["failures"], "requests dropped unsent recorded as failures"
    assert_kept(db, written, stderr)


def test_second_ctrl_c_stops_at_once_and_loses_nothing_fetched(db: str, site: SlowSite, tmp_path: Path) -> None:
    site.hang_from = 3  # the first Ctrl-C's graceful stop waits on the pages after these
    # No batch is due by count or time: the three pages wait in the pipeline, extracted, unwritten.
    run = crawl(db, site, tmp_path, REDLINE_BATCH_SECONDS="600", LOG_LEVEL="DEBUG")
    wait_for(lambda: run.log.read_text().count("DEBUG: Scraped from <200 ") == 3, "three pages extracted")
    assert rows(db) == 0
    before = 3
    run.interrupt()
    wait_for(lambda: "shutting down gracefully" in run.log.read_text(), "the first Ctrl-C to be taken")
    run.interrupt()
    status, summary, stderr = run.finish()
    assert status == 130, stderr
    found = FORCED.search(stderr)
    assert found, stderr
    written = int(found[1])
    assert written == before == run.served == summary["fetched"] and written + int(found[2]) == URLS
    assert summary["interrupted"] == {"signal": "SIGINT", "forced": True, "not_written": URLS - written}
    assert_kept(db, written, stderr)


def test_sigterm_stops_like_ctrl_c_and_exits_143(db: str, site: SlowSite, tmp_path: Path) -> None:
    site.hang_from = 3
    run = crawl(db, site, tmp_path)
    wait_for(lambda: rows(db) == 3, "three pages written on the batch timer (a batch holds 25)")
    run.proc.send_signal(signal.SIGTERM)  # as a service manager or 'kill' does: the crawl process only
    wait_for(lambda: "Received SIGTERM, shutting down gracefully" in run.log.read_text(), "SIGTERM to be taken")
    site.release.set()  # the pages in flight answer, and are written
    status, summary, stderr = run.finish()
    assert 3 < run.served < URLS // 2
    assert status == 143, stderr
    found = MESSAGE.search(stderr)
    assert found and int(found[1]) == run.served == summary["fetched"], stderr
    assert summary["interrupted"]["signal"] == "SIGTERM"
    assert_kept(db, run.served, stderr)


def test_ctrl_c_while_starting_prints_no_traceback(db: str, site: FakeSite, tmp_path: Path) -> None:
    run = crawl(db, site, tmp_path)
    wait_for(lambda: Path(db).exists(), "the archive to be created")
    run.interrupt()
    status, _, stderr = run.finish()
    assert status == 130, stderr
    found = MESSAGE.search(stderr)
    assert found and int(found[1]) == run.served, stderr
    assert_kept(db, run.served, stderr)


def test_ctrl_c_while_robots_txt_loads_sends_no_page_request(db: str, site: SlowSite, tmp_path: Path) -> None:
    site.hang_robots = True  # every page request waits for robots.txt, past Scrapy's engine
    run = crawl(db, site, tmp_path)
    wait_for(lambda: "/robots.txt" in site.held, "robots.txt to be requested")
    run.interrupt()
    wait_for(lambda: "shutting down gracefully" in run.log.read_text(), "Ctrl-C to be taken")
    site.release.set()
    status, _, stderr = run.finish()
    assert status == 130 and f"interrupted: 0 fetched and written, {URLS} not fetched" in stderr, stderr
    assert run.served == 0
    assert_kept(db, 0, stderr)
