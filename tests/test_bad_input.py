"""Every bad input, in every command, is one line: a walk over every command and option of
``redline --help`` with malformed values (URLs, IDs, times, settings, regular expressions, hosts with
ports or schemes, URL files with a BOM, empty files, directories, a non-archive file as ``--db``).
Each must exit with the documented status (README, "Exit status": 2 for a malformed command line, 1
for what does not exist), print exactly one ``Error:`` line and no traceback, and write nothing.

Commands run in this process through click's runner (the walk stays fast); ``test_a_traceback_...``
runs a few in real processes, where a traceback escaping click would show.
"""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from redline.cli import cli
from redline.fakesite import FakeSite, load_stories
from tests.conftest import crawl

HOOK = "json://127.0.0.1:9/hook"  # loaded, never sent to: no case gets that far
NOPE = "http://127.0.0.1:9/never-archived"
MISSING_ID = "0123456789"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """An archive with one article, one alert rule and one schedule, and files of every bad kind."""
    where = tmp_path_factory.mktemp("bad-input")
    db = str(where / "archive.db")
    site = FakeSite().start()
    try:
        url = site.add(load_stories()[0])
        crawl(db, url)
    finally:
        site.stop()
    runner = CliRunner()
    for args in (["alert", "add", "desk", "--to", HOOK], ["schedule", "add", "world", "--every", "1h", url]):
        assert runner.invoke(cli, ["--db", db, *args]).exit_code == 0
    (where / "empty.txt").write_text("")
    (where / "bom.txt").write_bytes(b"\xef\xbb\xbfnot-a-url\n")
    (where / "notes.txt").write_text("shopping list\n")
    (where / "report.csv").write_text(f"url,version\n{url},1\n")
    (where / "page.html").write_text("<html><body><p>A saved page.</p></body></html>")
    (where / "dir").mkdir()
    yield {"db": db, "url": url, "empty": str(where / "empty.txt"), "bom": str(where / "bom.txt"),
           "notes": str(where / "notes.txt"), "dir": str(where / "dir"), "missing": str(where / "missing.txt"),
           "csv": str(where / "report.csv"), "html": str(where / "page.html")}


def cases(w: dict[str, str]) -> list[tuple[str, str, list[str], int]]:
    """(command, parameter, arguments, exit status): at least one per parameter of every command."""
    url, bad_urls = w["url"], ("nope", "ftp://example.com/a", "http://", "http://exa mple.com/a")
    found = [("crawl", "urls", ["crawl", bad], 2) for bad in bad_urls]
    found += [("crawl", "urls_file", ["crawl", "--urls-file", w[kind]], 2)
              for kind in ("empty", "bom", "dir", "missing")]
    found += [("crawl", "settings", ["crawl", url, "-s", s], 2) for s in ("DOWNLOAD_DELAY=abc", "ROBOTSTXT_OBEY=maybe",
                                                                         "noequals", "=1")]
    for command in ("log", "show", "diff", "cite", "reextract", "renoise"):
        tail = ["-o", w["missing"] + ".wacz"] if command == "cite" else []
        found += [(command, "url" + "s" * (command in ("reextract", "renoise")), [command, bad, *tail], 2)
                  for bad in bad_urls]
        found += [(command, "url", [command, NOPE, *tail], 1), (command, "url", [command, MISSING_ID, *tail], 1)]
    found += [("show", "number", ["show", url, "--version", "x"], 2),
              ("show", "number", ["show", url, "--version", "9"], 1),
              ("diff", "old", ["diff", url, "x"], 2), ("diff", "new", ["diff", url, "1", "y"], 2),
              ("diff", "old", ["diff", url, "9", "1"], 1), ("diff", "fmt", ["diff", url, "--format", "html"], 2),
              ("cite", "old", ["cite", url, "x", "-o", w["missing"]], 2),
              ("cite", "new", ["cite", url, "1", "y", "-o", w["missing"]], 2),
              ("cite", "output", ["cite", url, "-o", w["dir"]], 2),
              ("list", "changed_since", ["list", "--changed-since", "yesterdayish"], 2),
              ("list", "changed_since", ["list", "--changed-since", "2024-13-45"], 2),
              ("search", "phrase", ["search", ""], 2), ("search", "phrase", ["search", "   "], 2),
              ("search", "site", ["search", "treaty", "--site", "https://example.com/"], 2),
              ("search", "site", ["search", "treaty", "--site", "127.0.0.1:8701"], 2),
              ("search", "since", ["search", "treaty", "--since", "soon"], 2),
              ("search", "limit", ["search", "treaty", "--limit", "0"], 2),
              ("screenshot", "url", ["screenshot", "nope"], 2), ("screenshot", "url", ["screenshot", NOPE], 1),
              ("screenshot", "number", ["screenshot", url, "--version", "x"], 2),
              ("screenshot", "number", ["screenshot", url, "--version", "9"], 1),
              ("screenshot", "settings", ["screenshot", "--pending", "-s", "REDLINE_SCREENSHOT_FORMAT=gif"], 2),
              ("repack", "batch", ["repack", "--batch", "0"], 2),
              ("repack", "batches", ["repack", "--batches", "none"], 2),
              ("renoise", "site", ["renoise", "--site", "https://example.com/"], 2),
              ("renoise", "site", ["renoise", "--site", "127.0.0.1:8701"], 2),
              ("renoise", "site", ["renoise", "--site", "nope.example"], 1),
              ("verify", "url", ["verify", "--article", "nope"], 2),
              ("verify", "url", ["verify", "--article", NOPE], 1),
              ("verify", "published", ["verify", "--published", "redline-chain:x:y"], 2),
              ("export", "out_dir", ["export", w["notes"]], 2),
              ("export", "fmt", ["export", w["dir"], "--format", "pdf"], 2),
              ("export", "urls", ["export", w["dir"], "--url", "nope"], 2),
              ("export", "since", ["export", w["dir"], "--since", "soon"], 2),
              ("import", "paths", ["import", w["missing"]], 2), ("import", "paths", ["import", w["csv"]], 2),
              ("import", "paths", ["import", w["html"], "--url", url], 2),
              ("import", "url", ["import", w["dir"], "--url", "nope"], 2),
              ("import", "captured_at", ["import", w["html"], "--url", url, "--captured-at", "noonish"], 2),
              ("import", "captured_at", ["import", w["html"], "--url", url, "--captured-at", "2999-01-01"], 2)]
    found += [("ignore add", "host", ["ignore", "add", host, "^x"], 2)
              for host in ("http://127.0.0.1:8701", "127.0.0.1:8701", "example.com/news", "")]
    found += [("ignore add", "pattern", ["ignore", "add", "example.com", pattern], 2)
              for pattern in ("(", ".*", "", ".")]
    found += [("ignore remove", "host", ["ignore", "remove", "nope.example", "^x"], 1),
              ("ignore remove", "pattern", ["ignore", "remove", "127.0.0.1", "^never"], 1),
              ("ignore forget", "host", ["ignore", "forget", "nope.example", "--all-learned"], 1),
              ("ignore forget", "digest", ["ignore", "forget", "127.0.0.1", "feedc0de"], 1)]
    found += [("crawl", "render", ["crawl", url, "--render", "sometimes"], 2),
              ("site set", "host", ["site", "set", "http://127.0.0.1:8701", "--render", "js"], 2),
              ("site set", "render", ["site", "set", "example.com", "--render", "sometimes"], 2),
              ("site unset", "host", ["site", "unset", "nope.example"], 1)]
    add = ["alert", "add", "new", "--to", HOOK]
    found += [("alert add", "name", ["alert", "add", "bad name!", "--to", HOOK], 2),
              ("alert add", "targets", ["alert", "add", "new", "--to", "nope://x"], 2),
              ("alert add", "targets", ["alert", "add", "new", "--to", "http://"], 2),
              ("alert add", "sites", [*add, "--site", "http://127.0.0.1:8701"], 2),
              ("alert add", "job", [*add, "--job", "nosuch"], 2), ("alert add", "kinds", [*add, "--kinds", "typo"], 2),
              ("alert add", "min_words", [*add, "--min-words", "abc"], 2),
              ("alert add", "digest", [*add, "--digest", "weekly"], 2),
              ("alert log", "rule", ["alert", "log", "--rule", "nosuch"], 1),
              ("alert log", "status", ["alert", "log", "--status", "lost"], 2),
              ("alert log", "limit", ["alert", "log", "--limit", "0"], 2),
              ("alert send", "base_url", ["alert", "send", "--base-url", "not a url"], 2),
              ("alert send", "diff_path", ["alert", "send", "--diff-path", "/d/{nope}"], 2),
              ("alert send", "max_attempts", ["alert", "send", "--max-attempts", "0"], 2),
              ("alert send", "retry_base", ["alert", "send", "--retry-base", "-1"], 2),
              ("alert send", "lease", ["alert", "send", "--lease", "x"], 2),
              ("alert test", "base_url", ["alert", "test", "desk", "--base-url", "ftp://x"], 2),
              ("alert test", "diff_path", ["alert", "test", "desk", "--diff-path", "{nope}"], 2)]
    found += [(f"alert {c}", "name", ["alert", c, "nosuch"], 1) for c in ("pause", "remove", "resume", "test")]
    sched = ["schedule", "add", "new", "--every", "1h"]
    found += [("schedule add", "name", ["schedule", "add", "bad name!", "--every", "1h", url], 2),
              ("schedule add", "urls", [*sched, "nope"], 2),
              ("schedule add", "every", ["schedule", "add", "n", "--every", "soon", url], 2),
              ("schedule add", "cron", ["schedule", "add", "n", "--cron", "* *", url], 2),
              ("schedule add", "timezone", ["schedule", "add", "n", "--cron", "0 * * * *", "--tz", "Mars/Base", url],
               2),
              ("schedule add", "feeds", [*sched, "--feed", "nope"], 2),
              ("schedule add", "sitemaps", [*sched, "--sitemap", "ftp://x"], 2),
              ("schedule add", "urls_file", [*sched, "--urls-file", w["empty"]], 2),
              ("schedule add", "urls_file", [*sched, "--urls-file", w["bom"]], 2),
              ("schedule add", "recheck", [*sched, "--recheck", "abc", url], 2),
              ("schedule add", "settings", [*sched, "-s", "DOWNLOAD_DELAY=abc", url], 2),
              ("schedule add", "render", [*sched, "--render", "sometimes", url], 2),
              ("schedule edit", "render", ["schedule", "edit", "world", "--render", "sometimes"], 2),
              ("schedule run", "settings", ["schedule", "run", "world", "-s", "noequals"], 2),
              ("schedule run", "render", ["schedule", "run", "world", "--render", "sometimes"], 2),
              ("scheduler", "run_timeout", ["scheduler", "--run-timeout", "forever"], 2),
              ("scheduler", "parallel", ["scheduler", "--parallel", "0"], 2),
              ("scheduler", "sync_every", ["scheduler", "--sync-every", "-1s"], 2),
              ("runs", "job", ["runs", "--job", "nosuch"], 1), ("runs", "limit", ["runs", "--limit", "x"], 2),
              ("due", "names", ["due", "nosuch"], 1), ("due", "limit", ["due", "--limit", "0"], 2),
              ("serve", "host", ["serve", "--host", "http://0.0.0.0:80"], 2),
              ("serve", "port", ["serve", "--port", "70000"], 2),
              ("serve", "base_url", ["serve", "--base-url", "nope"], 2),
              ("serve", "tz", ["serve", "--tz", "Mars/Base"], 2), ("serve", "now", ["serve", "--now", "yesterday"], 2)]
    found += [(f"schedule {c}", "name", ["schedule", c, "nosuch"], 1) for c in ("pause", "remove", "resume", "run")]
    edit = ["schedule", "edit", "world"]
    found += [("schedule edit", "name", ["schedule", "edit", "nosuch", "--every", "1h"], 1),
              ("schedule edit", "every", [*edit, "--every", "soon"], 2),
              ("schedule edit", "cron", [*edit, "--cron", "* *"], 2),
              ("schedule edit", "timezone", [*edit, "--cron", "0 * * * *", "--tz", "Mars/Base"], 2),
              ("schedule edit", "recheck", [*edit, "--recheck", "abc"], 2),
              ("schedule edit", "feeds", [*edit, "--feed", "nope"], 2),
              ("schedule edit", "gone_feeds", [*edit, "--remove-feed", "nope"], 2),
              ("schedule edit", "sitemaps", [*edit, "--sitemap", "ftp://x"], 2),
              ("schedule edit", "gone_sitemaps", [*edit, "--remove-sitemap", "http://"], 2),
              ("schedule edit", "urls", [*edit, "--url", "nope"], 2),
              ("schedule edit", "gone_urls", [*edit, "--remove-url", "http://127.0.0.1:9/never-listed"], 1),
              ("schedule edit", "urls_file", [*edit, "--urls-file", w["bom"]], 2),
              ("schedule edit", "urls_file", [*edit, "--urls-file", w["dir"]], 2),
              ("schedule edit", "settings", [*edit, "-s", "DOWNLOAD_DELAY=abc"], 2)]
    found += [("worker", name, ["worker", option, value], 2) for name, option, value in (
        ("concurrency", "--concurrency", "0"), ("batch_size", "--batch-size", "x"),
        ("batch_wait", "--batch-wait", "-1"), ("heartbeat", "--heartbeat", "0"),
        ("crawl_timeout", "--crawl-timeout", "x"), ("keep_hours", "--keep-hours", "-1"),
        ("settings", "-s", "noequals"))]
    return found


def parameters() -> set[tuple[str, str]]:
    """(command, parameter) for every parameter that takes a value, of every command in 'redline --help'."""
    def walk(command: click.Command, path: list[str]) -> Iterator[tuple[str, str]]:
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                yield from walk(sub, [*path, name])
            return
        for param in command.params:
            if param.name not in ("db", "help", "as_json") and not getattr(param, "is_flag", False):
                yield " ".join(path), str(param.name)
    return set(walk(cli, []))


def dump(db: str) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


def one_line_error(result: click.testing.Result, code: int) -> None:
    assert (result.exit_code, "Traceback" in result.output) == (code, False), result.output
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr


def test_every_parameter_of_every_command_is_walked(world: dict[str, str]) -> None:
    walked = {(command, param) for command, param, _, _ in cases(world)}
    assert parameters() - walked == set()


def test_bad_input_is_one_error_line_with_the_documented_status_and_writes_nothing(world: dict[str, str]) -> None:
    before, runner, wrong = dump(world["db"]), CliRunner(), []
    for command, param, args, code in cases(world):
        result = runner.invoke(cli, ["--db", world["db"], *args])
        lines = result.stderr.splitlines()
        if (result.exit_code, len(lines), result.exception is None or isinstance(result.exception, SystemExit)) != (
                code, 1, True) or not lines[0].startswith("Error: "):
            wrong.append((args, code, result.exit_code, result.output[-300:], repr(result.exception)))
    assert wrong == [], "\n".join(map(repr, wrong))
    assert dump(world["db"]) == before
    assert not Path(world["missing"]).exists() and not any(Path(world["dir"]).iterdir())


@pytest.mark.parametrize("kind", ["notes", "empty", "dir", "missing"])
def test_a_db_that_is_no_archive_is_refused_by_every_command(world: dict[str, str], kind: str) -> None:
    """Each command, well formed but pointed at a file that is no archive, a directory or nothing."""
    url, db, runner = world["url"], world[kind], CliRunner()
    writes = {"crawl", "ignore add", "alert add", "schedule add", "demo", "import", "scheduler",  # may create one
              "site set"}
    minimal = {"alert add": ["new", "--to", HOOK], "cite": [url, "-o", world["missing"] + ".wacz"], "crawl": [url],
               "diff": [url], "export": [world["dir"]], "ignore add": ["example.com", "^x"],
               "ignore forget": ["example.com", "--all-learned"], "ignore remove": ["example.com", "^x"],
               "import": [world["bom"], "--url", url], "log": [url], "schedule add": ["n", "--every", "1h", url],
               "show": [url], "alert pause": ["desk"], "alert remove": ["desk"], "alert resume": ["desk"],
               "alert test": ["desk"], "schedule pause": ["world"], "schedule remove": ["world"],
               "schedule resume": ["world"], "schedule run": ["world"],
               "schedule edit": ["world", "--every", "2h"], "search": ["treaty"], "screenshot": ["--pending"],
               "site set": ["example.com", "--render", "js"], "site unset": ["example.com"]}
    before = Path(db).read_bytes() if kind in ("notes", "empty") else None
    for command in sorted({c for c, _ in parameters()} | {"demo", "list", "alert list", "ignore list", "schedule list",
                                                           "site list",
                                                           "verify", "runs", "due", "reextract", "renoise"}):
        if command in ("serve", "worker") or (kind in ("empty", "missing") and command in writes):
            continue  # serve answers errors per request; worker needs PostgreSQL; these create an archive
        result = runner.invoke(cli, ["--db", db, *command.split(), *minimal.get(command, [])])
        assert result.exit_code == 1 and result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, (
            command, result.output, result.exception)
    assert (Path(db).read_bytes() if before is not None else None) == before
    assert kind != "missing" or not Path(db).exists()


def test_a_traceback_never_escapes_click_in_a_real_process(world: dict[str, str]) -> None:
    """Where an exception could escape click's runner unseen: the real command, as a user runs it."""
    for args in (["renoise", "nope"], ["reextract", "nope"], ["crawl", "--urls-file", world["bom"]],
                 ["--db", world["notes"], "list"], ["--db", world["dir"], "list"]):
        done = subprocess.run([sys.executable, "-m", "redline", "--db", world["db"], *args], capture_output=True,
                              text=True, timeout=120, check=False)
        assert done.returncode in (1, 2) and "Traceback" not in done.stderr, (args, done.stderr)
        assert done.stderr.startswith("Error: ") and done.stderr.count("\n") == 1, (args, done.stderr)
