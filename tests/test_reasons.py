"""Every failure says why (issue 26): a page the server answered that gave no article is recorded with a
reason a user can act on, shown by ``crawl``, ``log --all`` (text and JSON) and the web timeline; a crawl
in which no page fetched could be extracted exits 1."""
from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from archive import queries
from archive.schema.db import database_url, open_engine
from bench import realpages
from redline.fakesite import FakeSite, Story, load_stories, render
from scraper.extract import MARKER_BYTES, MARKERS
from tests.conftest import FAST, crawl, invoke, invoke_json, run_redline, start_serve

WORDS = " ".join(f"The council debated item {n} of the budget for the coming year." for n in range(40))
# An app shell: the article's text is in a script that writes it into the page, as a browser would run it.
APP = ("<html><head><title>Budget vote</title></head><body><div id='root'></div><script>"
       "document.getElementById('root').innerHTML = '<article><h1>Budget vote</h1><p>" + WORDS + "</p></article>';"
       "</script></body></html>")
CONSENT = ("<html><head><title>Before you continue</title></head><body><div class='consent-wall'>"
           "<h1>Before you continue to Example News</h1><p>We use cookies and data to deliver our services.</p>"
           "<button>Reject all</button><button>Accept all</button></div></body></html>")
LARGE_BYTES = 2_500_000
WALLS = ("bot-wall", "consent")
# --render never: the app shell is kept as served here (tests/test_browser.py fetches it through a browser)
SETTINGS = [a for name, value in FAST.items() for a in ("-s", f"{name}={value}")] + ["--render", "never"]


def _large(story: Story, url: str) -> str:
    """A real article page padded past the 2,000,000-byte extraction limit with an HTML comment."""
    page = render(story, url, 0)
    return page.replace("</body>", f"<!-- {'x' * LARGE_BYTES} --></body>")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One crawl of four pages that give no article (exit 1), then one of a good page beside one of them."""
    db = str(tmp_path_factory.mktemp("reasons") / "archive.db")
    site = FakeSite().start()
    try:
        story, good = load_stories()[:2]
        site.add(good)
        site.set_status("app", 200, body=APP)
        site.set_status("consent", 200, body=CONSENT)
        site.set_status("empty", 200, body="")
        site.set_status("large", 200, body=_large(story, site.url("large")))
        bad = {name: site.url(name) for name in ("app", "consent", "empty", "large")}
        failed = run_redline(db, "crawl", "--json", *SETTINGS, "--", *bad.values())
        mixed = run_redline(db, "crawl", *SETTINGS, "--", site.url(good.slug), bad["app"])
        yield {"db": db, "bad": bad, "failed": failed, "summary": json.loads(failed.stdout), "mixed": mixed,
               "large": story}
    finally:
        site.stop()


def test_each_page_that_gave_no_article_says_why(served: dict[str, Any]) -> None:
    reasons = {f["url"]: f["reason"] for f in served["summary"]["failures"]}
    bad = served["bad"]
    assert "script-rendered page" in reasons[bad["app"]] and 'an empty <div id="root">' in reasons[bad["app"]]
    assert reasons[bad["app"]].endswith("(--render never); crawl with --render auto or js")
    assert "consent wall" in reasons[bad["consent"]]
    assert reasons[bad["empty"]] == "empty body: the server answered HTTP 200 with nothing to extract"
    large = reasons[bad["large"]]
    assert re.search(r"too large: the page is 2,5\d\d,\d\d\d bytes, over the 2,000,000-byte extraction limit", large)
    assert "-s REDLINE_MAX_HTML_BYTES=3000000" in large
    assert served["summary"]["outcomes"] == {"extract-failed": 3, "blocked": 1}


def test_the_reason_is_stored_with_the_fetch_and_shown_by_log(served: dict[str, Any]) -> None:
    db, reasons = served["db"], {f["url"]: f["reason"] for f in served["summary"]["failures"]}
    for url, reason in reasons.items():
        logged = invoke_json(db, "log", url, "--all")
        assert logged["fetches"][0]["reason"] == reason, url
        assert logged["events"][0]["detail"] == reason, url
    app = served["bad"]["app"]  # fetched twice, one event: the reason on its line and each fetch's
    assert invoke(db, "log", app, "--all").stdout.count(reasons[app]) == 3


def test_a_crawl_with_no_article_exits_1_and_one_with_a_good_page_exits_0(served: dict[str, Any]) -> None:
    failed = served["failed"]
    assert failed.returncode == 1
    assert failed.stderr.strip() == "Error: no article could be extracted from the 4 URL(s); each failure says why"
    mixed = served["mixed"]
    assert mixed.returncode == 0, mixed.stderr
    assert "new articles 1" in mixed.stdout and "script-rendered page" in mixed.stdout


def test_raising_the_size_limit_extracts_the_large_page(served: dict[str, Any]) -> None:
    summary = crawl(served["db"], served["bad"]["large"], settings={"REDLINE_MAX_HTML_BYTES": "3000000"})
    assert summary["outcomes"] == {"new-article": 1}, summary
    story = served["large"]
    assert story.paragraphs[0] in invoke(served["db"], "show", served["bad"]["large"]).stdout


def test_the_web_timeline_shows_the_reason(served: dict[str, Any]) -> None:
    db, url = served["db"], served["bad"]["consent"]
    engine = open_engine(database_url(db))
    sid = queries.short_id(engine, queries.article(engine, url))
    engine.dispose()
    proc, line = start_serve(db)
    try:
        base = re.search(r"http://\S+/", line).group(0)  # type: ignore[union-attr]
        with urllib.request.urlopen(f"{base}a/{sid}", timeout=30) as page:
            html = page.read().decode()
    finally:
        proc.terminate()
        proc.wait(30)
    [fetch] = re.findall(r'<li class="fetch.*?</li>', html, re.DOTALL)
    assert "a consent wall (a cookie or privacy prompt before the article) was recognized on the page" in fetch


def test_no_wall_marker_fires_on_a_real_article() -> None:
    """The bot- and consent-wall markers, tried on every cached real page: none may fire on an article."""
    pages = realpages.load()
    tried = [(name, p.pattern) for name in WALLS for p in MARKERS[name]]
    fired = [(pattern.pattern, page.name) for page in pages for name in WALLS for pattern in MARKERS[name]
             if pattern.search(page.html[:MARKER_BYTES].lower())]
    assert len(pages) >= 150 and len(tried) >= 10
    assert not fired, fired
