"""Identity (issue 22): a copy of a page at another URL whose canonical link names the original is an
article of its own, related to the original ("copy of" / "also published at"), never a version of it;
conditional-request validators are per fetched URL; every version says which URL it was fetched from.

Real pages from the suite's cached real pages (:mod:`bench.realpages`) are served by two loopback sites
(another port is another host): one original with an AMP-style copy on the other site, one with a copy
on its own site. The copies carry a sentence the originals never carried, and every answer carries an
ETag and a Last-Modified; the sites answer 304 to an If-Modified-Since at or after a page's Last-Modified.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import lxml.html
import pytest

from bench import realpages
from bench.realpages import point_at
from redline.fakesite import FakeSite
from tests.conftest import crawl, downgrade, invoke, invoke_json, start_serve

COPY_LINE = "This copy was republished by a partner site under licence, with additional reporting from the wire."
EDIT_LINE = "Officials confirmed on Friday that a second review had been ordered after auditors questioned it."
ORIGINAL_LM, EDITED_LM = "Mon, 01 Dec 2025 10:00:00 GMT", "Wed, 03 Dec 2025 10:00:00 GMT"
COPY_LM = "Fri, 05 Dec 2025 10:00:00 GMT"  # the copy was made after the original's edit
pytestmark = pytest.mark.timeout(300)


@dataclass
class ValidatingSite(FakeSite):
    """Fixed pages with an ETag and a Last-Modified; 304 for an If-Modified-Since at or after it."""

    pages: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # path -> (Last-Modified, body)

    def put(self, path: str, html: str, last_modified: str) -> str:
        self.pages[path] = (last_modified, html.encode("utf-8"))
        return self.url(path)

    def respond(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n"
        with self._lock:
            self.log.append({"path": path, "headers": headers})
        last_modified, body = self.pages[path]
        validators = {"ETag": etag(body), "Last-Modified": last_modified}
        since = headers.get("If-Modified-Since")
        if since and parsedate_to_datetime(since) >= parsedate_to_datetime(last_modified):
            return 304, validators, b""
        return 200, {"Content-Type": "text/html; charset=utf-8", **validators}, body

    def requests(self, path: str) -> list[dict[str, str]]:
        with self._lock:
            return [entry["headers"] for entry in self.log if entry["path"] == path]


def etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


def _with_paragraph(html: str, sentence: str) -> str | None:
    """The page with ``sentence`` as a new paragraph after its first long paragraph the extractor keeps."""
    from scraper.extract import extract_page

    text = " ".join(extract_page(html, "http://127.0.0.1/").text.split())
    tree = lxml.html.document_fromstring(html)
    for p in tree.iter("p"):
        words = " ".join(p.text_content().split())
        if len(words) >= 80 and words in text:
            new = lxml.html.Element("p")
            new.text = sentence
            p.addnext(new)
            edited = lxml.html.tostring(tree, encoding="unicode", doctype="<!DOCTYPE html>")
            return edited if sentence in extract_page(edited, "http://127.0.0.1/").text else None
    return None


@dataclass
class World:
    db: str
    original: dict[str, str]      # case ("other-host", "same-host") -> URL
    copy: dict[str, str]
    home: ValidatingSite          # the originals' site
    copy_etag: dict[str, str]     # case -> the copy's ETag
    summaries: list[dict[str, Any]]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    pages = []
    for page in realpages.load():
        copied, edited = _with_paragraph(page.html, COPY_LINE), _with_paragraph(page.html, EDIT_LINE)
        if copied and edited:
            pages.append((page, copied, edited))
        if len(pages) == 2:
            break
    home, other = ValidatingSite().start(), ValidatingSite().start()  # two ports of 127.0.0.1: two hosts
    original, copy, copy_etag, edits = {}, {}, {}, {}
    for case, (page, copied, edited), copy_site in (("other-host", pages[0], other), ("same-host", pages[1], home)):
        path = f"/news/{page.slug}"
        original[case] = home.put(path, point_at(page.html, home.url(path)), ORIGINAL_LM)
        copy[case] = copy_site.put(f"/amp{path}", point_at(copied, original[case]), COPY_LM)
        copy_etag[case] = etag(copy_site.pages[f"/amp{path}"][1])
        edits[path] = point_at(edited, original[case])
    db = str(tmp_path_factory.mktemp("identity") / "archive.db")
    summaries = [crawl(db, *original.values()), crawl(db, *copy.values())]
    for path, html in edits.items():  # a real edit of each original, after the copies were crawled
        home.put(path, html, EDITED_LM)
    summaries.append(crawl(db, *original.values()))
    try:
        yield World(db, original, copy, home, copy_etag, summaries)
    finally:
        home.stop()
        other.stop()


CASES = ["other-host", "same-host"]


def test_a_copy_is_an_article_of_its_own(world: World) -> None:
    assert world.summaries[1]["new_articles"] == 2, world.summaries[1]
    listed = {a["url"] for a in invoke_json(world.db, "list")}
    assert listed == set(world.original.values()) | set(world.copy.values())


@pytest.mark.parametrize("case", CASES)
def test_the_original_history_is_untouched(world: World, case: str) -> None:
    url = world.original[case]
    versions = invoke_json(world.db, "log", url)
    assert [v["version"] for v in versions] == [1, 2]  # its first capture, then its own edit
    shown = [invoke(world.db, "show", url, "--version", str(n)).stdout for n in (1, 2)]
    assert [COPY_LINE in text for text in shown] == [False, False]
    assert [EDIT_LINE in text for text in shown] == [False, True]
    assert all(f"url: {url}\nfetched_url: {url}\n" in text for text in shown)
    assert [(v["fetched_url"], v["from_other_url"]) for v in versions] == [(url, False)] * 2


@pytest.mark.parametrize("case", CASES)
def test_the_original_is_re_read_with_its_own_validators(world: World, case: str) -> None:
    assert world.summaries[2]["new_versions"] == 2, world.summaries[2]  # both edits read, no 304
    path = "/" + world.original[case].split("/", 3)[3]
    last = world.home.requests(path)[-1]
    assert last.get("If-Modified-Since") == ORIGINAL_LM  # its own, never the copy's
    assert last.get("If-None-Match") not in (None, world.copy_etag[case])


@pytest.mark.parametrize("case", CASES)
def test_the_copy_is_related_to_the_original(world: World, case: str) -> None:
    original, copy = world.original[case], world.copy[case]
    shown = invoke_json(world.db, "show", copy)
    assert shown["url"] == copy and shown["fetched_url"] == copy and COPY_LINE in shown["text"]
    assert shown["copy_of"] == original and shown["also_published_at"] == []
    assert invoke_json(world.db, "show", original)["also_published_at"] == [copy]
    assert invoke_json(world.db, "log", copy, "--all")["copy_of"] == original
    text = invoke(world.db, "log", original).stdout
    assert f"also published at: {copy}" in text
    assert f"copy of: {original}" in invoke(world.db, "show", copy).stdout


STORY = ("The regional council approved the new flood defences on Tuesday after a debate that lasted most of "
         "the afternoon and ended with a narrow vote.\n\nEngineers say the walls will protect about four "
         "thousand homes along the river, which burst its banks twice in the past three winters.\n\nWork is "
         "due to begin in the spring and to last eighteen months, the council said in a statement.")


def test_an_archive_merged_the_old_way_marks_what_came_from_another_url(tmp_path: Path) -> None:
    """An archive in which a Redline before revision 0010 merged a copy into its original, built with the
    rows that Redline wrote: after the upgrade the copy's version keeps its number, is marked as fetched
    from another URL and is no stealth edit; the copy's URL is no longer the original's, and the original's
    next request carries none of the copy's validators."""
    from datetime import UTC, datetime, timedelta

    from archive.capture import Capture, Extracted
    from archive.schema.db import open_engine
    from archive.store.facade import Archive

    path = str(tmp_path / "merged.db")
    original, copy = "https://news.example/2026/flood-defences", "https://amp.news.example/2026/flood-defences"
    at = datetime(2026, 12, 1, 9, tzinfo=UTC)
    engine = open_engine(f"sqlite:///{path}", writer=True)
    archive = Archive(engine)
    unrelated = "https://news.example/2026/budget"
    for url, text, when, tag, last_modified in ((original, STORY, at, '"original"', ORIGINAL_LM),
                                                (copy, STORY + "\n\n" + COPY_LINE, at + timedelta(hours=1), '"copy"',
                                                 COPY_LM),
                                                (unrelated, STORY.replace("flood", "budget"), at, '"budget"',
                                                 ORIGINAL_LM)):
        archive.record(Capture(url, when, url, 200, text.encode(), "text/html", tag, last_modified),
                       Extracted(text, title="Council approves flood defences", canonical_url=original,
                                 extractor="test"))
    engine.dispose()
    downgrade(path, "0010-1")  # the revision before this one
    with sqlite3.connect(path) as conn:  # what that Redline wrote: the copy's fetch and text as v2 of the original
        (first,), (second,) = conn.execute("SELECT id FROM articles WHERE key IN (?, ?) ORDER BY id",
                                           (original, copy)).fetchall()
        conn.execute("UPDATE fetches SET article_id = ? WHERE article_id = ?", (first, second))
        conn.execute("UPDATE versions SET article_id = ?, number = 2, change_kinds = '[\"paragraph-added\"]', "
                     "declared = 0, added_words = 17, removed_words = 0 WHERE article_id = ?", (first, second))
        conn.execute("UPDATE article_urls SET article_id = ? WHERE article_id = ?", (first, second))
        conn.execute("UPDATE articles SET version_count = 2, latest_version = 2, etag = '\"copy\"', "
                     "last_modified = ?, last_body_sha256 = (SELECT body_sha256 FROM fetches WHERE url = ?) "
                     "WHERE id = ?", (COPY_LM, copy, first))
        conn.execute("DELETE FROM articles WHERE id = ?", (second,))
        # and the original's next fetch, compared with the copy's text: v3, "paragraph-removed", stealth
        conn.execute("INSERT INTO fetches (article_id, url, final_url, fetched_at, status, outcome, body_sha256, "
                     "content_type) SELECT article_id, url, final_url, ?, status, outcome, body_sha256, content_type "
                     "FROM fetches WHERE url = ?", ("2026-12-01 11:00:00.000000", original))
        conn.execute("CREATE TEMP TABLE v3 AS SELECT * FROM versions WHERE article_id = ? AND number = 1", (first,))
        conn.execute("UPDATE v3 SET id = NULL, number = 3, captured_at = '2026-12-01 11:00:00.000000', "
                     "fetch_id = (SELECT max(id) FROM fetches), change_kinds = '[\"paragraph-removed\"]', "
                     "declared = 0, added_words = 0, removed_words = 17, reverts_to = 1")
        conn.execute("INSERT INTO versions SELECT * FROM v3")
        conn.execute("UPDATE articles SET version_count = 3, latest_version = 3 WHERE id = ?", (first,))
    versions = invoke_json(path, "log", original)  # the view opens the archive, which upgrades it
    assert [(v["version"], v["fetched_url"], v["from_other_url"]) for v in versions] == [
        (1, original, False), (2, copy, True), (3, original, False)]
    assert [(v["change"]["stealth"], v["change"]["against_other_url"]) for v in versions[1:]] == [
        (False, False), (False, True)]
    assert "no stealth edits" in invoke(path, "log", original, "--stealth").stdout
    text = invoke(path, "log", original).stdout
    assert f"from another URL, {copy}" in text and "measured against a copy from another URL" in text
    shown = invoke(path, "show", original, "--version", "2").stdout
    assert f"fetched_url: {copy}" in shown and "note: fetched from another URL" in shown
    assert invoke(path, "log", copy).exit_code == 1  # the copy's URL is no longer the original's
    engine = open_engine(f"sqlite:///{path}", writer=True)
    assert Archive(engine).previous_body(original) == (None, None, None)  # they may be the copy's: none kept
    assert Archive(engine).previous_body(unrelated)[1:] == ('"budget"', ORIGINAL_LM)  # an unmerged one keeps its own
    done = Archive(engine).record(Capture(copy, at + timedelta(days=1), copy, 200, b"copy", "text/html"),
                                  Extracted(STORY + "\n\n" + COPY_LINE, title="Council approves flood defences",
                                            canonical_url=original, extractor="test"))
    engine.dispose()
    assert done.kind == "new-article"
    assert invoke_json(path, "show", copy)["copy_of"] == original


def test_the_web_view_relates_the_copy_and_says_where_each_version_came_from(world: World) -> None:
    import html
    import re

    from tests.test_web import get

    proc, line = start_serve(world.db)
    try:
        base = re.search(r"http://\S+/", line).group(0).rstrip("/")
        ids = {a["url"]: a["id"] for a in invoke_json(world.db, "list")}
        for case in CASES:
            original, copy = world.original[case], world.copy[case]
            timeline = html.unescape(get(f"{base}/a/{ids[original]}")[2].decode())
            assert f"also published at {copy}" in re.sub(r"<[^>]+>", "", timeline)
            assert timeline.count(f'href="{original}"') >= 3  # the article's link and each version's "fetched from"
            page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.unescape(get(f"{base}/a/{ids[copy]}/v/1")[2]
                                                                               .decode())))
            assert f"Fetched from {copy}" in page and f"Copy of {original}" in page
            status, _, body = get(f"{base}/api/log?url={copy}&all=1")
            assert status == 200 and json.loads(body)["copy_of"] == original
    finally:
        proc.terminate()
        proc.wait(30)
