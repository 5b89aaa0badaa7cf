"""Takedowns and restorations are changes, and headline changes are counted as such: real crawls of the
loopback site (an article answering 410, then 200 again; another whose headline alone changes), read back
through ``list``, ``log``, a running ``redline serve`` (in Chromium and its Atom feed) and alerts delivered
to a real webhook, immediately and in a digest, whose links must open in that server."""
from __future__ import annotations

import json
import os
import re
import sqlite3
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from redline.fakesite import FakeSite, load_stories
from tests.conftest import crawl, downgrade, invoke, invoke_json, start_serve
from tests.receivers import Hook, Webhook

ATOM = "{http://www.w3.org/2005/Atom}"
NEW_TITLE = "Pact takes effect, Kremlin says"
CHROMIUM = "/usr/bin/chromium"


@dataclass
class World:
    db: str
    base: str                  # where the running 'redline serve' answers, with a trailing slash
    gone: str                  # the article taken down, then restored
    renamed: str               # the article whose headline alone changed
    still: str                 # an article that never changed
    ids: dict[str, str]
    since: str                 # a time between the first crawl and the takedown
    hooks: dict[str, list[Hook]]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    db = str(tmp_path_factory.mktemp("takedowns") / "archive.db")
    site, hook = FakeSite().start(), Webhook().start()
    stories = load_stories()[:3]
    urls = [site.add(s) for s in stories]
    proc = None
    try:
        crawl(db, *urls)
        since = datetime.now(UTC).isoformat()
        rules = {"now": [], "takedowns": ["--kinds", "gone,restored"], "heads": ["--kinds", "headline"],
                 "stealthy": ["--stealth-only"], "daily": ["--digest", "daily"]}
        for name, options in rules.items():
            assert invoke(db, "alert", "add", name, "--to", hook.url(f"/{name}"), *options).exit_code == 0
        site.set_status(stories[0].slug, 410)
        stories[1].title = NEW_TITLE
        assert crawl(db, *urls, exit_code=0)["gone"] == 1
        site.set_status(stories[0].slug, 200)
        assert crawl(db, *urls)["outcomes"] == {"unchanged": 3}  # restored: the same text, no new version
        with sqlite3.connect(db) as conn:  # the clock is the one edge a test cannot wait for: end the day
            conn.execute("UPDATE alert_outbox SET due_at = '2000-01-01 00:00:00.000000', "
                         "next_attempt_at = '2000-01-01 00:00:00.000000' WHERE rule = 'daily'")
        proc, line = start_serve(db)
        base = re.search(r"http://\S+/", line).group(0)
        sent = json.loads(invoke(db, "alert", "send", "--json", "--base-url", base).stdout)
        assert sent == {"sent": 3 + 2 + 1 + 1 + 1, "retrying": 0, "failed": 0}
        ids = {a["url"]: a["id"] for a in invoke_json(db, "list")}
        hooks: dict[str, list[Hook]] = {name: [] for name in rules}
        for h in hook.accepted():
            hooks[h.path.strip("/")].append(h)
        yield World(db, base, urls[0], urls[1], urls[2], ids, since, hooks)
    finally:
        site.stop()
        hook.stop()
        if proc is not None:
            proc.terminate()
            proc.wait(30)


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.status, answer.read().decode("utf-8")


def test_list_changed_since_counts_a_takedown_and_a_restoration(world: World) -> None:
    changed = invoke_json(world.db, "list", "--changed-since", world.since)
    assert {a["url"] for a in changed} == {world.gone, world.renamed}  # not the article that never changed
    [gone] = [a for a in changed if a["url"] == world.gone]
    assert gone["versions"] == 1 and gone["status"] == "live" and gone["last_changed"] > gone["first_seen"]
    log = invoke_json(world.db, "log", world.gone, "--events")
    assert [e.get("event") for e in log] == [None, "gone", "restored"]
    assert gone["last_changed"] == log[-1]["at"]  # the restoration is its latest change


def test_a_headline_change_is_said_as_such_in_log_text_and_json(world: World) -> None:
    text = invoke(world.db, "log", world.renamed).stdout
    line = next(row for row in text.splitlines() if "\tv2\t" in row)
    assert "headline changed (+" in line and "+0/-0" not in line, line
    v1, v2 = invoke_json(world.db, "log", world.renamed)
    change = v2["change"]
    assert change["kinds"] == ["headline"] and change["added_words"] == 0 and change["removed_words"] == 0
    assert change["headline"]["new"] == v2["title"] == NEW_TITLE and change["headline"]["old"] == v1["title"]
    assert change["headline"]["added_words"] == len(NEW_TITLE.split()) and change["headline"]["removed_words"] > 0
    assert change["byline"] is None


def test_the_atom_feed_carries_takedowns_and_headline_changes(world: World) -> None:
    status, body = get(world.base + "feed.atom")
    assert status == 200
    entries = ET.fromstring(body).findall(f"{ATOM}entry")
    page = f"{world.base}a/{world.ids[world.gone]}"
    said = {(e.find(f"{ATOM}title").text or "").rsplit("(", 1)[-1]: e for e in entries
            if e.find(f"{ATOM}link").get("href") == page}
    assert set(said) == {"taken down)", "restored)"}, said.keys()
    assert "gone (HTTP 410)" in said["taken down)"].find(f"{ATOM}summary").text
    renamed = next(e for e in entries if NEW_TITLE in (e.find(f"{ATOM}title").text or ""))
    assert "headline changed (+" in renamed.find(f"{ATOM}summary").text
    status, body = get(world.base + "feed.atom?kind=gone")
    assert [e.find(f"{ATOM}link").get("href") for e in ET.fromstring(body).findall(f"{ATOM}entry")] == [page]


def test_immediate_alerts_for_takedowns_link_to_the_article_page_that_opens(world: World) -> None:
    page = f"{world.base}a/{world.ids[world.gone]}"
    items = [item for h in world.hooks["takedowns"] for item in h.body["redline"]["alerts"]]
    assert [(i["event"], i["url"]) for i in items] == [("gone", world.gone), ("restored", world.gone)]
    for item, hook in zip(items, world.hooks["takedowns"]):
        assert hook.body["redline"]["schema_version"] == 2
        assert item["diff"] is None and item["diff_url"] is None and item["page_url"] == page
        assert item["version"] == 1 and item["kinds"] == []
        assert f"Page: {page}" in hook.body["message"]
    assert "taken down (HTTP 410)" in world.hooks["takedowns"][0].body["message"]
    status, html = get(page)
    assert status == 200 and "gone" in html and "restored" in html
    # a rule without --kinds takes them too; one asking for headlines or stealth edits does not
    assert sorted(i["event"] or "edit" for h in world.hooks["now"] for i in h.body["redline"]["alerts"]) == \
        ["edit", "gone", "restored"]
    assert [i["event"] for h in world.hooks["heads"] for i in h.body["redline"]["alerts"]] == [None]
    assert [i["event"] for h in world.hooks["stealthy"] for i in h.body["redline"]["alerts"]] == [None]
    edit = next(i for h in world.hooks["now"] for i in h.body["redline"]["alerts"] if not i["event"])
    assert edit["page_url"] == f"{world.base}a/{world.ids[world.renamed]}" and get(edit["diff_url"])[0] == 200
    log = invoke_json(world.db, "alert", "log", "--rule", "takedowns")
    assert sorted(e["event"] for e in log) == ["gone", "restored"]


def test_a_digest_groups_a_takedown_and_its_restoration_first(world: World) -> None:
    [digest] = world.hooks["daily"]
    items = digest.body["redline"]["alerts"]
    assert [(i["event"], i["url"]) for i in items] == [("gone", world.gone), ("restored", world.gone),
                                                      (None, world.renamed)]
    message = digest.body["message"]
    assert "3 change(s) in 2 article(s)" in digest.body["title"]
    assert message.index("taken down") < message.index("restored: answers again") < message.index("headline changed")
    for link in {i["page_url"] for i in items} | {i["diff_url"] for i in items if i["diff_url"]}:
        assert get(link)[0] == 200, link


def test_upgrading_an_archive_counts_its_past_takedowns_as_changes(world: World, tmp_path: Path) -> None:
    """Migration 0017 moves last_changed to an article's latest takedown or restoration."""
    copy = str(tmp_path / "old.db")
    with sqlite3.connect(world.db) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    downgrade(copy, "0015")  # the revision before 0017
    with sqlite3.connect(copy) as conn:  # as the store kept it before: the latest version's capture time
        conn.execute("UPDATE articles SET last_changed = "
                     "(SELECT max(captured_at) FROM versions WHERE versions.article_id = articles.id)")
    before = {a["url"]: a["last_changed"] for a in invoke_json(copy, "list")}  # opening it upgrades it
    now = {a["url"]: a["last_changed"] for a in invoke_json(world.db, "list")}
    assert before == now and before[world.gone] > before[world.still]


@pytest.mark.skipif(not Path(CHROMIUM).exists() and os.environ.get("REDLINE_REQUIRE_BROWSER", "") in ("", "0"),
                    reason="needs Debian's chromium: apt-get install chromium")
def test_changes_page_shows_and_filters_takedowns_in_chromium(world: World) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.goto(world.base)
        taken = page.locator("ol.changes li.is-gone")
        assert taken.count() == 1 and page.locator("ol.changes li.is-restored").count() == 1
        assert "HTTP 410" in taken.inner_text() and "taken down" in taken.inner_text()
        renamed = page.locator("ol.changes li", has_text=NEW_TITLE)
        assert "headline changed" in renamed.inner_text() and "+0/" not in renamed.inner_text()
        page.check('input[name=kind][value="gone"]')
        page.click("button[type=submit]")
        links = page.eval_on_selector_all("ol.changes a.title", "els => els.map(e => e.getAttribute('href'))")
        assert links == [f"/a/{world.ids[world.gone]}"]
        page.click("ol.changes a.title")
        page.wait_for_url(f"**/a/{world.ids[world.gone]}")
        assert "restored" in page.inner_text("main")
        browser.close()
