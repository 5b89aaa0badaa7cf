"""Run one crawl pass in this process (a Twisted reactor runs once per process)."""
from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from archive.capture import Found
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
    process = CrawlerProcess(crawl_settings(db_url, overrides))
    process.crawl(_urls_crawler(process, counts, on_outcome), urls=list(urls))
    process.start()
    return counts


@dataclass
class WatchResult:
    """What one watch pass found and did."""

    counts: Counter[str] = field(default_factory=Counter)
    found: list[Found] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    crawlers: list[Crawler] = field(default_factory=list)

    @property
    def stopped(self) -> bool:
        """True when a shutdown signal cut the pass short."""
        return any(c.stats and c.stats.get_value("finish_reason") == "shutdown" for c in self.crawlers)


def watch(feeds: Sequence[str], sitemaps: Sequence[str], pick: Callable[[list[Found]], list[str]], db_url: str,
          overrides: dict[str, str], on_outcome: Callable[[Outcome], None] | None = None) -> WatchResult:
    """Discover article URLs from feeds and sitemaps, then fetch the URLs ``pick`` chooses from
    what was found (and whatever else it wants re-checked), in one reactor, one after the other."""
    result = WatchResult()
    errors: list[Failure] = []
    process = CrawlerProcess(crawl_settings(db_url, overrides))

    def fetch_picked(discovered: Crawler | None) -> Deferred[Any] | None:
        if discovered is not None:
            if result.stopped:
                return None  # asked to stop: do not start the second half
            spider = discovered.spider
            result.found, result.problems = list(spider.found), list(spider.problems)
        urls = pick(result.found)
        if not urls:
            return None
        fetcher = _urls_crawler(process, result.counts, on_outcome)
        result.crawlers.append(fetcher)
        return process.crawl(fetcher, urls=urls)

    if not (feeds or sitemaps):
        if fetch_picked(None) is not None:
            process.start()
        return result
    from scraper.spiders.discover import DiscoverSpider

    discoverer = process.create_crawler(DiscoverSpider)
    result.crawlers.append(discoverer)
    started = process.crawl(discoverer, feeds=list(feeds), sitemaps=list(sitemaps))
    started.addCallback(lambda _: fetch_picked(discoverer))
    started.addErrback(errors.append)
    started.addBoth(_stop_reactor)
    process.start(stop_after_crawl=False)
    if errors:
        errors[0].raiseException()
    return result


def _urls_crawler(process: CrawlerProcess, counts: Counter[str],
                  on_outcome: Callable[[Outcome], None] | None) -> Crawler:
    def record(outcome: Outcome, **_: Any) -> None:
        counts[outcome.kind] += 1
        if on_outcome:
            on_outcome(outcome)

    crawler = process.create_crawler(UrlsSpider)
    crawler.signals.connect(record, signal=outcome_recorded, weak=False)
    return crawler


def _stop_reactor(_: object) -> None:
    from twisted.internet import reactor

    with contextlib.suppress(RuntimeError):  # already stopping, e.g. after a signal
        reactor.stop()  # type: ignore[attr-defined]
