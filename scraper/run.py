"""Run one crawl in this process (a Twisted reactor runs once per process).

``run(request)`` is what the ``python -m scraper`` child runs; ``crawl(urls, ...)`` is its plain
form, used in-process by ``redline crawl``. A schedule's pass discovers, tracks and then fetches
what is due, one crawler after the other in one reactor.

Stopping is Scrapy's own signal handling (:class:`RedlineProcess`): the first SIGINT or SIGTERM stops
gracefully, the second stops the reactor at once. Redline adds that the graceful stop sends no more
requests (Scrapy would still send every request already handed to its downloader, up to
CONCURRENT_REQUESTS of them, DOWNLOAD_DELAY apart), that what was fetched is written either way
(:class:`scraper.pipelines.ArchivePipeline`), and that a signal noted while the process started
(:data:`scraper.process.INTERRUPTS`) stops the crawl as soon as the reactor runs.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from archive.capture import Found
from archive.crawls import CrawlRequest, CrawlResult
from archive.store.learning import Learned
from archive.store.outcomes import Recorded
from scraper.browser import configure as configure_browser
from scraper.memory import pin_mmap_threshold
from scraper.middlewares import NotFetched
from scraper.pipelines import outcome_recorded, site_wide_grouped, template_learned
from scraper.pool import start_forkserver
from scraper.process import INTERRUPTS
from scraper.spiders.urls import UrlsSpider

OnOutcome = Callable[[Recorded], None] | None


class RedlineProcess(CrawlerProcess):
    """Scrapy's crawler process, noting the shutdown signals in :data:`scraper.process.INTERRUPTS` and
    dropping, on the first one, the requests still waiting in the downloader's queues."""

    def _signal_shutdown(self, signum: int, frame: Any) -> None:
        INTERRUPTS.note(signum)
        self._stop_sending(signum, frame)

    def _signal_kill(self, signum: int, frame: Any) -> None:
        INTERRUPTS.note(signum)
        INTERRUPTS.forced = True
        super()._signal_kill(signum, frame)

    def _stop_sending(self, signum: int, frame: Any) -> None:
        from twisted.internet import reactor

        super()._signal_shutdown(signum, frame)  # the engines stop: no new request leaves them
        reactor.callFromThread(self._drop_queued)  # type: ignore[attr-defined]

    def _drop_queued(self) -> None:
        """Fail every request waiting in a downloader slot's queue (not sent yet) as not fetched."""
        for crawler in list(self.crawlers):
            if crawler.engine is None:
                continue
            for slot in crawler.engine.downloader.slots.values():
                while slot.queue:
                    _, waiting = slot.queue.popleft()
                    waiting.errback(Failure(NotFetched("the crawl was stopped before this request was sent")))

    def _setup_reactor(self, install_signal_handlers: bool) -> None:
        from twisted.internet import reactor

        super()._setup_reactor(install_signal_handlers)
        if install_signal_handlers:  # after Scrapy's own handlers are installed
            reactor.addSystemEventTrigger("after", "startup", self._noted_while_starting)  # type: ignore[attr-defined]

    def _noted_while_starting(self) -> None:
        if INTERRUPTS.signum is not None:
            self._stop_sending(INTERRUPTS.signum, None)


def crawl_settings(db_url: str, overrides: dict[str, str]) -> Settings:
    """Redline's Scrapy settings, the database, then the user's ``-s`` overrides on top."""
    settings = Settings()
    settings.setmodule("scraper.settings", priority="project")
    settings.set("REDLINE_DB", db_url, priority="cmdline")
    settings.setdict(overrides, priority="cmdline")
    if not settings.get("REDLINE_BROWSER") and os.environ.get("REDLINE_BROWSER"):
        settings.set("REDLINE_BROWSER", os.environ["REDLINE_BROWSER"], priority="cmdline")
    configure_browser(settings)
    return settings


class BadSetting(ValueError):
    """A ``-s NAME=VALUE`` whose value cannot be read as that setting's type."""


def check_settings(overrides: dict[str, str]) -> None:
    """Raise BadSetting for the first override that Scrapy could not read as its setting's type (a number,
    a boolean, a JSON object), before a crawl fails on it at every request.

    >>> check_settings({"DOWNLOAD_DELAY": "2.5", "ROBOTSTXT_OBEY": "False", "MY_OWN": "x"})
    >>> check_settings({"DOWNLOAD_DELAY": "abc"})
    Traceback (most recent call last):
    ...
    scraper.run.BadSetting: bad setting DOWNLOAD_DELAY='abc': Scrapy reads it as a number
    """
    from scraper.screenshots import FORMATS

    fmt = overrides.get("REDLINE_SCREENSHOT_FORMAT")
    if fmt is not None and fmt not in FORMATS:
        raise BadSetting(f"bad setting REDLINE_SCREENSHOT_FORMAT={fmt!r}: use one of {', '.join(FORMATS)}")
    defaults = crawl_settings("", {})
    given = crawl_settings("", overrides)
    readers = ((bool, given.getbool, "true or false"), ((int, float), given.getfloat, "a number"),
               (dict, given.getdict, "a JSON object"))
    for name, value in overrides.items():
        for kind, read, what in readers:
            if isinstance(defaults.get(name), kind):
                try:
                    read(name)
                except (ValueError, TypeError) as exc:
                    raise BadSetting(f"bad setting {name}={value!r}: Scrapy reads it as {what}") from exc
                break


def crawl(urls: Sequence[str], db_url: str, overrides: dict[str, str], on_outcome: OnOutcome = None) -> CrawlResult:
    """Fetch every URL once and record it."""
    return run(CrawlRequest(db_url, list(urls), overrides), on_outcome)


def run(request: CrawlRequest, on_outcome: OnOutcome = None) -> CrawlResult:
    """Do what ``request`` asks: fetch its URLs, or run its schedule's discovery, tracking and re-checks."""
    pin_mmap_threshold()
    if request.schedule is None:
        result = CrawlResult()
        crawlers: list[Crawler] = []
        process = RedlineProcess(crawl_settings(request.db_url, request.settings))
        fetcher = _urls_crawler(process, result, on_outcome)
        crawlers.append(fetcher)
        process.crawl(fetcher, urls=list(request.urls))
        process.start()
        result.stopped = _stopped(crawlers)
        return _screenshots(request.db_url, request.settings, result)
    return _schedule_pass(request, request.schedule, on_outcome)


def _screenshots(db_url: str, overrides: dict[str, str], result: CrawlResult) -> CrawlResult:
    """After the crawl's writes, take the screenshots of the versions marked for one (this crawl's, with
    screenshots on or on a site set to have them, and any a crash left). A crawl cut short by a signal leaves
    its marks for the next run."""
    if result.stopped:
        return result
    from archive.queries.screenshots import pending_screenshots
    from archive.schema.db import open_engine
    from archive.store.facade import Archive

    settings = crawl_settings(db_url, overrides)
    engine = open_engine(db_url, writer=True)
    try:
        if settings.getbool("REDLINE_SCREENSHOT") or pending_screenshots(engine, 1):
            from scraper.screenshots import ShotSettings, take_pending

            result.screenshots = take_pending(Archive(engine), ShotSettings.from_settings(settings))
    finally:
        engine.dispose()
    return result


def _schedule_pass(request: CrawlRequest, name: str, on_outcome: OnOutcome) -> CrawlResult:
    """Discover from the schedule's feeds and sitemaps, track what is found and its listed URLs,
    then fetch what is due (or only report it, without ``fetch_due``)."""
    from sqlalchemy.orm import Session

    from archive import queries
    from archive.clock import utcnow
    from archive.schema.db import open_engine
    from archive.watch import schedules

    engine = open_engine(request.db_url, writer=True)
    try:
        with Session(engine) as session:
            schedule = schedules.get(session, name)
            feeds, sitemaps = list(schedule.feeds), list(schedule.sitemaps)
            own = {"REDLINE_RENDER": schedule.render} if schedule.render else {}
            settings = {**schedule.settings, **own, **request.settings}  # the run's own (-s, --render) win
            if schedule.screenshot:
                settings.setdefault("REDLINE_SCREENSHOT", "True")
            listed = schedules.listed_urls(schedule)
        tally: dict[str, Any] = {"discovered": 0, "due": []}

        def pick(found: list[Found]) -> list[str]:
            now = utcnow()
            tally["discovered"] = schedules.track(engine, name, [*found, *(Found(u, "list") for u in listed)], now)
            tally["due"] = list(queries.due_urls(engine, name, now))
            return tally["due"] if request.fetch_due else []

        result = discover_then_fetch(feeds, sitemaps, pick, request.db_url, settings, on_outcome)
    finally:
        engine.dispose()
    result.discovered, result.due = tally["discovered"], tally["due"]
    return _screenshots(request.db_url, settings, result) if request.fetch_due else result


def discover_then_fetch(feeds: Sequence[str], sitemaps: Sequence[str], pick: Callable[[list[Found]], list[str]],
                        db_url: str, overrides: dict[str, str], on_outcome: OnOutcome = None) -> CrawlResult:
    """Discover article URLs from feeds and sitemaps, then fetch the URLs ``pick`` chooses from
    what was found (and whatever else it wants re-checked), in one reactor, one after the other."""
    result = CrawlResult()
    crawlers: list[Crawler] = []
    errors: list[Failure] = []
    process = RedlineProcess(crawl_settings(db_url, overrides))

    def fetch_picked(discovered: Crawler | None) -> Deferred[Any] | None:
        if discovered is not None:
            if _stopped(crawlers):
                return None  # asked to stop: do not start the second half
            spider = discovered.spider
            found, result.problems = list(spider.found), list(spider.problems)
        else:
            found = []
        urls = pick(found)
        if not urls:
            return None
        start_forkserver()  # pages will be extracted
        fetcher = _urls_crawler(process, result, on_outcome)
        crawlers.append(fetcher)
        return process.crawl(fetcher, urls=urls)

    if not (feeds or sitemaps):
        if fetch_picked(None) is not None:
            process.start()
        result.stopped = _stopped(crawlers)
        return result
    from scraper.spiders.discover import DiscoverSpider

    discoverer = process.create_crawler(DiscoverSpider)
    crawlers.append(discoverer)
    started = process.crawl(discoverer, feeds=list(feeds), sitemaps=list(sitemaps))
    started.addCallback(lambda _: fetch_picked(discoverer))
    started.addErrback(errors.append)
    started.addBoth(_stop_reactor)
    process.start(stop_after_crawl=False)
    if errors:
        errors[0].raiseException()
    result.stopped = _stopped(crawlers)
    return result


def _stopped(crawlers: list[Crawler]) -> bool:
    """True when a shutdown signal cut a crawler short (or stopped the reactor before it closed)."""
    return INTERRUPTS.count > 0 or any(c.stats and c.stats.get_value("finish_reason") == "shutdown"
                                       for c in crawlers)


def _urls_crawler(process: CrawlerProcess, result: CrawlResult, on_outcome: OnOutcome) -> Crawler:
    def record(outcome: Recorded, **_: Any) -> None:
        result.outcomes[outcome.kind] = result.outcomes.get(outcome.kind, 0) + 1
        if on_outcome:
            on_outcome(outcome)

    def learned(learned: Learned, **_: Any) -> None:
        result.learned.append({"host": learned.host, "hash": learned.hash, "text": learned.text,
                               "articles": learned.witnesses, "of_articles": learned.seen, "why": learned.why,
                               "forget": f"redline ignore forget {learned.host} {learned.hash}"})

    def grouped(found: dict[str, Any], **_: Any) -> None:
        result.site_wide.append(found)

    crawler = process.create_crawler(UrlsSpider)
    crawler.signals.connect(record, signal=outcome_recorded, weak=False)
    crawler.signals.connect(learned, signal=template_learned, weak=False)
    crawler.signals.connect(grouped, signal=site_wide_grouped, weak=False)
    return crawler


def _stop_reactor(_: object) -> None:
    from twisted.internet import reactor

    with contextlib.suppress(RuntimeError):  # already stopping, e.g. after a signal
        reactor.stop()  # type: ignore[attr-defined]
