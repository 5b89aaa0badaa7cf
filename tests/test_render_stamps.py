"""Render stamps are not declared times (issue 22, finding 3), on the suite's cached real pages.

Real pages are served with per-request times and crawled in rounds where nothing but that noise changes,
then with one real stated update and two edits:

- "generated": the page's own dates taken out, a per-request "Page generated <now> UTC" line added;
- "ld-now": the page as shipped plus a JSON-LD ``dateModified`` set to the time of each request (as many
  CMSs do) and a stated ``article:modified_time`` that moves once;
- "stated": the page as shipped plus a stated JSON-LD ``dateModified`` that moves twice, nothing else.
"""
from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from archive.text.normalize import url_key
from bench import realpages
from bench.realpages import point_at
from redline.fakesite import FakeSite
from scraper.extract import extract_page
from tests.conftest import crawl, invoke_json

NOW, NOW_ISO = "@@NOW@@", "@@NOW-ISO@@"
STALE, MOVED, MOVED_AGAIN = "2024-12-01T08:00:00Z", "2024-12-05T08:00:00Z", "2024-12-06T08:00:00Z"
GROUPS = ("generated", "ld-now", "stated")
PER_GROUP = 4
DATED = re.compile(r'<script[^>]*application/ld\+json.*?</script>|<meta[^>]*(?:date|time|modified|published)[^>]*>'
                   r'|\s(?:datetime|pubdate)="[^"]*"', re.IGNORECASE | re.DOTALL)


@dataclass
class StampSite(FakeSite):
    """Pages served as set, with ``NOW`` and ``NOW_ISO`` filled in with the time of each request."""

    pages: dict[str, str] = field(default_factory=dict)

    def respond(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n"
        now = datetime.now(UTC)
        page = self.pages[path].replace(NOW, f"{now:%Y-%m-%d %H:%M:%S}").replace(NOW_ISO, f"{now:%Y-%m-%dT%H:%M:%SZ}")
        return 200, {"Content-Type": "text/html; charset=utf-8"}, page.encode("utf-8")


def _head(html: str, tags: str) -> str:
    return re.sub(r"(<head[^>]*>)", lambda m: m[1] + tags, html, count=1, flags=re.IGNORECASE)


def _ld(date: str) -> str:
    return f'<script type="application/ld+json">{{"@type": "NewsArticle", "dateModified": "{date}"}}</script>'


def _meta(date: str) -> str:
    return f'<meta property="article:modified_time" content="{date}">'


def _edit(html: str) -> str | None:
    """The page with one word added to a sentence of its article text (None when no sentence fits)."""
    for para in extract_page(html, "http://127.0.0.1/").text.split("\n"):
        words = para.split()
        snippet = " ".join(words[:8])
        if len(words) >= 12 and html.count(snippet) == 1:
            return html.replace(snippet, " ".join([*words[:3], "reportedly", *words[3:8]]))
    return None


def _page(group: str, html: str, url: str, stated: str) -> str:
    html = point_at(html, url)
    if group == "generated":
        html = DATED.sub("", html)
        return re.sub(r"(</body>)", f"<p>Page generated {NOW} UTC</p>\\1", html, count=1, flags=re.IGNORECASE)
    if group == "ld-now":
        return _head(html, _ld(NOW_ISO) + _meta(stated))
    return _head(html, _ld(stated))


@pytest.fixture(scope="module")
def rounds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Four rounds: baseline; noise only; stated times moved; an edit on one page of each group."""
    pages = [p for p in realpages.load() if len(p.html.encode()) < realpages.MAX_BYTES]
    pages = [p for p in pages[:PER_GROUP * len(GROUPS) * 2] if _edit(p.html)][:PER_GROUP * len(GROUPS)]
    db = str(tmp_path_factory.mktemp("stamps") / "archive.db")
    site = StampSite().start()
    served = {g: [(f"/{g}/{p.slug}", p.html) for p in pages[i * PER_GROUP:(i + 1) * PER_GROUP]]
              for i, g in enumerate(GROUPS)}
    urls = {g: [site.url(path) for path, _ in served[g]] for g in GROUPS}

    def publish(stated: dict[str, str], edited: set[str]) -> None:
        for g in GROUPS:
            for (path, html), url in zip(served[g], urls[g]):
                site.pages[path] = _page(g, (_edit(html) or "") if url in edited else html, url, stated.get(url, STALE))

    every = [u for g in GROUPS for u in urls[g]]
    moved = {urls["ld-now"][0]: MOVED, urls["stated"][0]: MOVED, urls["stated"][1]: MOVED}
    edited = {urls["generated"][1], urls["ld-now"][1]}
    plans = [({}, set()), ({}, set()), (moved, set()), ({**moved, urls["stated"][1]: MOVED_AGAIN}, edited)]
    counts = []
    try:
        for stated, edit in plans:
            publish(stated, edit)
            crawl(db, *every)
            counts.append({u: len(invoke_json(db, "log", u)) for u in every})
        yield {"db": db, "urls": urls, "counts": counts, "edited": edited, "moved": moved}
    finally:
        site.stop()


def _log(db: str, url: str) -> list[dict[str, Any]]:
    return invoke_json(db, "log", url)


def test_noise_and_render_stamps_make_no_version(rounds: dict[str, Any]) -> None:
    counts, changed = rounds["counts"], set(rounds["moved"]) | rounds["edited"]
    false = [f"round {r} {u}: {counts[r - 1][u]} -> {counts[r][u]} versions"
             for r in (1, 2, 3) for u in counts[r] if counts[r][u] != counts[r - 1][u]
             and not (r == 2 and u in rounds["moved"]) and not (r == 3 and u in changed)]
    assert not false, "\n".join(false)


def test_a_render_stamp_is_neither_published_nor_updated(rounds: dict[str, Any]) -> None:
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    for url in rounds["urls"]["generated"]:
        for version in _log(rounds["db"], url):
            assert not (version["published"] or "").startswith(today), (url, version)
            assert not (version["updated"] or "").startswith(today), (url, version)


def test_the_render_stamp_is_recorded_on_the_fetch(rounds: dict[str, Any]) -> None:
    for group, signal in (("generated", "generated"), ("ld-now", "json-ld")):
        for url in rounds["urls"][group]:
            fetches = invoke_json(rounds["db"], "log", url, "--all")["fetches"]
            later = fetches[1:] if group == "ld-now" else fetches  # told apart from the second reading on
            assert all(any(s["signal"] == signal for s in f["render_stamps"]) for f in later), (url, fetches)


def test_a_stated_update_that_moves_is_still_declared(rounds: dict[str, Any]) -> None:
    for url, when in rounds["moved"].items():
        versions = _log(rounds["db"], url)
        assert [v["change"]["kinds"] for v in versions[1:3]] == [["declared-update-only"]] * len(versions[1:3])
        assert versions[1]["updated"] == when and versions[1]["change"]["declared"] is True, versions


def test_a_flip_flop_needs_a_change_of_text(rounds: dict[str, Any]) -> None:
    versions = _log(rounds["db"], rounds["urls"]["stated"][1])
    assert [v["updated"] for v in versions] == [STALE, MOVED, MOVED_AGAIN]
    assert [v["change"]["reverts_to"] for v in versions[1:]] == [None, None]


def test_edits_are_stealth_only_where_the_page_states_an_update_time(rounds: dict[str, Any]) -> None:
    generated, ld_now = (_log(rounds["db"], rounds["urls"][g][1])[-1]["change"] for g in ("generated", "ld-now"))
    assert generated["kinds"] and not generated["declared"]
    assert (generated["undeclared"], generated["stealth"]) == (True, False)  # the page states no update time
    assert (ld_now["undeclared"], ld_now["stealth"], ld_now["declared"]) == (False, True, False)  # it stayed


def test_an_update_time_read_by_a_retired_heuristic_is_not_compared(rounds: dict[str, Any]) -> None:
    """An archive written by an earlier release holds htmldate's readings; they are not moved stamps."""
    db, url = rounds["db"], rounds["urls"]["generated"][2]
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE versions SET updated = '2019-01-01', updated_signal = 'htmldate' WHERE article_id = "
                     "(SELECT article_id FROM article_urls WHERE url = ?)", (url_key(url),))
    assert len(_log(db, url)) == 1
    crawl(db, url)
    assert len(_log(db, url)) == 1
