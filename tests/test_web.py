"""``redline serve`` in a real Chromium (Debian's package, driven by Playwright) against a real server
process on a real archive: two crawls of the loopback site, with edits and hostile pages in between."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from archive import queries
from archive.schema.db import database_url, open_engine, read_only
from redline.fakesite import FakeSite, Route, Story, load_stories
from tests.conftest import crawl, invoke, start_serve

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ATOM = "{http://www.w3.org/2005/Atom}"
# Markup, event attributes, bidi overrides (the extractor strips those), right-to-left text, a Cyrillic
# homoglyph, fullwidth brackets and stacked combining marks.
HOSTILE_TITLE = ('<script>window.__pwned=1;alert(1)</script> \u202eevil\u202c "<img src=x onerror=alert(2)>" '
                 '\u05e9\u05dc\u05d5\u05dd p\u0430ypal \uff1cscript\uff1e Z\u0351\u0352\u0357a')
HOSTILE_TEXT = ('A reader wrote <img src=x onerror="window.__pwned=2"> and <b onmouseover=alert(3)>bold</b> '
                'into the story, then javascript:alert(4) and a zero\u200bwidth word, which must all show as text.')
RAW = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Raw hostile page</title>
<link rel="canonical" href="javascript:alert(5)"></head><body><article><h1>Raw hostile page</h1>
<p>This page links <a href="javascript:alert(6)">somewhere that runs script</a> and carries an
<iframe src="javascript:alert(7)"></iframe> frame, which an archive must never follow or render.</p>
<p>A second paragraph long enough for the extractor to keep it as the body of the article, with
more words about the regional talks that ministers held late on Tuesday in the capital city.</p>
<p>A third paragraph about the agreement that officials confirmed after the meeting had ended.</p>
</article></body></html>"""

# Skipped without Chromium on a developer's machine; CI (.ci/run) installs it and sets REDLINE_REQUIRE_BROWSER.
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() and os.environ.get("REDLINE_REQUIRE_BROWSER", "") in ("", "0"),
                                reason="needs Debian's chromium: apt-get install chromium")


@dataclass
class Served:
    db: str
    base: str
    urls: list[str]
    hostile: str
    raw: str
    ids: dict[str, str]         # short IDs: the permalinks' /a/ID, as 'redline list' shows them


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    db = str(tmp_path_factory.mktemp("web") / "archive.db")
    site = FakeSite().start()
    stories = load_stories()
    hostile = Story("hostile/story", "Evil <b>Site</b>", HOSTILE_TITLE, "<svg onload=alert(8)>",
                    "2024-12-05T09:00:00Z", [HOSTILE_TEXT] + stories[0].paragraphs[:6])
    urls = [site.add(s) for s in [*stories, hostile]]
    site.routes["/raw"] = Route(body=RAW)
    raw = site.url("raw")
    proc = None
    try:
        crawl(db, *urls, raw)
        stories[0].paragraphs[0] = stories[0].paragraphs[0].replace("Wednesday", "Thursday")  # stealth
        stories[1].title += " (updated)"
        stories[1].updated = "2024-12-06T10:00:00Z"                                           # declared
        stories[2].paragraphs.append(stories[2].paragraphs.pop(1))                            # a move
        site.set_status(stories[4].slug, 410)
        hostile.paragraphs.insert(1, "Added: <script>alert(9)</script> stays text in the diff too.")
        assert crawl(db, *urls, raw)["new_versions"] == 4
        proc, line = start_serve(db)
        base = re.search(r"http://\S+/", line).group(0).rstrip("/")
        engine = open_engine(database_url(db))
        ids = {u: queries.short_id(engine, queries.article(engine, u)) for u in [*urls, raw]}
        engine.dispose()
        yield Served(db, base, urls, urls[-1], raw, ids)
    finally:
        site.stop()
        if proc is not None:
            proc.terminate()
            proc.wait(30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page that records every dialog (none may ever open) and fails on a script error."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    yield page
    assert page.dialogs == []
    context.close()


def get(url: str) -> tuple[int, Any, bytes]:
    """Status, headers (case-insensitive) and body of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def change_links(page: Any) -> list[str]:
    return page.eval_on_selector_all("ol.changes a.title", "els => els.map(e => e.getAttribute('href'))")


def test_changes_page_to_a_diff_whose_permalink_shows_the_same_diff(served: Served, page: Any, browser: Any) -> None:
    sid = served.ids[served.urls[0]]
    page.goto(served.base + "/")
    assert len(change_links(page)) == 7 + 4 + 1  # the first captures of 7 articles, 4 edits and the 410
    page.click(f'ol.changes a.title[href="/a/{sid}/diff/1/2"]')
    page.wait_for_url(f"**/a/{sid}/diff/1/2")
    shown = page.inner_text(".sbs")
    assert "[-Wednesday-]" in shown and "{+Thursday+}" in shown  # marks survive copying, not colour only
    assert page.locator(".sbs del").count() == 1 and page.locator(".sbs ins").count() == 1
    other = browser.new_context(viewport={"width": 390, "height": 800})  # a phone: inline, not side by side
    phone = other.new_page()
    phone.goto(page.url)
    assert phone.is_hidden(".sbs") and phone.is_visible(".inline")
    inline = phone.inner_text(".inline")
    assert "[-Wednesday-]{+Thursday+}" in inline.replace("\n", "")
    assert phone.inner_text("h1") == page.inner_text("h1")
    other.close()


def test_diff_shows_moves_headlines_and_declared_times(served: Served, page: Any) -> None:
    moved = served.ids[served.urls[2]]
    page.goto(f"{served.base}/a/{moved}/diff/1/2")
    assert page.locator(".sbs .row.moved-from").count() == 1 and page.locator(".sbs .row.moved-to").count() == 1
    assert "[moved to" in page.inner_text(".sbs .row.moved-from")
    declared = served.ids[served.urls[1]]
    page.goto(f"{served.base}/a/{declared}/diff/1/2")
    fields = page.inner_text("table.fields")
    assert "{+(updated)+}" in fields and "{+2024-12-06T10:00:00" in fields


def test_filters_and_keyset_pages_add_up(served: Served, page: Any) -> None:
    page.goto(served.base + "/?limit=200")
    everything = change_links(page)
    seen: list[str] = []
    page.goto(served.base + "/?limit=3")
    while True:
        seen += change_links(page)
        older = page.locator("a[rel=next]")
        if older.count() == 0:
            break
        older.click()
        page.wait_for_load_state()
    assert seen == everything
    page.goto(served.base + "/")
    page.check('input[name=kind][value="headline"]')
    page.click("button[type=submit]")
    assert change_links(page) == [f"/a/{served.ids[served.urls[1]]}/diff/1/2"]
    page.goto(served.base + "/?only=stealth")
    rows = page.locator("ol.changes li")
    assert rows.count() >= 1 and rows.count() == page.locator("ol.changes .tag.stealth").count()
    page.goto(served.base + "/?only=declared")
    assert change_links(page) == [f"/a/{served.ids[served.urls[1]]}/diff/1/2"]
    page.goto(served.base + "/?q=" + "(updated)")
    assert change_links(page) == [f"/a/{served.ids[served.urls[1]]}/diff/1/2"]
    page.goto(served.base + "/?since=2999-01-01")
    assert change_links(page) == [] and page.is_visible("p.empty")
    host = urlsplit(served.urls[0]).hostname
    page.goto(served.base + "/?site=" + host)
    assert len(change_links(page)) == len(everything)
    page.goto(served.base + "/?site=nowhere.example")
    assert change_links(page) == []


def test_articles_page_statuses_filters_and_pages(served: Served, page: Any) -> None:
    page.goto(served.base + "/articles")
    assert page.locator("table.articles tbody tr").count() == len(served.ids)
    page.select_option("select[name=status]", "gone")
    page.click("button[type=submit]")
    assert page.locator("table.articles tbody tr").count() == 1
    assert page.inner_text("table.articles tbody") .count("gone") == 1
    names: list[str] = []
    page.goto(served.base + "/articles?limit=2")
    while True:
        names += page.eval_on_selector_all("table.articles tbody td:first-child > a",
                                           "els => els.map(e => e.getAttribute('href'))")
        if page.locator("a[rel=next]").count() == 0:
            break
        page.click("a[rel=next]")
        page.wait_for_load_state()
    assert sorted(names) == sorted(f"/a/{i}" for i in served.ids.values())


def test_timeline_and_version_pages(served: Served, page: Any) -> None:
    aid = served.ids[served.urls[3]]  # unchanged: its second fetch differed only in counters and teasers
    page.goto(f"{served.base}/a/{aid}")
    assert page.locator(".timeline li.version").count() == 1
    assert page.locator(".timeline li.fetch.dim").count() >= 1
    assert "noise-only" in page.inner_text(".timeline li.fetch.dim") and "[relative-time]" in page.inner_text(
        ".timeline")
    sid = served.ids[served.urls[0]]
    page.goto(f"{served.base}/a/{sid}")
    assert page.locator(".timeline li.version").count() == 2
    assert "stealth" in page.inner_text("#v2")
    page.select_option("select[name=old]", "2")
    page.select_option("select[name=new]", "1")
    page.click("text=Show the diff")
    page.wait_for_url(f"**/a/{sid}/diff/2/1")  # any two versions go to a permalink, but not backwards:
    assert "give the earlier version first, 1 then 2" in page.inner_text("body")  # an added word would read as cut
    page.goto(f"{served.base}/a/{sid}")
    page.select_option("select[name=old]", "1")
    page.select_option("select[name=new]", "2")
    page.click("text=Show the diff")
    page.wait_for_url(f"**/a/{sid}/diff/1/2")
    assert "{+Thursday+}" in page.inner_text(".sbs")
    page.goto(f"{served.base}/a/{sid}")
    page.click(f'a[href="/a/{sid}/v/2"]')
    page.wait_for_url(f"**/a/{sid}/v/2")
    assert page.locator('a[rel="next"]').count() == 0  # the latest version
    page.click('a[rel="prev"]')
    page.wait_for_url(f"**/a/{sid}/v/1")
    assert page.locator('a[rel="prev"]').count() == 0
    page.goto(f"{served.base}/a/{sid}/v/2")
    page.click(f'a[href="/a/{sid}/diff/1/2"]')  # "diff with v1"
    page.wait_for_url(f"**/a/{sid}/diff/1/2")
    page.goto(f"{served.base}/a/{sid}/v/2")
    prov = page.inner_text("dl.provenance")
    assert re.search(r"HTTP status\s+200", prov) and re.search(r"Raw body sha256\s+[0-9a-f]{64}", prov)
    assert "trafilatura" in prov and "Thursday" in page.inner_text("article.text")
    assert page.locator("article.text .dim").count() == 0
    page.click("text=dim noise paragraphs")
    page.wait_for_url("**?noise=1")
    assert page.locator("article.text p.dim").count() >= 1 and "[noise:" in page.inner_text("article.text")


def test_badges_and_times_never_break_inside_on_a_narrow_screen(served: Served, page: Any) -> None:
    page.set_viewport_size({"width": 360, "height": 800})
    for path in ("/articles", "/", f"/a/{served.ids[served.urls[0]]}"):
        page.goto(served.base + path)
        broken = page.evaluate("[...document.querySelectorAll('.tag, time')]"
                               ".filter(e => e.getClientRects().length > 1).map(e => e.textContent)")
        assert broken == [], (path, broken)
        assert page.locator("time").count() > 0


def test_search_finds_words_in_the_body_and_links_to_each_version(served: Served, page: Any) -> None:
    sid = served.ids[served.urls[0]]
    page.goto(served.base + "/")
    page.fill("header form.search input[name=q]", "into force thursday")  # what the stealth edit wrote
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=into+force+thursday")
    assert page.locator("ol.hits li").count() == 1
    assert page.inner_text("ol.hits mark") == "into force Thursday"
    page.click(f'ol.hits a[href="/a/{sid}/v/2"]')
    page.wait_for_url(f"**/a/{sid}/v/2")
    assert "Thursday" in page.inner_text("article.text")
    page.goto(served.base + "/search?q=into+force+Wednesday&removed=1")  # said in v1, gone from v2
    assert page.locator("ol.hits li").count() == 1 and "changed since" in page.inner_text("ol.hits li")
    assert page.locator(f'ol.hits a[href="/a/{sid}/v/1"]').count() == 1
    page.goto(served.base + "/search?q=nothing+says+this")
    assert "No version ever said" in page.inner_text("main")


def _atom(url: str) -> ET.Element:
    status, headers, body = get(url)
    assert status == 200 and headers["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(body)
    assert root.tag == ATOM + "feed"
    for element in (root, *root.findall(ATOM + "entry")):  # RFC 4287: id, title, updated on feed and entries
        assert all(element.find(ATOM + name) is not None and element.find(ATOM + name).text
                   for name in ("id", "title", "updated"))
    assert root.find(f"{ATOM}author/{ATOM}name") is not None
    return root


def test_feeds_parse_and_every_link_resolves(served: Served) -> None:
    host = urlsplit(served.urls[0]).hostname
    sid = served.ids[served.urls[0]]
    feeds = {"/feed.atom": 12, f"/feed.atom?site={host}": 12, "/feed.atom?only=stealth": None,
             "/feed.atom?kind=headline": 1, f"/a/{sid}/feed.atom": 2}
    for path, count in feeds.items():
        root = _atom(served.base + path)
        entries = root.findall(ATOM + "entry")
        assert count is None or len(entries) == count, path
        links = [e.find(ATOM + "link").get("href") for e in entries]
        links += [link.get("href") for link in root.findall(ATOM + "link")]
        for link in links:
            assert link.startswith(served.base) and get(link)[0] == 200, link
        for e in entries:
            assert e.find(ATOM + "summary").text
    first = _atom(f"{served.base}/a/{sid}/feed.atom").find(ATOM + "entry")
    assert first.find(ATOM + "link").get("href") == f"{served.base}/a/{sid}/diff/1/2"
    assert "stealth" in first.find(ATOM + "summary").text


def test_api_is_the_cli_json_byte_for_byte(served: Served) -> None:
    from urllib.parse import quote

    url = quote(served.urls[0], safe="")
    pairs = {"/api/list": ["list"], f"/api/log?url={url}": ["log", served.urls[0]],
             f"/api/log?url={url}&all=1": ["log", served.urls[0], "--all"],
             f"/api/log?url={quote(served.urls[4], safe='')}": ["log", served.urls[4]],
             f"/api/log?url={quote(served.urls[4], safe='')}&events=1": ["log", served.urls[4], "--events"],
             f"/api/log?url={url}&stealth=1": ["log", served.urls[0], "--stealth"],
             f"/api/show?url={url}&version=1": ["show", served.urls[0], "--version", "1"],
             f"/api/diff?url={url}": ["diff", served.urls[0]],
             f"/api/diff?url={url}&old=1&new=2&with_noise=1": ["diff", served.urls[0], "1", "2", "--with-noise"]}
    for path, args in pairs.items():
        status, headers, body = get(served.base + path)
        cli = invoke(served.db, *args, "--json")
        assert status == 200 and headers["Content-Type"] == "application/json", path
        assert body.decode() == cli.stdout, path
    status, _, body = get(served.base + "/api/log?url=javascript:alert(1)")
    assert status == 404 and "give the article's http(s) URL" in json.loads(body)["error"]
    status, _, body = get(served.base + "/api/log")
    assert status == 400 and json.loads(body) == {"error": "missing url parameter; give the article's http(s) URL, "
                                                           "as to 'redline log URL'"}


HOSTILE_CHECK = """() => {
  const attrs = [...document.querySelectorAll('*')].flatMap(e => [...e.attributes].map(a => a.name))
      .filter(n => n.startsWith('on'));
  const hrefs = [...document.querySelectorAll('[href],[src],[action]')]
      .map(e => e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('action'))
      .filter(h => !/^(https?:\\/\\/|\\/|#|\\?)/.test(h));
  const external = [...document.querySelectorAll('a[href^="http"]')].filter(a => a.rel !== 'noopener noreferrer nofollow');
  return {pwned: window.__pwned === undefined ? null : window.__pwned, scripts: document.scripts.length,
          frames: document.querySelectorAll('iframe,img,svg,object,embed').length, attrs, hrefs,
          external: external.length};
}"""


def test_hostile_pages_never_run_and_show_literally(served: Served, page: Any) -> None:
    hid, rid = served.ids[served.hostile], served.ids[served.raw]
    for path in ("/", "/?q=script", "/articles", f"/a/{hid}", f"/a/{hid}/v/1", f"/a/{hid}/v/2?noise=1",
                 f"/a/{hid}/diff/1/2", f"/a/{rid}", f"/a/{rid}/v/1", "/search?q=script", "/search?q=alert+9"):
        page.goto(served.base + path)
        page.mouse.move(300, 300)
        found = page.evaluate(HOSTILE_CHECK)
        assert found == {"pwned": None, "scripts": 0, "frames": 0, "attrs": [], "hrefs": [], "external": 0}, path
    stored = invoke(served.db, "show", served.hostile, "--version", "1", "--json").stdout
    title, body = json.loads(stored)["title"], json.loads(stored)["text"]
    assert "<script>window.__pwned=1;alert(1)</script>" in title and "onerror=" in body
    assert "\u05e9\u05dc\u05d5\u05dd p\u0430ypal" in title and "Z\u0351\u0352\u0357a" in title
    page.goto(f"{served.base}/a/{hid}/v/1")
    assert page.inner_text("h1") == title  # exactly what the archive holds, as text
    assert page.locator("h1 > bdi").count() == 1  # isolated: right-to-left text cannot reorder the page around it
    assert body.split("\n")[0] in page.inner_text("article.text")
    page.goto(f"{served.base}/a/{hid}/diff/1/2")
    assert "{+Added: <script>alert(9)</script> stays text in the diff too.+}" in page.inner_text(".sbs")
    page.goto(f"{served.base}/a/{rid}/v/1")
    assert "somewhere that runs script" in page.inner_text("article.text")
    assert page.locator('a[href^="javascript"]').count() == 0


def test_security_headers_errors_and_no_writes(served: Served) -> None:
    for path, status in (("/", 200), ("/a/999999", 404), ("/a/1", 404), (f"/a/{served.ids[served.urls[0]]}/diff/1/99", 404), ("/?kind=nope", 400),
                         ("/?limit=0", 400), ("/?since=yesterday", 400), ("/api/show?url=http://x.example/", 404),
                         ("/static/style.css", 200), ("/feed.atom", 200), ("/nope", 404)):
        got, headers, body = get(served.base + path)
        assert got == status, path
        assert "script-src" not in headers["Content-Security-Policy"] and "default-src 'none'" in headers[
            "Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"] == "no-referrer"
        assert b"Traceback" not in body and b"File \"" not in body
    _, _, body = get(served.base + "/?since=yesterday")
    assert b"since: bad time &#39;yesterday&#39;" in body
    request = urllib.request.Request(served.base + "/", data=b"x=1", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 405
    engine = read_only(open_engine(database_url(served.db)))
    try:
        with pytest.raises(OperationalError, match="readonly"), engine.begin() as conn:
            conn.execute(text("DELETE FROM versions"))
    finally:
        engine.dispose()


def test_serve_says_where_it_listens_and_refuses_bad_input(served: Served, tmp_path: Path) -> None:
    proc, line = start_serve(served.db, "--host", "0.0.0.0")
    try:
        assert line.startswith("Serving the archive read-only at http://0.0.0.0:")
        assert proc.stderr is not None and "warning: listening on 0.0.0.0, not loopback" in proc.stderr.readline()
    finally:
        proc.terminate()
        proc.wait(30)
    port = served.base.rsplit(":", 1)[1]
    busy = subprocess.run([sys.executable, "-m", "redline", "--db", served.db, "serve", "--port", port],
                          capture_output=True, text=True, timeout=60)
    assert busy.returncode == 1 and busy.stderr.strip().startswith(f"Error: cannot listen on 127.0.0.1:{port}:")
    missing = subprocess.run([sys.executable, "-m", "redline", "serve", "--db", str(tmp_path / "none.db")],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 1 and "no archive at" in missing.stderr


def test_a_failing_database_gives_a_one_line_error_page_not_a_traceback(served: Served, tmp_path: Path) -> None:
    import shutil
    import sqlite3

    copy = str(tmp_path / "copy.db")
    shutil.copy(served.db, copy)
    proc, line = start_serve(copy)
    try:
        base = re.search(r"http://\S+/", line).group(0).rstrip("/")
        assert get(base + "/")[0] == 200
        with sqlite3.connect(copy) as conn:  # the archive breaks under the running server
            conn.execute("DROP TABLE events")
        for path in (f"/a/{served.ids[served.urls[0]]}", "/api/log?events=1&url=" + served.urls[0]):
            status, headers, body = get(base + path)
            assert status == 500 and b"internal error; the server log has the details" in body, path
            assert b"Traceback" not in body and b"events" not in body and "default-src 'none'" in headers[
                "Content-Security-Policy"]
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "no such table: events" in err  # the details are in the server's own log


def test_serving_beside_a_crawl_that_writes(served: Served, tmp_path: Path) -> None:
    """The server reads while a crawl writes the same SQLite archive: neither blocks nor fails the other."""
    import shutil
    import sqlite3
    import threading

    copy = str(tmp_path / "busy.db")
    shutil.copy(served.db, copy)
    with sqlite3.connect(copy) as conn:
        before = conn.execute("SELECT count(*) FROM fetches").fetchone()[0]
    proc, line = start_serve(copy)
    answers: list[int] = []
    done = threading.Event()

    def read_while_writing() -> None:
        while not done.is_set():
            answers.append(get(base + "/")[0])

    try:
        base = re.search(r"http://\S+/", line).group(0).rstrip("/")
        reader = threading.Thread(target=read_while_writing)
        reader.start()
        try:
            summary = crawl(copy, *served.urls, settings={"REDLINE_CONDITIONAL": "False"})
        finally:
            done.set()
            reader.join(60)
        with sqlite3.connect(copy) as conn:
            fetches = conn.execute("SELECT count(*) FROM fetches").fetchone()[0]
        assert summary["fetched"] == len(served.urls) and fetches == before + len(served.urls)  # all written
        assert answers and set(answers) == {200}
    finally:
        proc.terminate()
        proc.wait(30)
