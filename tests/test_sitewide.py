"""A site-wide edit (issue 22, finding 2): the same new paragraph in 10 of 11 real articles of one site.

Real article pages (the suite's cached real pages, :mod:`bench.realpages`) are served from one loopback
host with fresh noise at every request (:class:`bench.fidelity.Scenario`). The paragraph must be
recorded as a version of each of the 10 articles, with the kind ``site-wide``, never learned as
template noise, and shown once, as a group, on the Changes page and in its feed; ``site-wide`` is a
kind that alert rules and filters accept, and an alert about one of the versions names the group.
"""
from __future__ import annotations

import re
import select
import subprocess
import sys
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from archive import queries
from archive.schema.db import database_url, open_engine
from archive.text.normalize import comparable
from bench import realpages
from bench.fidelity import SITE_WIDE, Scenario
from tests.conftest import crawl, invoke, invoke_json, run_redline

HOST = "127.0.0.41"
ATOM = "{http://www.w3.org/2005/Atom}"
pytestmark = pytest.mark.timeout(300)


@dataclass
class World:
    db: str
    urls: list[str]
    edited: list[str]
    summary: dict[str, Any]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    db = str(tmp_path_factory.mktemp("sitewide") / "archive.db")
    scenario = Scenario(realpages.load(limit=20), [HOST], copies=0)
    try:
        scenario.served = scenario.served[:11]
        scenario.publish()
        urls = scenario.urls
        assert crawl(db, *urls)["new_articles"] == 11
        done = run_redline(db, "alert", "add", "coordinated", "--to", "json://127.0.0.1:9/hook", "--kinds",
                           "site-wide")
        assert done.returncode == 0, done.stderr
        scenario.round += 1
        edited = [s.url for s in scenario.site_wide(scenario.sites[0], 10, set())]
        scenario.publish()
        # Batches of 3: the evidence is the crawl's, so versions written before the fifth witness join too.
        yield World(db, urls, edited, crawl(db, *urls, settings={"REDLINE_BATCH_SIZE": "3"}))
    finally:
        scenario.stop()


def _versions(db: str, url: str) -> list[dict[str, Any]]:
    return invoke_json(db, "log", url)


def test_each_of_the_ten_articles_gets_a_site_wide_version(world: World) -> None:
    assert world.summary["new_versions"] == 10
    assert world.summary["templates_learned"] == []
    assert world.summary["site_wide"] == [{"host": HOST, "action": "added", "text": comparable(SITE_WIDE),
                                           "articles": 10}]
    for url in world.urls:
        versions = _versions(world.db, url)
        if url not in world.edited:
            assert len(versions) == 1, versions  # the eleventh: noise only
            continue
        assert len(versions) == 2
        change = versions[-1]["change"]
        assert change["kinds"][-1] == "site-wide"  # after what it is in the article: paragraph-added (or a
        assert change["kinds"][:-1] in (["paragraph-added"], ["body-edit"])  # body-edit, where it joined one)
        assert change["site_wide"]["label"] == f"added to 10 articles of {HOST}"
        assert change["site_wide"]["text"] == comparable(SITE_WIDE)
    assert "site-wide: added to 10 articles of" in invoke(world.db, "log", world.edited[0]).stdout
    assert invoke_json(world.db, "ignore", "list", "--learned") == []


def test_site_wide_is_a_kind_alert_rules_and_filters_accept(world: World) -> None:
    pending = invoke_json(world.db, "alert", "log")
    assert sorted(e["url"] for e in pending) == sorted(world.edited)  # the rule asked for site-wide only
    engine = open_engine(database_url(world.db))
    try:
        only = queries.changes(engine, kinds=["site-wide"])
        assert len(only.items) == 10
        grouped = queries.changes(engine, kinds=["site-wide"], grouped=True)
        assert len(grouped.items) == 1
        changes = [queries.version_change(engine, queries.article(engine, url).id, 2) for url in world.edited]
    finally:
        engine.dispose()
    from jobs.alert_messages import build

    message = build("k", "coordinated", None, changes[:1], None)
    assert f"site-wide edit, a paragraph added to 10 articles of {HOST}" in message.title
    assert message.payload["alerts"][0]["site_wide"]["articles"] == 10
    digest = build("k", "coordinated", "daily", changes, None)
    assert digest.text.count(f"Site-wide edit: a paragraph added to 10 articles of {HOST} (10 in this digest)") == 1
    assert digest.text.count(comparable(SITE_WIDE)) == 1
    assert "10 change(s) in 10 article(s)" in digest.title


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, "-m", "redline", "--db", world.db, "serve", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 60)
    line = proc.stdout.readline() if ready else ""
    try:
        found = re.search(r"http://\S+/", line)
        assert found, proc.stderr.read() if proc.stderr else line
        yield found.group(0).rstrip("/")
    finally:
        proc.terminate()
        proc.wait(30)


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.read().decode("utf-8")


def test_changes_page_and_feed_show_the_group_once(world: World, server: str) -> None:
    page = _get(server + "/")
    assert page.count('class="change site-wide"') == 1
    assert page.count('<li class="change') == 12  # the group, and the eleven first captures
    assert f"Site-wide edit: a paragraph added to 10 articles of {HOST}" in page
    filtered = _get(server + "/?kind=site-wide")
    assert filtered.count('<li class="change') == 1
    group = re.search(r'href="(/site-wide/\d+)"', filtered)
    assert group
    members = _get(server + group.group(1))
    assert members.count('<li class="change">') == 10
    feed = ET.fromstring(_get(server + "/feed.atom"))
    titles = [e.findtext(f"{ATOM}title") for e in feed.iter(f"{ATOM}entry")]
    assert titles.count(f"Site-wide edit: a paragraph added to 10 articles of {HOST}") == 1
    assert len(titles) == 12
