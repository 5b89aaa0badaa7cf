"""Output that scripts can trust: a URL file with a byte-order mark, tab-separated cells that stay on
their row, terminal tables that never break a URL, and a URL whose first fetch failed not listed as an
article with 0 versions. One real crawl of a loopback site, through a URL file saved with a BOM."""
from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from redline.fakesite import FakeSite, load_stories
from tests.conftest import FAST, invoke, invoke_json, run_redline


@dataclass
class World:
    db: str
    good: str
    gone: str
    crawled: subprocess.CompletedProcess[str]
    page: Path          # a third story's page, saved as a browser saves it
    page_url: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    where = tmp_path_factory.mktemp("scripts")
    site = FakeSite().start()
    try:
        good, gone, page_url = (site.add(story) for story in load_stories()[:3])
        with urllib.request.urlopen(page_url, timeout=30) as answer:
            (where / "story.html").write_bytes(answer.read())
        site.set_status(gone.split("/", 3)[3], 404)
        # Excel and Notepad save UTF-8 with a byte-order mark; Windows line ends too.
        (where / "watch.txt").write_bytes(f"\ufeff{good}\r\n{gone}  # the 404\r\n".encode())
        settings = [arg for name, value in FAST.items() for arg in ("-s", f"{name}={value}")]
        db = str(where / "archive.db")
        crawled = run_redline(db, "crawl", "--urls-file", str(where / "watch.txt"), *settings)
    finally:
        site.stop()
    yield World(db, good, gone, crawled, where / "story.html", page_url)


def test_a_url_file_with_a_byte_order_mark_is_read_whole(world: World) -> None:
    assert world.crawled.returncode == 0, world.crawled.stderr
    assert world.crawled.stdout.startswith("tried 2  new articles 1 "), world.crawled.stdout


def test_a_url_whose_first_fetch_failed_is_not_listed_as_an_article(world: World) -> None:
    assert [a["url"] for a in invoke_json(world.db, "list")] == [world.good]
    assert world.gone not in invoke(world.db, "list").stdout
    events = invoke_json(world.db, "log", world.gone, "--events")
    assert [e["event"] for e in events] == ["gone"]  # still there, with what happened to it


def test_tab_separated_cells_escape_tabs_and_newlines(world: World) -> None:
    hooks = ["json://127.0.0.1:9/a", "json://127.0.0.1:9/b"]
    assert invoke(world.db, "alert", "add", "two", "--to", hooks[0], "--to", hooks[1]).exit_code == 0
    assert invoke(world.db, "ignore", "add", "127.0.0.1", r"^Sponsored\tby").exit_code == 0
    listed = invoke(world.db, "alert", "list").stdout.splitlines()
    assert len(listed) == 2 and listed[1].split("\t")[1] == r"json://127.0.0.1:9/…\njson://127.0.0.1:9/…"
    rules = invoke(world.db, "ignore", "list").stdout.splitlines()
    assert rules[1].split("\t") == ["127.0.0.1", r"^Sponsored\\tby"]  # the backslash itself is escaped
    for args in (["alert", "list"], ["log", world.good, "--all"], ["list"]):
        lines = invoke(world.db, *args).stdout.splitlines()
        header = lines[0].count("\t")
        assert all(line.count("\t") == header for line in lines[1:] if line), (args, lines)


def test_terminal_tables_never_break_a_url(world: World) -> None:
    """'list' on a terminal 40 columns wide: the URL is longer, and still printed whole on one line."""
    assert len(world.good) > 40
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "40", "LINES": "20", "TERM": "xterm"}
    env.pop("NO_COLOR", None)
    with subprocess.Popen([sys.executable, "-m", "redline", "--db", world.db, "list"], stdout=follower,
                          stderr=subprocess.PIPE, env=env) as child:
        os.close(follower)
        printed = b""
        while chunk := _read(leader):
            printed += chunk
        assert child.wait(60) == 0
    os.close(leader)
    text = printed.decode()
    assert "┃" in text or "│" in text, text  # a rich table, as on a terminal
    assert world.good in text, text
    assert json.loads(invoke(world.db, "list", "--json").stdout)[0]["url"] == world.good


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # the child closed the terminal
        return b""


def test_a_saved_html_page_is_imported_through_the_extractor_at_the_time_given(world: World, tmp_path: Path) -> None:
    db = str(tmp_path / "imported.db")
    unsure = invoke(db, "import", str(world.page), "--url", world.page_url)
    assert unsure.exit_code == 2 and "--captured-at" in unsure.stderr and not Path(db).exists()
    done = invoke(db, "import", str(world.page), "--url", world.page_url, "--captured-at", "2024-12-05T09:30Z")
    assert done.exit_code == 0 and done.stdout.startswith("imported 1 versions"), done.output
    shown = invoke_json(db, "show", world.page_url)
    assert shown["captured_at"].startswith("2024-12-05T09:30:00") and shown["title"] == load_stories()[2].title
    assert "<" not in shown["text"] and load_stories()[2].paragraphs[0][:60] in shown["text"]


def test_a_csv_report_is_refused_in_one_line(tmp_path: Path) -> None:
    report = tmp_path / "report.csv"
    report.write_text("url,version\nhttps://example.com/a,1\n")
    done = invoke(str(tmp_path / "a.db"), "import", str(report))
    assert done.exit_code == 2 and done.stderr.startswith("Error: ") and "is a report" in done.stderr
    assert not (tmp_path / "a.db").exists()
