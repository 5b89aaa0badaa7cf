"""What a newcomer met (issue 15) that needs an archive of its own: diffs of headline-only, declared and
reverting changes, crawl failures told apart and named, and the demo's closing hint run as printed.

One story on a frozen loopback site (no rotating counters), crawled four times:
v1 as published; v2 a headline-only change; v3 a declared update (the "Updated" time moves) with a
word fixed; v4 everything back as in v1 (a flip-flop).
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from redline.fakesite import FakeSite, Story, load_stories
from tests.conftest import FAST, crawl, invoke, invoke_json, run_redline

TITLE_V1 = "Russia-North Korea Defense Pact Enters Into Force"
TITLE_V2 = "Russia-North Korea Defense Pact Takes Effect"
UPDATED = "2024-12-05T18:30:00Z"
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class History:
    db: str
    url: str
    story: Story


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    db = str(tmp_path_factory.mktemp("newcomer") / "archive.db")
    site = FakeSite(frozen=True).start()
    story = load_stories()[0]
    assert story.title == TITLE_V1 and story.updated is None
    url = site.add(story)
    original = list(story.paragraphs)
    try:
        assert crawl(db, url)["new_articles"] == 1
        story.title = TITLE_V2
        assert crawl(db, url)["new_versions"] == 1
        story.updated = UPDATED
        story.paragraphs[0] = story.paragraphs[0].replace("Wednesday", "Thursday")
        assert crawl(db, url)["new_versions"] == 1
        story.title, story.updated, story.paragraphs = TITLE_V1, None, original
        assert crawl(db, url)["new_versions"] == 1
        yield History(db, url, story)
    finally:
        site.stop()


def test_headline_only_change_shows_in_every_diff_format(history: History) -> None:
    marked = "title: Russia-North Korea Defense Pact [-Enters Into Force-]{+Takes Effect+}\n"
    for fmt in ("words", "unified"):
        result = invoke(history.db, "diff", history.url, "1", "2", "--format", fmt)
        assert result.exit_code == 0
        assert result.stdout.startswith(f"{history.url}: v1 (") and marked in result.stdout, (fmt, result.stdout)
        assert f"byline: {history.story.byline}\n" in result.stdout
    data = invoke_json(history.db, "diff", history.url, "1", "2")
    assert data["title"] == {"old": TITLE_V1, "new": TITLE_V2} and data["changes"] == []


def test_declared_update_time_moving_shows_in_the_diff(history: History) -> None:
    updated = invoke_json(history.db, "show", history.url, "--version", "3")["updated"]
    assert updated and updated.startswith("2024-12-05T18:30")
    stated = history.story.published  # the page states its modification time from publication on
    result = invoke(history.db, "diff", history.url, "2", "3")
    assert f"\nupdated: [-{stated}-]{{+{updated}+}}\n" in result.stdout
    assert "[-Wednesday-]{+Thursday+}" in result.stdout
    assert invoke_json(history.db, "diff", history.url, "2", "3")["updated"] == {"old": stated, "new": updated}
    assert invoke_json(history.db, "log", history.url)[2]["change"]["declared"] is True


def test_identical_versions_are_said_to_be_identical(history: History) -> None:
    result = invoke(history.db, "diff", history.url, "1", "4")
    assert result.exit_code == 0
    header, said = result.stdout.rstrip("\n").rsplit("\n", 1)
    assert said.startswith("v1 and v4 are identical: same text, headline, byline and declared update time "
                           "(v4 reverts to v1)")
    unified = invoke(history.db, "diff", history.url, "1", "4", "--format", "unified").stdout
    assert "are identical" in unified and "\n--- " not in unified


def test_versions_may_be_counted_back_with_negative_numbers(history: History) -> None:
    assert invoke_json(history.db, "diff", history.url, "-2", "-1") == invoke_json(history.db, "diff", history.url,
                                                                                 "3", "4")
    assert invoke_json(history.db, "diff", history.url, "-3") == invoke_json(history.db, "diff", history.url, "2", "4")
    out = history.db + ".wacz"
    # In a child process: py-wacz leaves global state behind that changes later CDXJ indexes in this one.
    cited = run_redline(history.db, "cite", history.url, "-2", "-1", "-o", out, "--json")
    assert cited.returncode == 0 and (json.loads(cited.stdout)["from"], json.loads(cited.stdout)["to"]) == (3, 4)


# -- crawl failures ---------------------------------------------------------------------------------

def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_crawl_names_failures_apart_from_gone_and_logs_them_in_one_line(tmp_path: Path) -> None:
    site = FakeSite().start()
    try:
        gone, failing = (site.add(story) for story in load_stories()[:2])
        site.set_status(gone.split("/", 3)[3], 410)
        site.set_status(failing.split("/", 3)[3], 503)
        unreachable = f"http://127.0.0.1:{_closed_port()}/news/story"
        settings = [arg for name, value in {**FAST, "RETRY_TIMES": "0"}.items() for arg in ("-s", f"{name}={value}")]
        db = str(tmp_path / "a.db")
        mixed = run_redline(db, "crawl", *settings, gone, failing, unreachable)
        alone = run_redline(str(tmp_path / "b.db"), "crawl", *settings, unreachable)
        verbose = run_redline(str(tmp_path / "c.db"), "crawl", "-v", *settings, unreachable)
    finally:
        site.stop()
    lines = mixed.stdout.splitlines()
    assert mixed.returncode == 0, mixed.stderr
    # the figures of --json: "failed" counts gone too, and an unanswered URL was tried, not fetched
    assert lines[0] == "tried 3  new articles 0 (first captures)  new versions 0  unchanged 0  failed 3 (gone 1)"
    named = {line.split()[1]: line for line in lines[1:]}
    assert set(named) == {failing, unreachable} and "503" in named[failing]
    assert "Connection" in named[unreachable] and named[unreachable].startswith("  failed: ")
    assert mixed.stderr == ""  # Scrapy's own warnings only with -v: the failures are listed on stdout
    assert alone.returncode == 1 and alone.stderr == "Error: none of the 1 URL(s) could be fetched\n"
    assert "Connection refused" in alone.stdout
    assert "Traceback" in verbose.stderr and verbose.returncode == 1  # -v shows what Scrapy saw


# -- README set-up and the demo's hint --------------------------------------------------------------

def test_readme_says_how_to_get_the_command_and_the_demo_hint_works_as_printed(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert ". .venv/bin/activate" in readme and ".venv/bin/redline" in readme
    script = Path(sys.executable).parent / "redline"
    assert script.exists(), "the test suite runs from the project's virtual environment"
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    env = {k: v for k, v in os.environ.items() if k not in ("REDLINE_DB", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p and Path(p).resolve() != script.parent.resolve())
    assert shutil.which("redline", path=env["PATH"]) is None  # as after README's set-up commands
    demo = subprocess.run([".venv/bin/redline", "demo"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    assert demo.returncode == 0, demo.stderr
    hint = demo.stdout.splitlines()[-3].strip()
    assert hint == ".venv/bin/redline --db redline-demo.db list"
    assert demo.stdout.splitlines()[-1].strip() == ".venv/bin/redline --db redline-demo.db serve"
    for command in (hint, ". .venv/bin/activate && redline --db redline-demo.db list"):
        done = subprocess.run(["sh", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=180, check=False)
        assert done.returncode == 0 and "live" in done.stdout, (command, done.stderr)
    # the demo's job followed a feed on its sample site, which is gone now: it is left paused
    [job] = invoke_json(str(tmp_path / "redline-demo.db"), "schedule", "list")
    assert job["name"] == "demo" and job["paused"] is True


def test_demo_refuses_an_archive_that_is_not_a_demo_one(tmp_path: Path) -> None:
    real = FakeSite().start()
    try:
        db = str(tmp_path / "real.db")
        crawl(db, real.add(replace(load_stories()[0], slug="newsroom/2024/a-real-story")))
    finally:
        real.stop()
    before = Path(db).read_bytes()
    done = run_redline(db, "demo")
    assert done.returncode == 1 and done.stderr.startswith("Error: ") and done.stderr.count("\n") == 1, done.stderr
    assert "is not a demo archive" in done.stderr and "Serving" not in done.stdout
    assert Path(db).read_bytes() == before and len(invoke_json(db, "list")) == 1
