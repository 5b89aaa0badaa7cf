"""Real Scrapy crawls of the loopback site into a real SQLite file."""
from __future__ import annotations

import sqlite3

from redline.fakesite import FakeSite, Story
from tests.conftest import crawl, invoke_json


def test_first_crawl_records_every_article(db: str, urls: list[str]) -> None:
    summary = crawl(db, *urls)
    assert summary["fetched"] == 5 and summary["new_articles"] == 5 and summary["failed"] == 0
    listed = invoke_json(db, "list")
    assert sorted(a["url"] for a in listed) == sorted(urls)
    assert all(a["versions"] == 1 and a["status"] == "live" for a in listed)


def test_recrawl_of_noisy_pages_makes_no_version(db: str, urls: list[str], site: FakeSite) -> None:
    crawl(db, *urls)
    summary = crawl(db, *urls)
    assert summary["unchanged"] == 5 and summary["new_versions"] == 0
    assert site.hits("/" + urls[0].split("/", 3)[3]) == 2


def test_edit_makes_exactly_one_version_with_the_edited_word(db: str, urls: list[str], stories: list[Story]) -> None:
    crawl(db, *urls)
    stories[0].paragraphs[0] = stories[0].paragraphs[0].replace("Wednesday", "Thursday")
    summary = crawl(db, *urls)
    assert summary["new_versions"] == 1 and summary["unchanged"] == 4
    diff = invoke_json(db, "diff", urls[0])
    assert diff["changes"] == [{"op": "replace", "old": "Wednesday", "new": "Thursday"}]


def test_gone_then_restored_is_events_not_versions(db: str, urls: list[str], site: FakeSite,
                                                    stories: list[Story]) -> None:
    crawl(db, urls[1])
    site.set_status(stories[1].slug, 410)
    assert crawl(db, urls[1])["failed"] == 1
    assert invoke_json(db, "list")[0]["status"] == "gone"
    site.set_status(stories[1].slug, 200)
    assert crawl(db, urls[1])["unchanged"] == 1
    log = invoke_json(db, "log", urls[1], "--events")
    assert [entry.get("event") for entry in log if "event" in entry] == ["gone", "restored"]
    assert [entry["version"] for entry in log if "version" in entry] == [1]


def test_server_errors_are_retried_then_recorded_as_failed(db: str, urls: list[str], site: FakeSite,
                                                           stories: list[Story]) -> None:
    crawl(db, urls[2])
    site.set_status(stories[2].slug, 503)
    summary = crawl(db, urls[2], settings={"RETRY_TIMES": "2"}, exit_code=1)  # nothing could be fetched
    assert summary["outcomes"] == {"failed": 1}
    assert site.hits("/" + stories[2].slug) == 1 + 3  # first crawl, then one try and two retries
    article = invoke_json(db, "list")[0]
    assert article["status"] == "failing" and article["versions"] == 1
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status, outcome FROM fetches ORDER BY id").fetchall() == [
            (200, "content"), (503, "failed")]


def test_connection_failures_are_failed_fetches(db: str, site: FakeSite) -> None:
    url = "http://127.0.0.1:9/never-listening"  # discard port: connection refused
    summary = crawl(db, url, settings={"RETRY_TIMES": "0", "ROBOTSTXT_OBEY": "False"}, exit_code=1)
    assert summary["outcomes"] == {"failed": 1}
    with sqlite3.connect(db) as conn:
        (error,) = conn.execute("SELECT error FROM fetches").fetchone()
    assert "ConnectionRefused" in error


def test_raw_bodies_are_stored_once_compressed(db: str, urls: list[str], site: FakeSite) -> None:
    site.frozen = True  # identical bytes on every request
    crawl(db, urls[0])
    crawl(db, urls[0], settings={"REDLINE_CONDITIONAL": "False"})
    with sqlite3.connect(db) as conn:
        bodies = conn.execute("SELECT size, length(data) FROM bodies").fetchall()
        fetches = conn.execute("SELECT body_sha256 FROM fetches").fetchall()
    assert len(bodies) == 1 and bodies[0][1] < bodies[0][0] / 2
    assert len(fetches) == 2 and fetches[0] == fetches[1]


def test_conditional_request_gets_304_and_records_unchanged(db: str, urls: list[str], site: FakeSite) -> None:
    site.frozen = True
    crawl(db, urls[0])
    summary = crawl(db, urls[0])
    assert summary["unchanged"] == 1
    assert site.log[-1]["headers"].get("If-None-Match")
    with sqlite3.connect(db) as conn:
        assert [r[0] for r in conn.execute("SELECT status FROM fetches ORDER BY id")] == [200, 304]


def test_a_page_the_extractor_cannot_run_on_is_recorded_not_dropped(db: str, urls: list[str], tmp_path) -> None:
    """A broken install (trafilatura fails to import in the workers): every fetched page is still
    recorded, raw body and all, as a failed extraction; the next good crawl makes its first version."""
    import json
    import os
    import subprocess
    import sys

    from tests.conftest import FAST

    broken = tmp_path / "broken" / "trafilatura"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('a broken trafilatura install')\n")
    args = [a for name, value in FAST.items() for a in ("-s", f"{name}={value}")]
    done = subprocess.run([sys.executable, "-m", "redline", "--db", db, "crawl", "--json", *args, "--", urls[0]],
                          capture_output=True, text=True, timeout=180,
                          env={**os.environ, "PYTHONPATH": str(broken.parent)})
    summary = json.loads(done.stdout)
    assert summary["outcomes"] == {"extract-failed": 1}, done.stderr
    assert done.returncode == 1  # no page gave an article, and the failure says why
    assert summary["failures"][0]["reason"].startswith("extractor error: ImportError: a broken trafilatura")
    assert "a broken trafilatura install" in done.stderr
    with sqlite3.connect(db) as conn:
        [(status, outcome, stored)] = conn.execute("SELECT status, outcome, body_sha256 IS NOT NULL FROM fetches")
    assert (status, outcome, stored) == (200, "extract-failed", 1)
    assert crawl(db, urls[0])["new_articles"] == 1
