"""Reading comfort on the web view, against real ``redline serve`` processes on a real archive (three
crawls of the loopback site): the "changes only" diff of a long article and the switch to the full text,
the change kinds and declared/stealth marks as ``log --json`` says them, permalinks and the citation line,
times in UTC with a zone and an age (the server's clock fixed with ``--now``), hiding first captures, and
feeds titled by their filter, dated by the archive when empty, with headline changes as old → new."""
from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import lxml.html
import pytest

from archive.schema.db import database_url, open_engine
from redline.fakesite import FakeSite, load_stories
from tests.conftest import crawl, invoke_json, start_serve

CHROMIUM = "/usr/bin/chromium"
ATOM = "{http://www.w3.org/2005/Atom}"
BASE_URL = "https://redline.example.org"
NEW_TITLE = "Pact takes effect, Kremlin says"
needs_browser = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and os.environ.get("REDLINE_REQUIRE_BROWSER", "") in ("", "0"),
    reason="needs Debian's chromium: apt-get install chromium")


@dataclass
class Reading:
    db: str
    base: str                   # 'serve --base-url ... --tz Europe/Paris --now ...', no trailing slash
    plain: str                  # 'serve' with no options: relative permalinks, UTC only, the real clock
    now: datetime               # the first server's fixed "now"
    long: str                   # an article of 29 paragraphs, one word edited in the middle (stealth)
    renamed: str                # headline and declared update time changed (declared)
    twice: str                  # edited in two crawls: v1 -> v3 spans two recorded changes
    ids: dict[str, str]
    log: dict[str, list[dict[str, Any]]]  # 'log URL --json' of each


def _serve(db: str, *args: str) -> tuple[subprocess.Popen[str], str]:
    proc, line = start_serve(db, *args)
    return proc, re.search(r"http://\S+/", line).group(0).rstrip("/")


@pytest.fixture(scope="module")
def reading(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reading]:
    db = str(tmp_path_factory.mktemp("reading") / "archive.db")
    site = FakeSite().start()
    short, renamed, long = load_stories()[:3]
    urls = [site.add(s) for s in (long, renamed, short)]
    procs: list[subprocess.Popen[str]] = []
    try:
        crawl(db, *urls)
        assert len(long.paragraphs) > 20
        long.paragraphs[15] = long.paragraphs[15] + " Officials declined to comment."
        renamed.title, renamed.updated = NEW_TITLE, "2024-12-06T10:00:00Z"
        short.paragraphs[0] = short.paragraphs[0].replace("Wednesday", "Thursday")
        assert crawl(db, *urls)["new_versions"] == 3
        short.paragraphs.append("A paragraph added later, after the first edit was recorded.")
        assert crawl(db, urls[2])["new_versions"] == 1
        logs = {u: invoke_json(db, "log", u) for u in urls}
        ids = {a["url"]: a["id"] for a in invoke_json(db, "list")}
        captured = datetime.fromisoformat(logs[urls[0]][0]["captured_at"])
        now = captured.replace(microsecond=0) + timedelta(hours=2, minutes=30)
        proc, base = _serve(db, "--base-url", BASE_URL, "--tz", "Europe/Paris", "--now", now.isoformat())
        procs.append(proc)
        proc, plain = _serve(db)
        procs.append(proc)
        yield Reading(db, base, plain, now, urls[0], urls[1], urls[2], ids, logs)
    finally:
        site.stop()
        for proc in procs:
            proc.terminate()
            proc.wait(30)


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def page(url: str) -> Any:
    status, body = get(url)
    assert status == 200, (url, body[:300])
    return lxml.html.document_fromstring(body)


def text(doc: Any, css: str) -> list[str]:
    return [" ".join(e.text_content().split()) for e in doc.cssselect(css)]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


@needs_browser
def test_a_long_diff_shows_the_changes_only_and_switches_to_the_full_text(reading: Reading, browser: Any) -> None:
    sid = reading.ids[reading.long]
    tab = browser.new_page(viewport={"width": 1280, "height": 900})
    tab.goto(f"{reading.base}/a/{sid}/diff/1/2")
    changed = tab.locator(".sbs .row:not(.same)")
    assert changed.count() == 1 and "{+Officials declined to comment.+}" in changed.inner_text()
    shown, gaps = tab.locator(".sbs .row").count(), tab.locator(".sbs .gap").all_inner_texts()
    assert shown == 3 and len(gaps) == 2  # the change, a neighbour each side; the rest counted
    assert all(re.fullmatch(r"\d+ unchanged paragraphs?", g) for g in gaps)
    hidden = sum(int(g.split()[0]) for g in gaps)
    assert tab.locator(".inline .gap").all_inner_texts() == gaps  # on a phone too
    tab.click("text=show the full text side by side")
    tab.wait_for_url(f"**/a/{sid}/diff/1/2?view=full")
    assert tab.locator(".sbs .gap").count() == 0 and tab.locator(".sbs .row").count() == shown + hidden
    assert tab.locator(".sbs .row.same").count() == hidden + 2  # nothing hidden was a change
    tab.click("text=show the changed paragraphs only")
    tab.wait_for_url(f"**/a/{sid}/diff/1/2?view=changes")
    first_gap = tab.locator(".sbs .gap a").first
    first_gap.click()  # a gap opens the full text where it was
    tab.wait_for_url(re.compile(r".*/diff/1/2\?view=full#p0$"))
    short = reading.ids[reading.twice]
    tab.goto(f"{reading.base}/a/{short}/diff/1/2")  # a short article opens on its full text
    assert tab.locator(".sbs .gap").count() == 0 and tab.locator(".sbs .row.same").count() > 3
    assert "show the changed paragraphs only" in tab.inner_text("p.views")
    assert tab.evaluate("document.scripts.length") == 0
    tab.close()


def test_the_changes_only_view_counts_every_paragraph_it_leaves_out(reading: Reading) -> None:
    path = f"{reading.base}/a/{reading.ids[reading.long]}/diff/1/2"
    changes, full = page(path), page(path + "?view=full")
    rows = [r.get("id") for r in changes.cssselect(".sbs .row")]
    every = [r.get("id") for r in full.cssselect(".sbs .row")]
    gaps = text(changes, ".sbs .gap")
    assert len(every) > 12 and len(rows) == 3 and gaps == text(changes, ".inline .gap")  # long: changes by default
    assert all(re.fullmatch(r"\d+ unchanged paragraphs?", g) for g in gaps)
    assert len(rows) + sum(int(g.split()[0]) for g in gaps) == len(every) and set(rows) <= set(every)
    edited = [r.get("id") for r in full.cssselect(".sbs .row:not(.same)")]
    at = every.index(edited[0])
    assert rows == every[at - 1:at + 2]  # the change and one unchanged paragraph either side
    short = page(f"{reading.base}/a/{reading.ids[reading.twice]}/diff/1/2")  # short: the full text by default
    assert short.cssselect(".sbs .gap") == [] and len(short.cssselect(".sbs .row")) <= 12


def test_the_diff_page_says_the_recorded_kinds_as_log_does(reading: Reading) -> None:
    for url, old, new, said in ((reading.long, 1, 2, "stealth"), (reading.renamed, 1, 2, "declared"),
                                (reading.twice, 1, 3, None)):
        doc = page(f"{reading.base}/a/{reading.ids[url]}/diff/{old}/{new}")
        steps = doc.cssselect(".recorded li")
        logged = [v for v in reading.log[url] if old < v["version"] <= new]
        assert len(steps) == len(logged) == new - old
        for step, v in zip(steps, logged, strict=True):
            assert step.get("id") == f"recorded-v{v['version']}"
            assert [k.text_content() for k in step.cssselect(".tag.kind")] == v["change"]["kinds"]
            for mark in ("declared", "stealth", "undeclared"):
                assert len(step.cssselect(f".tag.{mark}")) == (1 if v["change"].get(mark) else 0), (url, mark)
        if said:
            assert len(doc.cssselect(f".recorded .tag.{said}")) == 1
    assert "2 changes recorded from v1 to v3" in text(doc, ".recorded h2")[0]
    same = page(f"{reading.base}/a/{reading.ids[reading.twice]}/diff/2/2")
    assert same.cssselect(".recorded li") == [] and "no change is recorded" in text(same, ".recorded h2")[0]


def test_permalinks_and_the_citation_line(reading: Reading) -> None:
    sid, v = reading.ids[reading.renamed], reading.log[reading.renamed]
    path = f"/a/{sid}/diff/1/2"
    host = urlsplit(reading.renamed).hostname
    for base, permalink in ((reading.base, BASE_URL + path), (reading.plain, path)):
        doc = page(base + path)
        assert [a.get("href") for a in doc.cssselect("a.permalink")] == [permalink]
        assert text(doc, "pre.citation") == [
            f'{host}, "{NEW_TITLE}", {reading.renamed}, version 1 (captured {v[0]["captured_at"]}) → '
            f'version 2 (captured {v[1]["captured_at"]}), {permalink}']


def test_times_are_utc_with_the_readers_zone_and_an_age(reading: Reading) -> None:
    sid, v1 = reading.ids[reading.long], reading.log[reading.long][0]
    at = datetime.fromisoformat(v1["captured_at"])
    doc = page(f"{reading.base}/a/{sid}/v/1")
    moment = doc.cssselect("dl.provenance .moment")[0]
    paris = at.astimezone(ZoneInfo("Europe/Paris"))
    assert moment.cssselect("time")[0].get("datetime") == v1["captured_at"] == moment.cssselect("time")[0].text
    assert " ".join(moment.text_content().split()) == \
        f"{v1['captured_at']} ({paris:%Y-%m-%d %H:%M} Europe/Paris) · 2 h ago"
    doc = page(f"{reading.base}/a/{sid}/v/1?tz=Asia/Tokyo")
    assert f"({at + timedelta(hours=9):%Y-%m-%d %H:%M} Asia/Tokyo)" in text(doc, "dl.provenance .moment")[0]
    doc = page(f"{reading.plain}/a/{sid}/v/1")  # no zone: UTC and the age only
    assert re.fullmatch(re.escape(v1["captured_at"]) + r" · \d+ (s|min) ago", text(doc, "dl.provenance .moment")[0])
    for path in ("/", "/articles", f"/a/{sid}", f"/a/{sid}/diff/1/2", "/search?q=pact"):
        doc = page(f"{reading.base}{path}?tz=UTC" if "?" not in path else f"{reading.base}{path}&tz=UTC")
        times = doc.cssselect("main time")
        assert times and all(t.get("datetime") for t in times if t.text != "-"), path
        assert not doc.cssselect("script"), path
    redirected = urllib.request.urlopen(f"{reading.base}/a/{sid}/compare?old=1&new=2&tz=Asia/Tokyo", timeout=30)
    assert redirected.url.endswith(f"/a/{sid}/diff/1/2?tz=Asia%2FTokyo")  # the timeline's form keeps the zone
    assert "Asia/Tokyo" in text(lxml.html.document_fromstring(redirected.read()), ".meta .moment")[0]
    status, body = get(f"{reading.base}/a/{sid}/v/1?tz=Mars/Olympus")
    assert status == 400 and "tz: unknown time zone &#39;Mars/Olympus&#39;" in body.decode()
    bad = subprocess.run([sys.executable, "-m", "redline", "--db", reading.db, "serve", "--tz", "Mars/Olympus"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        "Error: bad --tz: unknown time zone 'Mars/Olympus'; give an IANA name such as Europe/Paris or UTC"]


def test_first_captures_can_be_hidden_on_the_changes_page_and_its_feed(reading: Reading) -> None:
    every = page(reading.base + "/")
    firsts = [li for li in text(every, "ol.changes li") if "first capture" in li]
    links = [a.get("href") for a in every.cssselect("ol.changes a.title")]
    assert len(firsts) == 3 and len(links) == 3 + 4
    hidden = page(reading.base + "/?first=0")
    assert [a.get("href") for a in hidden.cssselect("ol.changes a.title")] == [h for h in links if "/diff/" in h]
    assert "first capture" not in hidden.cssselect("ol.changes")[0].text_content()
    assert hidden.cssselect('input[name=first][value="0"][checked]')
    assert all("first=0" in a.get("href") for a in hidden.cssselect("a[href^='/?site']"))  # filters keep it
    entries = ET.fromstring(get(reading.base + "/feed.atom?first=0")[1]).findall(ATOM + "entry")
    assert len(entries) == 4 and all("/diff/" in e.find(ATOM + "link").get("href") for e in entries)
    status, body = get(reading.base + "/?first=maybe")
    assert status == 400 and b"bad first=&#39;maybe&#39;; use first=0 to hide first captures" in body


def _feed(url: str) -> ET.Element:
    status, body = get(url)
    assert status == 200
    return ET.fromstring(body)


def test_feeds_name_their_filter_date_by_the_archive_and_show_headlines_old_to_new(reading: Reading,
                                                                                   tmp_path: Path) -> None:
    host = urlsplit(reading.long).hostname
    root = _feed(f"{reading.base}/feed.atom?site={host}&kind=headline")
    assert root.find(ATOM + "title").text == f"Redline: changes on {host}, kinds headline"
    old_title = reading.log[reading.renamed][0]["title"]
    assert [e.find(ATOM + "title").text for e in root.findall(ATOM + "entry")] == [f"{old_title} → {NEW_TITLE} (v2)"]
    changes = page(f"{reading.base}/?kind=headline")  # the Changes page says what the headline was too
    assert text(changes, "ol.changes li .was") == [f"headline was: {old_title}"]
    assert text(changes, "ol.changes li a.title") == [NEW_TITLE]
    assert _feed(f"{reading.base}/feed.atom?only=stealth&first=0").find(ATOM + "title").text == \
        "Redline: changes, stealth only, first captures hidden"
    with sqlite3.connect(reading.db) as conn:
        newest = conn.execute("SELECT max(fetched_at) FROM fetches").fetchone()[0]
    empty = _feed(f"{reading.base}/feed.atom?since=2999-01-01")
    assert empty.findall(ATOM + "entry") == []
    assert datetime.fromisoformat(empty.find(ATOM + "updated").text) == datetime.fromisoformat(newest + "+00:00")
    bare = str(tmp_path / "empty.db")
    open_engine(database_url(bare)).dispose()  # an archive with nothing in it yet
    proc, base = _serve(bare, "--now", "2026-12-06T08:00:00Z")
    try:
        assert _feed(base + "/feed.atom").find(ATOM + "updated").text == "2026-12-06T08:00:00+00:00"
    finally:
        proc.terminate()
        proc.wait(30)


def test_bad_views_are_refused_in_one_line(reading: Reading) -> None:
    sid = reading.ids[reading.long]
    status, body = get(f"{reading.base}/a/{sid}/diff/1/2?view=short")
    assert status == 400 and b"bad view=&#39;short&#39;; use changes or full" in body and b"Traceback" not in body
    assert get(f"{reading.base}/a/{quote(sid)}/diff/1/2?view=full")[0] == 200
