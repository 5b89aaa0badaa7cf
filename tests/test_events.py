"""Fetch outcomes are events, never versions; an article that comes back unchanged gets no version."""
from __future__ import annotations

from redline.fakesite import FakeSite, Route, Story
from tests.conftest import crawl, invoke, invoke_json

PAYWALL = """<html><head><title>{title}</title></head><body><article><h1>{title}</h1>
<p>{first}</p><div class="paywall"><p>Subscribe to continue reading this article.</p></div>
</article></body></html>"""
BOT_WALL = "<html><head><title>Just a moment...</title></head><body><p>Checking your browser. " \
           "Please complete the captcha to continue.</p></body></html>"
EMPTY_SHELL = "<html><head><title>App</title><script src='/app.js'></script></head><body><div id='root'></div>" \
              "</body></html>"


def _log_kinds(db: str, url: str) -> list[str]:
    return [e.get("event") or f"v{e['version']}" for e in invoke_json(db, "log", url, "--events")]


def test_each_failure_kind_is_an_event_and_recovery_makes_no_version(db: str, site: FakeSite,
                                                                     stories: list[Story], urls: list[str]) -> None:
    story, url = stories[2], urls[2]
    crawl(db, url)
    steps = [
        (403, None, "blocked"),
        (200, BOT_WALL, "blocked"),
        (200, PAYWALL.format(title=story.title, first=story.paragraphs[0]), "paywalled"),
        (200, EMPTY_SHELL, "extract-failed"),
    ]
    for status, body, expected in steps:
        site.set_status(story.slug, status, body=body)
        summary = crawl(db, url, exit_code=0 if status == 403 else 1)  # 1: the page answered gave no article
        assert summary["outcomes"] == {expected: 1}, (expected, summary)
        assert (summary["failures"][0]["reason"] == "HTTP 403") == (status == 403), summary
        assert invoke_json(db, "list")[0]["status"] == "failing"
    site.set_status(story.slug, 200)
    assert crawl(db, url)["unchanged"] == 1
    # the 403 and the bot wall are one "blocked" spell: repeated outcomes do not repeat events
    assert _log_kinds(db, url) == ["v1", "blocked", "paywalled", "extract-failed", "recovered"]
    assert invoke_json(db, "list")[0] == {**invoke_json(db, "list")[0], "status": "live", "versions": 1}
    assert "event" in invoke(db, "log", url).stdout


def test_redirect_to_another_article_is_an_event(db: str, site: FakeSite, stories: list[Story],
                                                 urls: list[str]) -> None:
    crawl(db, urls[0], urls[1])
    site.set_status(stories[0].slug, 301, location=urls[1])
    assert crawl(db, urls[0])["outcomes"] == {"redirected": 1}
    assert _log_kinds(db, urls[0]) == ["v1", "redirected"]
    assert _log_kinds(db, urls[1]) == ["v1"]


def test_redirect_to_front_page_is_an_event(db: str, site: FakeSite, stories: list[Story], urls: list[str]) -> None:
    crawl(db, urls[0])
    site.set_status(stories[0].slug, 302, location=site.url(""))
    site.set_status("", 200, body="<html><body><h1>Front page</h1></body></html>")
    assert crawl(db, urls[0])["outcomes"] == {"redirected": 1}


def test_moved_slug_keeps_one_article(db: str, site: FakeSite, stories: list[Story], urls: list[str]) -> None:
    crawl(db, urls[0])
    story, old_slug = stories[0], stories[0].slug
    new_slug = old_slug + "-updated"
    story.slug = new_slug  # the page now names its new address as canonical
    site.routes["/" + new_slug] = Route(story=story)  # a route of its own: the old one only redirects
    site.set_status(old_slug, 301, location=site.url(new_slug))
    summary = crawl(db, urls[0])
    assert summary["unchanged"] == 1 and summary["new_articles"] == 0, summary
    assert site.hits("/" + old_slug) == 2 and site.hits("/" + new_slug) == 1  # the redirect was served and followed
    [article] = invoke_json(db, "list")
    assert article["versions"] == 1
    assert _log_kinds(db, site.url(new_slug)) == _log_kinds(db, urls[0]) == ["v1"]
    assert invoke_json(db, "log", site.url(new_slug), "--all") == invoke_json(db, "log", urls[0], "--all")
    assert crawl(db, site.url(new_slug))["unchanged"] == 1  # the new URL, asked for itself, is the same article
    assert len(invoke_json(db, "list")) == 1


def test_reextract_labels_extractor_drift(db: str, urls: list[str]) -> None:
    import sqlite3

    crawl(db, urls[0])
    assert invoke_json(db, "reextract") == {"checked": 1, "unchanged": 1, "drift": 0, "failed": 0}
    with sqlite3.connect(db) as conn:  # simulate an older extractor that had produced different text
        conn.execute("UPDATE versions SET title = 'Headline as an old extractor read it'")
    assert invoke_json(db, "reextract", urls[0])["drift"] == 1
    change = invoke_json(db, "log", urls[0])[-1]["change"]
    assert change["extractor_drift"] is True and change["stealth"] is False
    assert "extractor drift" in invoke(db, "log", urls[0]).stdout
