"""Run a crawl with a progress bar on stderr when it is a terminal, and failed fetches logged in one line each."""
from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from redline.output import color_enabled

if TYPE_CHECKING:
    from archive.crawls import CrawlResult
    from archive.store.outcomes import Recorded

KEPT = {"new-article", "new-version", "unchanged", "gone"}
# Scrapy's loggers that report a failed download with a traceback.
DOWNLOAD_LOGGERS = ("scrapy.downloadermiddlewares.retry", "scrapy.downloadermiddlewares.robotstxt",
                    "scrapy.core.scraper", "scrapy.core.engine", "scrapy.core.downloader")


class OneLine(logging.Filter):
    """A failed download in one WARNING line ("Gave up retrying <GET ...>: Connection refused"); the same
    failure reported again with a traceback goes to INFO, without the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        level = logging.WARNING
        if record.exc_info or record.exc_text:
            record.exc_info, record.exc_text = None, None
            level = logging.INFO
        if record.levelno > level:
            record.levelno, record.levelname = level, logging.getLevelName(level)
        return True


class FailureLog:
    """The URLs a crawl could not record as a version, an unchanged mark or gone; without ``verbose``,
    Scrapy's download errors are logged in one line each instead of with tracebacks."""

    def __init__(self, verbose: bool) -> None:
        self.failed: list[Recorded] = []
        if not verbose:
            for name in DOWNLOAD_LOGGERS:
                logging.getLogger(name).addFilter(OneLine())

    def __call__(self, outcome: Recorded) -> None:
        if outcome.kind not in KEPT:
            self.failed.append(outcome)

    def described(self, db: Any) -> list[dict[str, str | None]]:
        """``{"url", "outcome", "reason"}`` per failure; the reason is why a page answered gave no article,
        else the event the failure recorded (an HTTP status, a download error)."""
        from archive import queries

        found = []
        for outcome in self.failed:
            events = [] if outcome.reason else queries.events(db, outcome.url).items
            found.append({"url": outcome.url, "outcome": str(outcome.kind),
                          "reason": outcome.reason or (events[-1].detail if events else None)})
        return found

    def none_extracted(self, outcomes: dict[str, int]) -> bool:
        """Every page the servers answered (any outcome but a failed download) gave no article."""
        unextracted = sum(1 for outcome in self.failed if outcome.reason)
        return 0 < unextracted == sum(outcomes.values()) - outcomes.get("failed", 0)


def summary_line(summary: dict[str, Any]) -> str:
    """``crawl``'s summary in text, with the figures of its JSON (the contract): ``fetched`` counts every URL
    tried, answered or not, so it reads "tried"; ``failed`` includes ``gone``.

    >>> summary_line({"fetched": 3, "new_articles": 0, "new_versions": 0, "unchanged": 0, "failed": 3, "gone": 1})
    'tried 3  new articles 0 (first captures)  new versions 0  unchanged 0  failed 3 (gone 1)'
    """
    return ("tried {fetched}  new articles {new_articles} (first captures)  new versions {new_versions}  "
            "unchanged {unchanged}  failed {failed} (gone {gone})".format(**summary))


def crawl_with_progress(urls: Sequence[str], db_url: str, overrides: dict[str, str],
                        failures: FailureLog) -> CrawlResult:
    """Crawl in this process; draw a rich progress bar on a TTY, nothing otherwise."""
    from scraper.run import crawl

    if not color_enabled(sys.stderr):
        return crawl(urls, db_url, overrides, on_outcome=failures)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("crawling"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("crawl", total=len(urls))

        def advance(outcome: Recorded) -> None:
            failures(outcome)
            progress.advance(task)

        return crawl(urls, db_url, overrides, on_outcome=advance)
