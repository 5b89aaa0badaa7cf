"""Fetching through a browser (issue 26): real Chromium through scrapy-playwright, on script-rendered copies
of real pages served on 127.0.0.1. A copy gives the same text, versions and diffs as its static twin; the
``auto`` fallback fires only for app shells; the rendered DOM is kept beside the body and ``verify`` checks
it; the browser's own requests obey robots.txt and never reach another host; without the browser extra,
``--render js`` is a one-line error and ``auto`` says why it did not render."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench import realpages
from bench.scripted import script_rendered
from redline.fakesite import FakeSite, Route, load_stories
from tests.conftest import FAST, run_redline

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and os.environ.get("REDLINE_REQUIRE_BROWSER", "") in ("", "0"),
    reason="needs Debian's chromium: apt-get install chromium")
SETTINGS = [a for name, value in FAST.items() for a in ("-s", f"{name}={value}")]
PAGES = 3
WORDS = " ".join(f"The council debated item {n} of the budget for the coming year." for n in range(40))
INSERTED = "reportedly"


def _gate_page(third_party: str) -> str:
    """An app shell whose scripts each leave a mark: same-host allowed, same-host disallowed by robots.txt,
    another host (``localhost`` is another host name for the same server)."""
    return ("<html><head><title>Council budget</title><script src='/public/ok.js'></script>"
            "<script src='/private/no.js'></script>"
            f"<script src='{third_party}/public/third.js'></script></head><body><div id='root'></div><script>"
            "document.getElementById('root').innerHTML = '<article><h1>Council budget</h1><p>" + WORDS +
            " Marks: ' + (window.marks || []).join(' ') + '.</p></article>';</script></body></html>")


def _mark(name: str) -> Route:
    return Route(body=f"window.marks = (window.marks || []).concat(['{name}']);",
                 content_type="application/javascript")


def _edit(html: str, text: str) -> str | None:
    """``html`` with INSERTED put after the first word of a long paragraph of ``text`` found verbatim in it."""
    for para in text.split("\n"):
        words = para.split()
        if len(words) >= 12:
            prefix = " ".join(words[:4])
            if html.count(prefix) == 1:
                return html.replace(prefix, " ".join([words[0], INSERTED, *words[1:4]]), 1)
    return None


def _crawl(db: str, *urls: str, env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> Any:
    done = run_redline(db, "crawl", "--json", *SETTINGS, *args, "--", *urls, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _json(db: str, *args: str) -> Any:
    done = run_redline(db, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Three real pages, each served as it is and as a script-rendered copy, a fixture story and the gate page,
    crawled once in auto mode; then each real page edited (both copies alike) and crawled again."""
    db = str(tmp_path_factory.mktemp("browser") / "archive.db")
    site = FakeSite().start()
    try:
        chosen = [p for p in realpages.load() if 5_000 < len(p.html) < 120_000 and script_rendered(p.html)][:PAGES]
        pairs = []
        for i, page in enumerate(chosen):
            static, app = site.url(f"static-{i}"), site.url(f"app-{i}")
            site.set_status(f"static-{i}", 200, body=realpages.point_at(page.html, static))
            site.set_status(f"app-{i}", 200, body=script_rendered(realpages.point_at(page.html, app)))
            pairs.append((page, static, app))
        story = load_stories()[0]
        plain = site.add(story)
        site.routes["/public/ok.js"], site.routes["/private/no.js"] = _mark("OKMARK"), _mark("PRIVATEMARK")
        site.routes["/public/third.js"] = _mark("THIRDMARK")
        site.set_status("gate", 200, body=_gate_page(site.url("").rstrip("/").replace("127.0.0.1", "localhost")))
        urls = [u for _, s, a in pairs for u in (s, a)] + [plain, site.url("gate")]
        first = _crawl(db, *urls)
        edited = []
        for i, (page, static, app) in enumerate(pairs):
            text = _json(db, "show", static)["text"]
            html = _edit(realpages.point_at(page.html, static), text)
            if html is None:
                continue
            site.set_status(f"static-{i}", 200, body=html)
            site.set_status(f"app-{i}", 200, body=script_rendered(html.replace(static, app)))
            edited.append((static, app))
        second = _crawl(db, *[u for pair in edited for u in pair])
        yield {"db": db, "site": site, "pairs": pairs, "plain": plain, "gate": site.url("gate"), "first": first,
               "second": second, "edited": edited}
    finally:
        site.stop()


def _fetches(db: str, url: str) -> list[dict[str, Any]]:
    return _json(db, "log", url, "--all")["fetches"]


def test_a_script_rendered_copy_extracts_the_same_text_as_its_static_twin(world: dict[str, Any]) -> None:
    db = world["db"]
    assert world["first"]["outcomes"] == {"new-article": 2 * PAGES + 2}, world["first"]
    for _page, static, app in world["pairs"]:
        assert _json(db, "show", app, "--version", "1")["text"] == _json(db, "show", static, "--version", "1")["text"]


def test_an_edit_makes_the_same_versions_and_diffs_in_both(world: dict[str, Any]) -> None:
    db = world["db"]
    assert len(world["edited"]) >= 2, "too few real pages could be edited"
    for static, app in world["edited"]:
        versions = [_json(db, "log", url) for url in (static, app)]
        assert [len(v) for v in versions] == [2, 2]
        assert [v["change"] for v in versions[0]] == [v["change"] for v in versions[1]]
        diffs = [_json(db, "diff", url, "1", "2") for url in (static, app)]
        fields = ("title", "byline", "updated", "changes")
        assert {k: diffs[0][k] for k in fields} == {k: diffs[1][k] for k in fields}
        assert INSERTED in json.dumps(diffs[1]["changes"])


def test_auto_renders_app_shells_and_nothing_else(world: dict[str, Any]) -> None:
    db = world["db"]
    for _page, static, app in world["pairs"]:
        assert [f["fetched_with"] for f in _fetches(db, static)] == ["http", "http"]
        assert {f["fetched_with"] for f in _fetches(db, app)} == {"browser"}
        assert all(f["rendered_sha256"] and f["rendered_sha256"] != f["body_sha256"] for f in _fetches(db, app))
    assert [f["fetched_with"] for f in _fetches(db, world["plain"])] == ["http"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM fetches WHERE fetched_with = 'browser'").fetchone() == (
            PAGES + 1 + len(world["edited"]),)
    assert "content (HTTP 200, browser)" in run_redline(db, "log", world["pairs"][0][2], "--all").stdout


def test_the_browser_loads_same_host_scripts_robots_allows_and_no_other_host(world: dict[str, Any]) -> None:
    text = _json(world["db"], "show", world["gate"])["text"]
    assert "OKMARK" in text and "PRIVATEMARK" not in text and "THIRDMARK" not in text
    site: FakeSite = world["site"]
    assert site.hits("/public/ok.js") == 1
    assert site.hits("/private/no.js") == 0 and site.hits("/public/third.js") == 0


def test_verify_checks_the_rendered_dom(world: dict[str, Any], tmp_path: Path) -> None:
    copy = str(tmp_path / "copy.db")
    with sqlite3.connect(world["db"]) as source, sqlite3.connect(copy) as dest:
        source.backup(dest)
    assert run_redline(copy, "verify").returncode == 0
    with sqlite3.connect(copy) as conn:
        fetch, sha = conn.execute("SELECT id, rendered_sha256 FROM fetches WHERE rendered_sha256 IS NOT NULL "
                                  "ORDER BY id LIMIT 1").fetchone()
        conn.execute("UPDATE bodies SET data = (SELECT data FROM bodies b WHERE b.sha256 = "
                     "(SELECT body_sha256 FROM fetches WHERE id = ?)) WHERE sha256 = ?", (fetch, sha))
    done = run_redline(copy, "verify", "--json")
    assert done.returncode == 1
    problems = json.loads(done.stdout)["problems"]
    assert [p["record"] for p in problems] == [f"rendered DOM of fetch {fetch} (sha256 {sha})"]


@pytest.fixture
def no_extra(tmp_path: Path) -> dict[str, str]:
    """An environment whose Python cannot import scrapy_playwright: a package of that name placed first on
    the path that raises ImportError (the import edge only; nothing in Redline is told)."""
    fake = tmp_path / "shadow" / "scrapy_playwright"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('No module named scrapy_playwright (simulated)')\n")
    return {**os.environ, "PYTHONPATH": str(fake.parent)}


def test_render_js_without_the_extra_is_a_one_line_error_and_writes_nothing(
        world: dict[str, Any], no_extra: dict[str, str], tmp_path: Path) -> None:
    db = tmp_path / "none.db"
    done = run_redline(str(db), "crawl", "--render", "js", world["plain"], env=no_extra)
    assert done.returncode == 2
    assert done.stderr.startswith("Error: --render js needs a browser: the browser extra is not installed")
    assert "pip install -e '.[browser]' and apt-get install chromium" in done.stderr
    assert done.stderr.count("\n") == 1 and not db.exists()


def test_without_the_extra_auto_says_why_and_a_static_crawl_works(
        world: dict[str, Any], no_extra: dict[str, str], tmp_path: Path) -> None:
    db = str(tmp_path / "static.db")
    done = run_redline(db, "crawl", "--json", *SETTINGS, "--", world["plain"], world["pairs"][0][2], env=no_extra)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["outcomes"] == {"new-article": 1, "extract-failed": 1}
    [failure] = summary["failures"]
    assert failure["reason"].startswith("script-rendered page: its HTML is an app shell")
    assert failure["reason"].endswith("install the browser extra: pip install -e '.[browser]' and "
                                      "apt-get install chromium")


def test_a_site_default_renders_and_the_crawl_flag_wins(world: dict[str, Any], tmp_path: Path) -> None:
    db = str(tmp_path / "site.db")
    assert run_redline(db, "site", "set", "127.0.0.1", "--render", "js").returncode == 0
    assert _json(db, "site", "list")[0]["render"] == "js"
    _crawl(db, world["plain"])
    _crawl(db, world["plain"], args=("--render", "never"))
    assert [f["fetched_with"] for f in _fetches(db, world["plain"])] == ["browser", "http"]


def test_verify_finds_a_fetch_whose_rendered_dom_or_fetched_with_was_changed(world: dict[str, Any],
                                                                               tmp_path: Path) -> None:
    copy = str(tmp_path / "copy.db")
    with sqlite3.connect(world["db"]) as source, sqlite3.connect(copy) as dest:
        source.backup(dest)
    with sqlite3.connect(copy) as conn:
        dom, http = (row[0] for row in conn.execute(
            "SELECT min(id) FROM fetches WHERE fetched_with = ? UNION ALL SELECT min(id) FROM fetches WHERE "
            "fetched_with = ?", ("browser", "http")))
        conn.execute("UPDATE fetches SET rendered_sha256 = body_sha256 WHERE id = ?", (dom,))
        conn.execute("UPDATE fetches SET fetched_with = 'browser' WHERE id = ?", (http,))
    done = run_redline(copy, "verify", "--json")
    assert done.returncode == 1
    named = sorted(p["record"].split(" of ")[0] for p in json.loads(done.stdout)["problems"])
    assert named == sorted([f"fetch {dom}", f"fetch {http}"])


def test_a_schedule_renders_with_its_own_mode_beside_its_discovery(world: dict[str, Any], tmp_path: Path) -> None:
    """A schedule's pass runs discovery and fetching as two crawlers in one process: each gets its own gate."""
    db = str(tmp_path / "schedule.db")
    site: FakeSite = world["site"]
    site.routes["/rss.xml"] = Route(body=f"<?xml version='1.0'?><rss version='2.0'><channel><title>N</title><item>"
                                         f"<link>{world['gate']}</link></item></channel></rss>",
                                    content_type="application/rss+xml")
    added = run_redline(db, "schedule", "add", "apps", "--every", "1h", "--render", "js", "--feed",
                        site.url("rss.xml"), world["plain"], *SETTINGS)
    assert added.returncode == 0, added.stderr
    done = run_redline(db, "schedule", "run", "apps")
    assert done.returncode == 0, done.stderr
    assert [f["fetched_with"] for f in _fetches(db, world["plain"])] == ["browser"]
    assert "OKMARK" in _json(db, "show", world["gate"])["text"]
    assert _json(db, "schedule", "list")[0]["render"] == "js"
    assert "active, render js" in run_redline(db, "schedule", "list").stdout
    other = str(tmp_path / "other.db")  # a run's own --render wins over its job's, for that run only
    assert run_redline(other, "schedule", "add", "apps", "--every", "1h", "--render", "js", world["plain"],
                       *SETTINGS).returncode == 0
    again = run_redline(other, "schedule", "run", "apps", "--render", "never")
    assert again.returncode == 0, again.stderr
    assert [f["fetched_with"] for f in _fetches(other, world["plain"])] == ["http"]
    assert _json(other, "schedule", "list")[0]["render"] == "js"


def test_a_failed_browser_load_still_records_the_static_capture(world: dict[str, Any], tmp_path: Path) -> None:
    db = str(tmp_path / "failed.db")
    app = world["pairs"][0][2]
    done = run_redline(db, "crawl", "--json", *SETTINGS, "-s", "REDLINE_BROWSER=/bin/false", "--", app)
    assert done.returncode == 1, done.stderr  # no article: the one page was not rendered
    [failure] = json.loads(done.stdout)["failures"]
    assert failure["reason"].startswith("script-rendered page: its HTML is an app shell")
    assert "; the browser's load failed: " in failure["reason"]
    [fetch] = _fetches(db, app)
    assert fetch["fetched_with"] == "http" and fetch["body_sha256"] and fetch["rendered_sha256"] is None


def test_a_site_set_for_screenshots_gets_them_of_the_dom_its_text_came_from(world: dict[str, Any],
                                                                             tmp_path: Path) -> None:
    """No --screenshot on the crawl: the site's default turns them on, for that site only; a page fetched
    through the browser is pictured from its rendered DOM (JavaScript stays off), not from its empty shell."""
    from scraper.screenshots import VIEWPORT_HEIGHT

    db = str(tmp_path / "shots.db")
    assert run_redline(db, "site", "set", "127.0.0.1", "--screenshot").returncode == 0
    _, _, app = world["pairs"][0]
    elsewhere = world["plain"].replace("127.0.0.1", "localhost")  # the same server under another host name
    summary = _crawl(db, app, elsewhere)
    assert summary["new_articles"] == 2, summary
    assert summary["screenshots"] == {"taken": 1, "failed": 0}
    [rendered] = _json(db, "log", app)
    assert rendered["screenshot"]["made_how"] == "rendered-dom", rendered["screenshot"]
    assert rendered["screenshot"]["page_height"] > VIEWPORT_HEIGHT  # the article, not a blank app shell
    assert [v["screenshot"] for v in _json(db, "log", elsewhere)] == [None]


def _doms(warc: Path) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """The text/html conversion records of a WARC as (refers-to, payload sha256), and its response records' URIs."""
    import hashlib

    from warcio.archiveiterator import ArchiveIterator

    doms, responses = [], {}
    with warc.open("rb") as fh:
        for record in ArchiveIterator(fh):
            headers = record.rec_headers
            if record.rec_type == "response":
                responses[headers.get_header("WARC-Record-ID")] = headers.get_header("WARC-Target-URI")
            if record.rec_type == "conversion" and headers.get_header("Content-Type").startswith("text/html"):
                doms.append((headers.get_header("WARC-Refers-To"),
                             hashlib.sha256(record.content_stream().read()).hexdigest()))
    return doms, responses


def test_a_warc_carries_the_rendered_dom_and_imports_back_with_it(world: dict[str, Any], tmp_path: Path) -> None:
    """The DOM the text came from goes in the WARC (and a citation's) after the shell it was served as, and an
    import keeps it."""
    _, _, app = world["pairs"][0]
    [fetch, *_] = [f for f in _fetches(world["db"], app) if f["fetched_with"] == "browser"]
    out, fresh = tmp_path / "out", str(tmp_path / "fresh.db")
    exported = run_redline(world["db"], "export", str(out), "--format", "warc", "--all-versions", "--url", app)
    assert exported.returncode == 0, exported.stderr
    doms, responses = _doms(out / "redline.warc.gz")
    assert fetch["rendered_sha256"] in {sha for _, sha in doms}
    assert all(responses.get(refers) == app for refers, _ in doms)  # each follows the capture it was rendered from
    cited = run_redline(world["db"], "cite", app, "-o", str(tmp_path / "c.wacz"))
    assert cited.returncode == 0, cited.stderr
    checked = subprocess.run([str(Path(sys.executable).parent / "wacz"), "validate", "-f", str(tmp_path / "c.wacz")],
                             capture_output=True, text=True, timeout=120, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    with zipfile.ZipFile(tmp_path / "c.wacz") as package:
        package.extract("archive/redline.warc.gz", tmp_path / "cited")
    assert fetch["rendered_sha256"] in {sha for _, sha in _doms(tmp_path / "cited/archive/redline.warc.gz")[0]}
    done = run_redline(fresh, "import", str(out / "redline.warc.gz"))
    assert done.returncode == 0, done.stderr
    back = [f for f in _fetches(fresh, app) if f["fetched_with"] == "browser"]
    assert fetch["rendered_sha256"] in {f["rendered_sha256"] for f in back}
    assert _json(fresh, "show", app)["text"] == _json(world["db"], "show", app)["text"]
    assert [v["words"] for v in _json(fresh, "log", app)] == [v["words"] for v in _json(world["db"], "log", app)]
