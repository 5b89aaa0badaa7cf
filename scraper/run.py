"""Run one crawl pass in this process (a Twisted reactor runs once per process)."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from archive.store import Outcome
from scraper.pipelines import outcome_recorded
from scraper.spiders.urls import UrlsSpider


def crawl_settings(db_url: str, overrides: dict[str, str]) -> Settings:
    """Redline's Scrapy settings, the database, then the user's ``-s`` overrides on top."""
    settings = Settings()
    settings.setmodule("scraper.settings", priority="project")
    settings.set("REDLINE_DB", db_url, priority="cmdline")
    settings.setdict(overrides, priority="cmdline")
    return settings


def crawl(urls: Sequence[str], db_url: str, overrides: dict[str, str],
          on_outcome: Callable[[Outcome], None] | None = None) -> Counter[str]:
    """Fetch every URL once and record it; returns a count of outcome kinds."""
    counts: Counter[str] = Counter()

    def record(outcome: Outcome, **_: Any) -> None:
        counts[outcome.kind] += 1
        if on_outcome:
            on_outcome(outcome)

    process = CrawlerProcess(crawl_settings(db_url, overrides))
    crawler = process.create_crawler(UrlsSpider)
    crawler.signals.connect(record, signal=outcome_recorded)
    process.crawl(crawler, urls=list(urls))
    process.start()
    return counts
