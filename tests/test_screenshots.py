"""Screenshots of versions end to end, in a real Chromium: real crawls of the loopback site with
``--screenshot`` (a first capture, an edit, an edit while the browser is missing), read back through
``log --json``, a running ``redline serve`` opened in Chromium, ``export``, ``cite`` (checked by
``wacz validate`` and warcio) and ``verify`` of an archive whose image was tampered with."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from redline.fakesite import FakeSite, load_stories
from scraper.screenshots import image_size
from tests.conftest import crawl, run_redline, start_serve

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]
MISSING = "/nonexistent/chromium-for-this-test"
BIN = Path(sys.executable).parent

# Skipped without Chromium on a developer's machine; CI (.ci/run) installs it and sets REDLINE_REQUIRE_BROWSER.
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists()
                                and os.environ.get("REDLINE_REQUIRE_BROWSER", "") in ("", "0"),
                                reason="needs Debian's chromium: apt-get install chromium")


@dataclass
class World:
    db: str
    url: str
    sid: str
    base: str                # where the running 'redline serve' answers, with a trailing slash
    runs: list[dict[str, Any]]  # each crawl's --json summary
    log: list[dict[str, Any]]   # log --json after the crawl without a browser
    retaken: subprocess.CompletedProcess[str]  # 'redline screenshot --pending --failed' after it


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    db = str(tmp_path_factory.mktemp("screenshots") / "archive.db")
    site = FakeSite().start()
    story = load_stories()[0]
    url = site.add(story)
    proc = None
    try:
        runs = [crawl(db, url, settings={"REDLINE_SCREENSHOT": "True"})]
        story.paragraphs[0] += " The ministry confirmed the figures on Thursday."
        runs.append(crawl(db, url, settings={"REDLINE_SCREENSHOT": "True"}))
        story.paragraphs[1] += " A second sentence was added later."
        runs.append(crawl(db, url, settings={"REDLINE_SCREENSHOT": "True", "REDLINE_SCREENSHOT_BROWSER": MISSING}))
        log = json.loads(run_redline(db, "log", url, "--json").stdout)
        retaken = run_redline(db, "screenshot", "--pending", "--failed")
        sid = json.loads(run_redline(db, "list", "--json").stdout)[0]["id"]
        proc, line = start_serve(db)
        yield World(db, url, sid, re.search(r"http://\S+/", line).group(0), runs, log, retaken)
    finally:
        site.stop()
        if proc is not None:
            proc.terminate()
            proc.wait(30)


def stored(db: str) -> dict[int, tuple[str, str, int, int, bytes]]:
    """Version number -> (format, sha256, width, height, image) of its latest screenshot."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT v.number, s.format, s.sha256, s.width, s.height, s.image FROM screenshots s "
                            "JOIN versions v ON v.id = s.version_id ORDER BY s.id").fetchall()
    return {row[0]: row[1:] for row in rows}


def test_every_new_version_gets_a_screenshot_of_its_archived_page(world: World) -> None:
    assert [r["screenshots"] for r in world.runs[:2]] == [{"taken": 1, "failed": 0}] * 2
    assert [r["new_articles"] + r["new_versions"] for r in world.runs] == [1, 1, 1]
    shots = {v["version"]: v["screenshot"] for v in world.log}
    for number in (1, 2):
        fmt, sha, width, height, image = stored(world.db)[number]
        assert image.startswith(b"RIFF") and image[8:12] == b"WEBP" and fmt == "webp"
        assert image_size(image) == (width, height) and width == 1280 and height > 800
        assert hashlib.sha256(image).hexdigest() == sha
        assert shots[number] == {**shots[number], "sha256": sha, "format": "webp", "width": width, "height": height,
                                 "made_how": "archived-body", "subresources": "blocked"}
    assert stored(world.db)[1][1] != stored(world.db)[2][1]  # the edit shows


def test_a_missing_browser_loses_no_version_and_says_why(world: World) -> None:
    assert world.runs[2]["new_versions"] == 1 and world.runs[2]["screenshots"] == {"taken": 0, "failed": 1}
    assert [v["version"] for v in world.log] == [1, 2, 3] and world.log[2]["screenshot"] is None
    shown = run_redline(world.db, "log", world.url, "--all")
    line = next(line for line in shown.stdout.splitlines() if "screenshot-failed" in line)
    assert "version 3" in line and MISSING in line and "REDLINE_SCREENSHOT_BROWSER" in line
    # once a browser is there, the version's screenshot can be taken after all
    assert world.retaken.returncode == 0, world.retaken.stderr
    assert world.retaken.stdout.strip() == "screenshots taken 1  failed 0" and 3 in stored(world.db)


def test_the_version_and_diff_pages_show_the_screenshots_in_chromium(world: World) -> None:
    from playwright.sync_api import sync_playwright

    with urllib.request.urlopen(f"{world.base}a/{world.sid}/v/2/screenshot") as answer:
        assert answer.headers["Content-Type"] == "image/webp"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
        assert hashlib.sha256(answer.read()).hexdigest() == stored(world.db)[2][1]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.goto(f"{world.base}a/{world.sid}/v/1")
        assert _drawn(page) == [(1280, stored(world.db)[1][3])]
        assert stored(world.db)[1][1] in page.inner_text("figure.screenshot")
        page.goto(f"{world.base}a/{world.sid}/diff/1/2")
        assert _drawn(page) == [(1280, stored(world.db)[n][3]) for n in (1, 2)]
        browser.close()


def _drawn(page: Any) -> list[tuple[int, int]]:
    """The natural size of each screenshot the page shows, once Chromium has decoded it."""
    images = page.locator("figure.screenshot img")
    for i in range(images.count()):
        images.nth(i).scroll_into_view_if_needed()
    page.wait_for_function("[...document.querySelectorAll('figure.screenshot img')].every(i => i.complete)")
    return [tuple(size) for size in page.eval_on_selector_all(
        "figure.screenshot img", "imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight])")]


def test_export_writes_each_image_beside_its_text(world: World, tmp_path: Path) -> None:
    done = run_redline(world.db, "export", "--all-versions", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    texts = sorted(tmp_path.glob("out/*/*/v*.txt"))
    images = sorted(tmp_path.glob("out/*/*/v*.webp"))
    assert [p.stem for p in images] == [p.stem for p in texts]
    assert [hashlib.sha256(p.read_bytes()).hexdigest() for p in images] == [stored(world.db)[n][1] for n in (1, 2, 3)]


def test_the_citation_carries_both_screenshots_with_their_hashes(world: World, tmp_path: Path) -> None:
    from warcio.archiveiterator import ArchiveIterator

    bundle = tmp_path / "c.wacz"
    done = run_redline(world.db, "cite", world.url, "1", "2", "-o", str(bundle))
    assert done.returncode == 0, done.stderr
    checked = subprocess.run([str(BIN / "wacz"), "validate", "-f", str(bundle)], capture_output=True, text=True,
                             timeout=120, check=False)
    assert checked.returncode == 0 and "valid" in checked.stdout, checked.stdout + checked.stderr
    with zipfile.ZipFile(bundle) as package:
        package.extract("archive/redline.warc.gz", tmp_path)
        citation = package.read("citation/citation.md").decode("utf-8")
    found = []
    with (tmp_path / "archive/redline.warc.gz").open("rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_type == "resource":
                image = record.content_stream().read()
                found.append((record.rec_headers.get_header("WARC-Target-URI"),
                              record.rec_headers.get_header("Content-Type"), hashlib.sha256(image).hexdigest()))
    assert found == [(f"urn:fullPage:{world.url}", "image/webp", stored(world.db)[n][1]) for n in (1, 2)]
    for number in (1, 2):
        assert f"sha256 `{stored(world.db)[number][1]}`" in citation


def test_a_tampered_screenshot_fails_verify(world: World, tmp_path: Path) -> None:
    assert run_redline(world.db, "verify").returncode == 0
    copy = str(tmp_path / "tampered.db")
    shutil.copy(world.db, copy)
    with sqlite3.connect(copy) as conn:
        image = conn.execute("SELECT image FROM screenshots WHERE id = 1").fetchone()[0]
        conn.execute("UPDATE screenshots SET image = ? WHERE id = 1", (image[:-1] + bytes([image[-1] ^ 1]),))
    done = run_redline(copy, "verify")
    assert done.returncode == 1
    assert f"screenshot 1 of version 1 of {world.url}: expected image sha256 {stored(world.db)[1][1]}" in done.stdout


def test_a_screenshot_taken_again_shows_the_archived_bytes_not_the_page_today(world: World) -> None:
    first = stored(world.db)[1][1]
    again = run_redline(world.db, "screenshot", world.url, "--version", "1", "--json")
    assert json.loads(again.stdout) == {"taken": 1, "failed": 0}
    with sqlite3.connect(world.db) as conn:
        shots = conn.execute("SELECT s.sha256 FROM screenshots s JOIN versions v ON v.id = s.version_id "
                             "WHERE v.number = 1 ORDER BY s.id").fetchall()
    assert shots == [(first,), (first,)]  # the site has changed twice since: the picture has not


def test_a_schedule_with_screenshots_takes_them_in_its_runs(world: World, tmp_path: Path) -> None:
    db = str(tmp_path / "scheduled.db")
    added = run_redline(db, "schedule", "add", "evidence", world.url, "--every", "1h", "--screenshot")
    assert added.returncode == 0, added.stderr
    assert json.loads(run_redline(db, "schedule", "list", "--json").stdout)[0]["screenshot"] is True
    ran = run_redline(db, "schedule", "run", "evidence", "-s", "DOWNLOAD_DELAY=0")
    assert ran.returncode == 0, ran.stderr
    [first] = json.loads(run_redline(db, "log", world.url, "--json").stdout)
    assert first["screenshot"]["format"] == "webp" and first["screenshot"]["sha256"] == stored(db)[1][1]
    assert run_redline(db, "schedule", "edit", "evidence", "--no-screenshot").returncode == 0
    assert json.loads(run_redline(db, "schedule", "list", "--json").stdout)[0]["screenshot"] is False


def test_a_crawl_killed_before_its_screenshots_leaves_them_wanted(world: World, tmp_path: Path) -> None:
    """The version is written with its mark; killing the crawl while the browser starts loses neither."""
    db, hang = str(tmp_path / "killed.db"), tmp_path / "hanging-browser"
    hang.write_text("#!/bin/sh\nexec sleep 600\n")  # a browser that never answers: the crawl waits on it
    hang.chmod(0o755)
    args = [sys.executable, "-m", "redline", "--db", db, "crawl", "--screenshot", "-s", "DOWNLOAD_DELAY=0",
            "-s", f"REDLINE_SCREENSHOT_BROWSER={hang}", world.url]
    crawling = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_for(lambda: _marked(db) and _running(hang))  # written and marked; the browser is starting
    finally:
        os.killpg(crawling.pid, signal.SIGKILL)
        crawling.wait(30)
    assert _marked(db) == [1]
    taken = run_redline(db, "screenshot", "--pending", "--json")
    assert json.loads(taken.stdout) == {"taken": 1, "failed": 0} and _marked(db) == []
    assert list(stored(db)) == [1]


def _marked(db: str) -> list[int]:
    """The numbers of the versions marked for a screenshot."""
    if not Path(db).exists():
        return []
    try:
        with sqlite3.connect(db) as conn:
            return [n for (n,) in conn.execute("SELECT v.number FROM screenshot_wanted w JOIN versions v "
                                               "ON v.id = w.version_id ORDER BY v.number")]
    except sqlite3.OperationalError:  # not migrated yet
        return []


def _running(program: Path) -> bool:
    return subprocess.run(["pgrep", "-f", str(program)], capture_output=True, check=False).returncode == 0


def _wait_for(condition: Any, limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)


def test_only_the_pages_own_host_may_serve_it_live_and_the_picture_says_so() -> None:
    """Without the setting nothing but the archived body is used; with it, same-host CSS loads live (and
    the screenshot says so), a third-party host is refused by Redline itself, and the page's scripts never run."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    from playwright.sync_api import sync_playwright

    from scraper.screenshots import ShotSettings, _Router, browser

    asked: list[str] = []

    class Recording(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { background: #123456 }")

        def log_message(self, *args: Any) -> None:
            pass

    own = ThreadingHTTPServer(("127.0.0.1", 0), Recording)
    Thread(target=own.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{own.server_address[1]}/story"
    third = f"http://localhost:{own.server_address[1]}/ads.css"  # another host name, the same server
    body = (f'<html><head><link rel="stylesheet" href="/site.css"><link rel="stylesheet" href="{third}">'
            '</head><body><p>Archived words.</p><script>fetch("/from-a-script")</script></body></html>').encode()
    try:
        shots = {}
        for live in (False, True):
            with browser(ShotSettings(live_same_host=live)) as shooter:
                shots[live] = shooter.shoot(url, body, "text/html; charset=utf-8")
        with sync_playwright() as pw:  # what Redline's router answers the third-party request with
            chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = chromium.new_page(java_script_enabled=False)  # as in a screenshot
            failed: dict[str, str | None] = {}
            page.on("requestfailed", lambda request: failed.update({request.url: request.failure}))
            page.route("**/*", _Router(url, body, "text/html", live_same_host=True))
            page.goto(url)
            chromium.close()
    finally:
        own.shutdown()
    assert (shots[False].subresources, shots[True].subresources) == ("blocked", "live-same-host")
    # with the setting, in the screenshot and on the page above; never a script's (Chromium may ask for the
    # same-host favicon itself, now and then: the setting allows the page's own host)
    assert [path for path in asked if path != "/favicon.ico"] == ["/site.css"] * 2
    assert list(failed) == [third] and failed[third].startswith("net::ERR_BLOCKED_BY_CLIENT")  # our abort
