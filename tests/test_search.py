"""``redline search``: every version's headline, byline and text, found by a real crawl's index; what
stopped being said; the same answers through the API; an archive from before search indexed on upgrade."""
from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from redline.fakesite import FakeSite, Story, load_stories
from tests.conftest import crawl, downgrade, invoke, invoke_json, start_serve

SCOOTER = "City officials said an e-scooter ban would follow on Monday."
REMOVED = "The ministry gave no evidence for the claim."


@dataclass
class Searched:
    db: str
    urls: list[str]
    stories: list[Story]


@pytest.fixture(scope="module")
def searched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searched]:
    """Three crawls: a sentence added to three articles, then removed from one of them; a café."""
    db = str(tmp_path_factory.mktemp("search") / "archive.db")
    site = FakeSite(frozen=True).start()
    stories = load_stories()
    urls = [site.add(story) for story in stories]
    try:
        crawl(db, *urls)
        for story in stories[:3]:
            story.paragraphs.insert(2, f"{SCOOTER} {REMOVED}")
        stories[4].title = "CAFÉ owners in Zürich welcome the treaty"
        assert crawl(db, *urls)["new_versions"] == 4
        stories[0].paragraphs[2] = SCOOTER
        assert crawl(db, *urls)["new_versions"] == 1
        yield Searched(db, urls, stories)
    finally:
        site.stop()


def hits(db: str, *args: str) -> list[tuple[str, int]]:
    return [(h["url"], h["version"]) for h in invoke_json(db, "search", *args)]


def test_a_word_in_the_body_finds_every_version_that_says_it(searched: Searched) -> None:
    u = searched.urls
    assert sorted(hits(searched.db, "Scooter")) == sorted([(u[0], 2), (u[0], 3), (u[1], 2), (u[2], 2)])
    assert hits(searched.db, "e-scooter ban") == hits(searched.db, "E SCOOTER, ban!")  # words, not punctuation
    assert hits(searched.db, "ban e-scooter") == []  # a phrase: its words in order
    [hit] = invoke_json(searched.db, "search", "no evidence", "--limit", "1")
    assert (hit["field"], hit["match"], hit["version"]) == ("text", "no evidence", 2)
    assert hit["before"].endswith(SCOOTER + " The ministry gave ") and hit["after"].startswith(" for the claim.")
    ids = {a["url"]: a["id"] for a in invoke_json(searched.db, "list")}
    assert hit["latest"] is (hit["url"] != u[0]) and hit["id"] == ids[hit["url"]]  # u[0] changed again since


def test_removed_finds_the_articles_that_stopped_saying_it(searched: Searched) -> None:
    u = searched.urls
    [gone] = invoke_json(searched.db, "search", "no evidence", "--removed")
    assert (gone["url"], gone["version"], gone["latest"]) == (u[0], 2, False)
    assert invoke_json(searched.db, "search", "e-scooter ban", "--removed") == []


def test_case_accents_site_and_since(searched: Searched) -> None:
    u = searched.urls
    assert hits(searched.db, "cafe owners in zurich") == [(u[4], 2)]
    [hit] = invoke_json(searched.db, "search", "Café")
    assert (hit["field"], hit["match"]) == ("title", "CAFÉ")
    host = u[1].split("/")[2].split(":")[0]  # a site is a host name, as 'list' and the web view give it
    assert {url for url, _ in hits(searched.db, "scooter", "--site", host)} == {u[0], u[1], u[2]}  # one host
    assert hits(searched.db, "scooter", "--site", "other.example") == []
    assert hits(searched.db, "scooter", "--since", "2999-01-01") == []


def test_text_csv_api_and_bad_input(searched: Searched, tmp_path: Path) -> None:
    text = invoke(searched.db, "search", "no evidence")
    assert text.exit_code == 0 and "«no evidence»" in text.output
    rows = list(csv.DictReader(io.StringIO(invoke(searched.db, "search", "scooter", "--csv").output)))
    assert len(rows) == 4 and set(rows[0]) >= {"id", "url", "version", "before", "match", "after"}
    for bad in (("search", "!!!"), ("search", "x", "--since", "yesterday-ish"), ("search", "x", "--csv", "--json")):
        result = invoke(searched.db, *bad)
        assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, (bad, result.output)

    proc, line = start_serve(searched.db)
    try:
        base = re.search(r"http://\S+/", line).group(0)
        with urllib.request.urlopen(base + "api/search?q=scooter", timeout=30) as answer:
            assert json.loads(answer.read()) == invoke_json(searched.db, "search", "scooter")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base + "api/search", timeout=30)
        assert refused.value.code == 400
    finally:
        proc.terminate()
        proc.wait(30)


def test_an_archive_from_before_search_is_indexed_on_upgrade(searched: Searched, tmp_path: Path) -> None:
    copy = str(tmp_path / "old.db")
    shutil.copy(searched.db, copy)
    downgrade(copy, "0012")
    with sqlite3.connect(copy) as conn:
        assert not conn.execute("SELECT name FROM sqlite_master WHERE name = 'version_search'").fetchall()
    for phrase in ("scooter", "no evidence", "cafe", "treaty"):
        assert hits(copy, phrase) == hits(searched.db, phrase), phrase
    assert json.dumps(invoke_json(copy, "search", "treaty")) == json.dumps(invoke_json(searched.db, "search", "treaty"))
