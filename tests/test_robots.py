"""robots.txt is obeyed even for the burst of requests sent while it is still downloading."""
from __future__ import annotations

import sqlite3

from redline.fakesite import FakeSite, Story
from tests.conftest import crawl

BURST = {"CONCURRENT_REQUESTS": "32", "CONCURRENT_REQUESTS_PER_DOMAIN": "32"}


def test_no_disallowed_url_is_fetched_during_robots_download(db: str, site: FakeSite, stories: list[Story]) -> None:
    allowed = site.url(stories[0].slug)
    private = [site.url(f"private/{n}") for n in range(20)]
    summary = crawl(db, allowed, *private, settings=BURST)
    assert site.hits("/robots.txt") == 1
    assert [e["path"] for e in site.log if e["path"].startswith("/private/")] == []
    assert summary["new_articles"] == 1 and summary["failed"] == 20
    with sqlite3.connect(db) as conn:
        errors = [row[0] for row in conn.execute("SELECT error FROM fetches WHERE status IS NULL")]
    assert len(errors) == 20 and all("robots.txt" in e for e in errors)


def test_user_agent_identifies_redline(db: str, site: FakeSite, stories: list[Story]) -> None:
    crawl(db, site.url(stories[0].slug))
    agents = {e["headers"].get("User-Agent") for e in site.log}
    assert len(agents) == 1 and agents.pop().startswith("Redline/")


def test_robots_txt_does_not_hold_up_the_first_page_and_pages_keep_the_delay(db: str, site: FakeSite,
                                                                             stories: list[Story]) -> None:
    # In the host's slot, robots.txt would hold the first page back DOWNLOAD_DELAY seconds: with a delay
    # far longer than any machine takes to send one request, the recorded gap tells the two apart.
    crawl(db, site.url(stories[0].slug), settings={"DOWNLOAD_DELAY": "60", "RANDOMIZE_DOWNLOAD_DELAY": "False"})
    robots, first = sorted(site.log, key=lambda e: e["at"])
    assert robots["path"] == "/robots.txt" and first["path"] == "/" + stories[0].slug
    assert first["at"] - robots["at"] < 60
    site.log.clear()
    polite = {"DOWNLOAD_DELAY": "4", "RANDOMIZE_DOWNLOAD_DELAY": "False", "CONCURRENT_REQUESTS_PER_DOMAIN": "2"}
    crawl(db, site.url(stories[0].slug), site.url(stories[1].slug), settings=polite)
    robots, first, second = sorted(site.log, key=lambda e: e["at"])
    assert robots["path"] == "/robots.txt"
    # DOWNLOAD_DELAY between the host's pages: Scrapy times it from when it sent the first request, the site
    # from when that request arrived (3.98 s seen on a loaded machine); without the delay it is milliseconds
    assert second["at"] - first["at"] >= 3
