"""Run a crawl with a progress bar on stderr when it is a terminal."""
from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from redline.output import color_enabled

if TYPE_CHECKING:
    from archive.crawls import CrawlResult


def crawl_with_progress(urls: Sequence[str], db_url: str, overrides: dict[str, str]) -> CrawlResult:
    """Crawl in this process; draw a rich progress bar on a TTY, nothing otherwise."""
    from scraper.run import crawl

    if not color_enabled(sys.stderr):
        return crawl(urls, db_url, overrides)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("crawling"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("crawl", total=len(urls))
        return crawl(urls, db_url, overrides, on_outcome=lambda _outcome: progress.advance(task))
