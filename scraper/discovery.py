"""Run feed and sitemap discovery in this process (a Twisted reactor runs once per process)."""
from __future__ import annotations

from collections.abc import Sequence

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from archive.capture import Found
from scraper.spiders.discover import DiscoverSpider


def discover_settings(overrides: dict[str, str]) -> Settings:
    """Redline's Scrapy settings without the archive pipeline (discovery stores nothing), then the overrides."""
    settings = Settings()
    settings.setmodule("scraper.settings", priority="project")
    settings.set("ITEM_PIPELINES", {}, priority="project")
    settings.setdict(overrides, priority="cmdline")
    return settings


def discover(feeds: Sequence[str], sitemaps: Sequence[str],
             settings: dict[str, str]) -> tuple[list[Found], list[str]]:
    """Fetch the feeds and sitemaps (following sitemap indexes); returns (found URLs, problem lines)."""
    process = CrawlerProcess(discover_settings(settings))
    crawler = process.create_crawler(DiscoverSpider)
    process.crawl(crawler, feeds=list(feeds), sitemaps=list(sitemaps))
    process.start()
    spider: DiscoverSpider = crawler.spider  # type: ignore[assignment]
    return spider.found, spider.problems
