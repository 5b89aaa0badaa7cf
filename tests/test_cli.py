"""The ``redline`` command line as a user meets it: help, JSON contracts, URL identity,
one-line errors, unified diffs that ``patch`` accepts, word diffs, crawl summaries and
``REDLINE_DB``.

One archive is built once for the module with three real crawls of the loopback site
(served as ``localhost`` so that host case can be tested), and shared by the tests:

* crawl 1 (plain output, ``--urls-file`` with comments and blank lines): all five stories.
* edits:  EDITED gets a word fix, a new headline, a removed and an appended paragraph;
          RESTORED answers 404; FAILING answers 503; GONE answers 410; SINGLE is untouched.
* crawl 2 (``--json``): all five.
* RESTORED comes back with an extra sentence.
* crawl 3 (``--json``, database given only through ``REDLINE_DB``): RESTORED.
"""
from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from redline.cli import cli
from redline.fakesite import FakeSite, Story, load_stories
from tests.conftest import FAST, crawl, invoke, invoke_json, run_redline

COMMANDS = {"crawl", "list", "log", "show", "diff", "demo"}
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
LIST_KEYS = {"id", "url", "title", "status", "versions", "first_seen", "last_checked", "last_changed"}
VERSION_KEYS = {"version", "captured_at", "title", "published", "updated", "words", "change", "fetched_url",
                "from_other_url", "screenshot"}
EVENT_KEYS = {"event", "at", "detail"}
SHOW_KEYS = {"url", "version", "captured_at", "title", "byline", "published", "updated", "text", "fetched_url",
             "from_other_url", "copy_of", "also_published_at"}
CORRECTION = "Correction: An earlier version of this article misstated the day."
REMOVED = ("Lawmakers in Moscow last month voted unanimously for the deal and it was later signed by the "
           "president. Pyongyang said it was ratified by a decree from Kim.")
ROOT = Path(__file__).resolve().parents[1]
RESTORED_EXTRA = " The agreement was published in full on Thursday."


def fast_args(settings: dict[str, str] | None = None) -> list[str]:
    args: list[str] = []
    for name, value in {**FAST, **(settings or {})}.items():
        args += ["-s", f"{name}={value}"]
    return args


def base_env(**extra: str) -> dict[str, str]:
    """The caller's environment without anything that changes Redline's behaviour, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDLINE_DB", "NO_COLOR", "TERM")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def redline(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real command in a child process, with no implicit --db."""
    return subprocess.run([sys.executable, "-m", "redline", *args], capture_output=True, text=True,
                          env=env if env is not None else base_env(), cwd=cwd, input=stdin, timeout=180,
                          check=False)


@dataclass
class Archive:
    db: str
    dir: Path
    site: FakeSite
    urls: dict[str, str]
    stories: dict[str, Story]
    v1_titles: dict[str, str]
    first_crawl: subprocess.CompletedProcess[str]
    second_crawl: dict[str, Any]
    third_crawl: subprocess.CompletedProcess[str]
    list_after_second: list[dict[str, Any]]
    commented_path: str
    cwd_files_after_env_crawl: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    base = tmp_path_factory.mktemp("cli")
    db = str(base / "archive.db")
    site = FakeSite().start("localhost")
    names = ["EDITED", "RESTORED", "FAILING", "SINGLE", "GONE"]
    stories = dict(zip(names, load_stories(), strict=True))
    urls = {name: site.add(story) for name, story in stories.items()}
    v1_titles = {name: story.title for name, story in stories.items()}
    try:
        commented_path = "/commented-out/article"
        urls_file = base / "watch.txt"
        lines = ["# articles to watch", "", *(urls[n] for n in names[:3]), "   ",
                 f"  # {site.url(commented_path)}", "", f"{urls['SINGLE']}   # budget story",
                 urls["EDITED"],  # a duplicate
                 "#" + urls["GONE"], urls["GONE"], ""]
        urls_file.write_text("\n".join(lines), "utf-8")
        first = run_redline(db, "crawl", *fast_args(), "--urls-file", str(urls_file))
        assert first.returncode == 0, first.stderr

        edited = stories["EDITED"]
        edited.paragraphs[0] = edited.paragraphs[0].replace("Wednesday", "Thursday")
        edited.title += " (updated)"
        assert edited.paragraphs[6] == REMOVED
        del edited.paragraphs[6]
        edited.paragraphs.append(CORRECTION)
        site.set_status(stories["RESTORED"].slug, 404)
        site.set_status(stories["FAILING"].slug, 503)
        site.set_status(stories["GONE"].slug, 410)
        second = crawl(db, *urls.values())
        list_after_second = invoke_json(db, "list")

        stories["RESTORED"].paragraphs[0] += RESTORED_EXTRA
        site.set_status(stories["RESTORED"].slug, 200)
        env_cwd = base / "elsewhere"
        env_cwd.mkdir()
        third = redline("crawl", "--json", *fast_args(), urls["RESTORED"], env=base_env(REDLINE_DB=db), cwd=env_cwd)
        yield Archive(db=db, dir=base, site=site, urls=urls, stories=stories, v1_titles=v1_titles,
                      first_crawl=first, second_crawl=second, third_crawl=third,
                      list_after_second=list_after_second, commented_path=commented_path,
                      cwd_files_after_env_crawl=sorted(p.name for p in env_cwd.iterdir()))
    finally:
        site.stop()


# -- 1. help --------------------------------------------------------------------------------------

def _all_commands(group: click.Group = cli, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command path, subcommands of groups included: ('crawl',), ('ignore',), ('ignore', 'add'), ..."""
    for name in sorted(group.commands):
        command = group.commands[name]
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from _all_commands(command, (*path, name))


def _command_params() -> list[Any]:
    params = []
    for path in _all_commands():
        params.append(pytest.param(path, id=" ".join(path)))
    return params


def test_expected_commands_are_registered() -> None:
    assert COMMANDS <= set(cli.commands)


@pytest.mark.parametrize("path", _command_params())
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    """Parametrized over the registered commands, so a new command without help fails here."""
    name = " ".join(path)
    command: click.Command = cli
    for part in path:
        assert isinstance(command, click.Group)
        command = command.commands[part]
    assert (command.help or "").strip(), f"{name} has no help text"
    assert command.get_short_help_str().strip(), f"{name} has no short help for its group's --help"
    result = CliRunner().invoke(cli, [*path, "--help"], prog_name="redline", catch_exceptions=False)
    assert result.exit_code == 0
    assert result.stdout.startswith(f"Usage: redline {name} ")
    body = result.stdout.split("\n", 1)[1]  # everything after the usage line
    examples = [line.strip() for line in body.splitlines() if line.strip().startswith(f"redline {name} ")
                or line.strip() == f"redline {name}"]
    assert examples, f"'redline {name} --help' shows no example line 'redline {name} ...':\n{result.stdout}"


def test_top_level_help_lists_every_command_with_its_summary() -> None:
    done = redline("--help")
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith("Usage: redline ")
    assert re.search(r"^\s+redline crawl https?://\S+", done.stdout, re.M), "no example in 'redline --help'"
    commands_section = done.stdout.split("\nCommands:\n", 1)[1]
    listed = {}
    for line in commands_section.splitlines():
        match = re.match(r"^  (\S+)\s+(.*)$", line)
        if match:
            listed[match.group(1)] = match.group(2).strip()
    assert set(listed) == set(cli.commands) and COMMANDS <= set(listed)
    assert all(listed.values()), f"commands without a summary: {listed}"


# -- 2. JSON contracts ----------------------------------------------------------------------------

def _is_iso_z(value: Any) -> bool:
    return isinstance(value, str) and bool(ISO_Z.match(value)) and datetime.fromisoformat(value).tzinfo is not None


def test_list_json_contract(archive: Archive) -> None:
    for rows in (archive.list_after_second, invoke_json(archive.db, "list")):
        assert isinstance(rows, list) and len(rows) == 5
        for row in rows:
            assert set(row) == LIST_KEYS
            assert row["status"] in ("live", "gone", "failing")
            assert isinstance(row["versions"], int) and row["versions"] >= 1
            for key in ("first_seen", "last_checked", "last_changed"):
                assert _is_iso_z(row[key]), (key, row[key])
        assert [r["last_changed"] for r in rows] == sorted((r["last_changed"] for r in rows), reverse=True)
    after_second = {r["url"]: r["status"] for r in archive.list_after_second}
    urls = archive.urls
    assert after_second == {urls["EDITED"]: "live", urls["RESTORED"]: "gone", urls["FAILING"]: "failing",
                            urls["SINGLE"]: "live", urls["GONE"]: "gone"}
    final = {r["url"]: r for r in invoke_json(archive.db, "list")}
    assert {u: r["status"] for u, r in final.items()} == {**after_second, urls["RESTORED"]: "live"}
    assert {u: r["versions"] for u, r in final.items()} == {
        urls["EDITED"]: 2, urls["RESTORED"]: 2, urls["FAILING"]: 1, urls["SINGLE"]: 1, urls["GONE"]: 1}
    assert final[urls["EDITED"]]["title"] == archive.stories["EDITED"].title  # the latest version's title
    assert final[urls["SINGLE"]]["title"] == archive.v1_titles["SINGLE"]


def test_log_json_contract_for_versions(archive: Archive) -> None:
    entries = invoke_json(archive.db, "log", archive.urls["EDITED"])
    assert [e["version"] for e in entries] == [1, 2]
    assert all(set(e) == VERSION_KEYS for e in entries)
    first, second = entries
    assert first["change"] is None
    assert first["title"] == archive.v1_titles["EDITED"] and second["title"] == archive.stories["EDITED"].title
    assert _is_iso_z(first["captured_at"]) and _is_iso_z(second["captured_at"])
    assert first["captured_at"] <= second["captured_at"]
    assert isinstance(first["words"], int) and second["words"] < first["words"]  # a paragraph went
    change = second["change"]
    assert isinstance(change, dict) and {"kinds", "added_words", "removed_words"} <= set(change)
    assert isinstance(change["kinds"], list) and change["kinds"] and all(isinstance(k, str) for k in change["kinds"])
    assert "headline" in change["kinds"]
    assert isinstance(change["added_words"], int) and isinstance(change["removed_words"], int)
    assert change["added_words"] > 0 and change["removed_words"] > change["added_words"]


def test_log_json_contract_for_events(archive: Archive) -> None:
    entries = invoke_json(archive.db, "log", archive.urls["RESTORED"], "--events")
    versions = [e for e in entries if "version" in e]
    events = [e for e in entries if "event" in e]
    assert len(versions) + len(events) == len(entries)
    assert all(set(v) == VERSION_KEYS for v in versions) and all(set(e) == EVENT_KEYS for e in events)
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["change"] is None and versions[1]["change"]["added_words"] > 0
    assert [e["event"] for e in events] == ["gone", "restored"]
    assert "404" in events[0]["detail"]
    assert all(_is_iso_z(e["at"]) for e in events)
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)

    gone = invoke_json(archive.db, "log", archive.urls["GONE"], "--events")
    assert [e.get("version") or e.get("event") for e in gone] == [1, "gone"]
    assert set(gone[1]) == EVENT_KEYS and "410" in gone[1]["detail"]


def test_log_json_without_events_holds_versions_only(archive: Archive) -> None:
    for name in ("RESTORED", "GONE"):
        entries = invoke_json(archive.db, "log", archive.urls[name])
        assert entries and all(set(e) == VERSION_KEYS for e in entries), entries
        with_events = invoke_json(archive.db, "log", archive.urls[name], "--events")
        assert [e for e in with_events if "version" in e] == entries and len(with_events) > len(entries)


def test_log_json_is_oldest_first_across_versions_and_events(archive: Archive) -> None:
    entries = invoke_json(archive.db, "log", archive.urls["RESTORED"], "--events")
    order = [e.get("version") or e["event"] for e in entries]
    # The 404 (crawl 2) happened before version 2 was captured (crawl 3).
    assert order.index("gone") < order.index(2), order
    stamps = [e.get("captured_at") or e["at"] for e in entries]
    assert stamps == sorted(stamps), list(zip(order, stamps))


def test_show_json_contract(archive: Archive) -> None:
    url = archive.urls["EDITED"]
    latest = invoke_json(archive.db, "show", url)
    first = invoke_json(archive.db, "show", url, "--version", "1")
    assert invoke_json(archive.db, "show", url, "--version", "-1") == latest
    assert invoke_json(archive.db, "show", url, "--version", "2") == latest
    log = invoke_json(archive.db, "log", url)
    for data, number in ((first, 1), (latest, 2)):
        assert SHOW_KEYS <= set(data)
        assert data["url"] == url and data["version"] == number
        assert data["fetched_url"] == url and data["from_other_url"] is False and data["copy_of"] is None
        assert data["captured_at"] == log[number - 1]["captured_at"] and _is_iso_z(data["captured_at"])
        assert data["byline"] == archive.stories["EDITED"].byline
        assert data["published"] == archive.stories["EDITED"].published
        assert data["updated"] == archive.stories["EDITED"].published  # stated from publication on, unmoved
    assert first["title"] == archive.v1_titles["EDITED"] and latest["title"] == archive.stories["EDITED"].title
    assert "entered into force Wednesday" in first["text"] and REMOVED in first["text"]
    assert CORRECTION not in first["text"]
    assert "entered into force Thursday" in latest["text"] and CORRECTION in latest["text"]
    assert REMOVED not in latest["text"]


def test_diff_json_contract(archive: Archive) -> None:
    url = archive.urls["EDITED"]
    data = invoke_json(archive.db, "diff", url)
    assert {"url", "from", "to", "title", "changes"} <= set(data)
    assert not [k for k in data if k.startswith("_")]
    assert data["url"] == url and (data["from"], data["to"]) == (1, 2)
    assert data["title"] == {"old": archive.v1_titles["EDITED"], "new": archive.stories["EDITED"].title}
    assert all(c["op"] in ("insert", "delete", "replace") for c in data["changes"])
    assert data["changes"] == [
        {"op": "replace", "old": "Wednesday", "new": "Thursday"},
        {"op": "delete", "old": REMOVED, "new": ""},
        {"op": "insert", "old": "", "new": CORRECTION},
    ]
    located = invoke_json(archive.db, "diff", url, "--context")
    assert [{k: c[k] for k in ("op", "old", "new")} for c in located["changes"]] == data["changes"]
    assert all(set(c) == {"op", "old", "new", "paragraph", "context"} for c in located["changes"])
    first, removed, added = located["changes"]
    new_paragraphs = invoke_json(archive.db, "show", url)["text"].split("\n\n")
    assert first["context"].startswith("A mutual defense pact") and "Thursday" in first["context"]
    assert removed["context"] == REMOVED and added["context"] == CORRECTION
    # Paragraphs are numbered as compared: noise paragraphs count only with --with-noise.
    for change in invoke_json(archive.db, "diff", url, "--with-noise", "--context")["changes"]:
        if change["op"] != "delete":
            paragraph = new_paragraphs[change["paragraph"] - 1]
            assert change["new"] in paragraph and change["context"] in paragraph
    noisy = invoke_json(archive.db, "diff", url, "--with-noise", "--context")["changes"]
    sentence = next(c for c in noisy if c["new"] == "Thursday")
    assert sentence["context"] == first["context"] == new_paragraphs[sentence["paragraph"] - 1]  # one sentence
    assert data["byline"] == {"old": archive.stories["EDITED"].byline, "new": archive.stories["EDITED"].byline}
    stated = archive.stories["EDITED"].published
    assert data["updated"] == {"old": stated, "new": stated}
    assert invoke_json(archive.db, "diff", url, "1", "2") == data
    # Backwards, the correction added in v2 would read as deleted and the fix as undone: refused, as a
    # command-line mistake (exit 2), naming the order that works.
    reverse = invoke(archive.db, "diff", url, "2", "1", "--json")
    assert reverse.exit_code == 2 and reverse.stdout == ""
    assert reverse.stderr.strip().startswith("Error: version 2 (captured ")
    assert reverse.stderr.strip().endswith("give the earlier version first, 1 then 2")


# -- 3. URL identity ------------------------------------------------------------------------------

def test_log_finds_the_article_by_any_spelling_of_its_url(archive: Archive) -> None:
    url = archive.urls["EDITED"]
    assert url.startswith("http://localhost:")
    expected = invoke_json(archive.db, "log", url)
    assert len(expected) == 2
    variants = [
        url + "?utm_source=x&fbclid=y",
        url.replace("localhost", "LOCALHOST"),
        url.replace("http://localhost", "HTTP://LocalHost"),
        url + "#fragment",
        url.replace("localhost", "LOCALHOST") + "?fbclid=y&utm_source=x#top",
    ]
    for variant in variants:
        assert variant != url
        assert invoke_json(archive.db, "log", variant) == expected, variant
    assert invoke_json(archive.db, "show", variants[-1], "--version", "1")["url"] == url


# -- 4. errors ------------------------------------------------------------------------------------

def assert_one_line_error(done: subprocess.CompletedProcess[str], code: int, message: str) -> None:
    assert done.returncode == code, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr == f"Error: {message}\n"
    assert done.stdout == ""


def _run_all(calls: dict[str, tuple[tuple[str, ...], dict[str, Any]]]) -> dict[str, subprocess.CompletedProcess[str]]:
    """Independent child processes run side by side (each takes about a second to start)."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = {name: pool.submit(redline, *args, **kwargs) for name, (args, kwargs) in calls.items()}
        return {name: future.result() for name, future in futures.items()}


def test_errors_are_one_line_without_traceback(archive: Archive, tmp_path: Path) -> None:
    db, urls = archive.db, archive.urls
    unknown = archive.site.url("no/such/article")
    missing = tmp_path / "missing.db"
    crawl_db = tmp_path / "crawl.db"
    untouched = archive.site.url("never/fetched")
    calls: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
        "log-unknown": (("--db", db, "log", unknown), {}),
        "log-unknown-json": (("--db", db, "log", unknown, "--json"), {}),
        "show-99": (("--db", db, "show", urls["EDITED"], "--version", "99"), {}),
        "show-99-json": (("--db", db, "show", urls["EDITED"], "--version", "99", "--json"), {}),
        "diff-single": (("--db", db, "diff", urls["SINGLE"]), {}),
        "diff-single-json": (("--db", db, "diff", urls["SINGLE"], "--json"), {}),
        "crawl-not-url": (("--db", str(crawl_db), "crawl", "not-a-url"), {}),
        "crawl-no-file": (("--db", str(crawl_db), "crawl", "--urls-file", "/nonexistent"), {}),
        "crawl-bad-setting": (("--db", str(crawl_db), "crawl", "-s", "BADSETTING", untouched), {}),
        "crawl-nothing": (("--db", str(crawl_db), "crawl", "--urls-file", "-"), {"stdin": "# only a comment\n\n"}),
    }
    for command in ("list", "log", "show", "diff"):
        args = (command,) if command == "list" else (command, urls["EDITED"])
        calls[f"missing-{command}"] = (("--db", str(missing), *args), {})
    done = _run_all(calls)

    assert_one_line_error(done["log-unknown"], 1, f"no archived article for {unknown}; see 'redline list'")
    assert_one_line_error(done["log-unknown-json"], 1, f"no archived article for {unknown}; see 'redline list'")
    range_message = f"no version 99 of {urls['EDITED']}; it has versions 1 to 2"
    assert_one_line_error(done["show-99"], 1, range_message)
    assert_one_line_error(done["show-99-json"], 1, range_message)
    single = f"{urls['SINGLE']} has only 1 version(s); nothing to diff yet"
    assert_one_line_error(done["diff-single"], 1, single)
    assert_one_line_error(done["diff-single-json"], 1, single)
    for command in ("list", "log", "show", "diff"):
        assert_one_line_error(done[f"missing-{command}"], 1,
                              f"no archive at {missing}; run 'redline crawl URL' first or pass --db")
    assert not missing.exists(), "a view command created the archive it reported missing"

    assert_one_line_error(done["crawl-not-url"], 2, "not an http(s) URL: not-a-url; URLs must start with "
                          "http:// or https://, or give an article ID")
    assert_one_line_error(done["crawl-no-file"], 2, "cannot read URL file /nonexistent: No such file or directory")
    assert_one_line_error(done["crawl-bad-setting"], 2, "bad setting 'BADSETTING'; use -s NAME=VALUE")
    assert_one_line_error(done["crawl-nothing"], 2, "no URLs given; pass URLs or --urls-file FILE")
    assert not crawl_db.exists(), "a rejected crawl created an archive"
    assert archive.site.hits("/never/fetched") == 0


# -- 4b. view commands start without the ORM ------------------------------------------------------

@pytest.mark.parametrize("args", [("list",), ("log", "EDITED"), ("show", "EDITED"), ("diff", "EDITED"),
                                  ("diff", "EDITED", "1", "2", "--with-noise", "--format", "unified")])
def test_view_commands_never_import_the_orm(archive: Archive, args: tuple[str, ...]) -> None:
    """Importing sqlalchemy.orm and mapping the classes costs more than a view command's queries."""
    argv = [archive.urls.get(a, a) for a in args]
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "redline", "--db", archive.db, *argv],
                          capture_output=True, text=True, env=base_env(), timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "sqlalchemy" in imported and "archive.queries" in imported
    assert not {name for name in imported if name.startswith(("sqlalchemy.orm", "archive.store"))
                or name in ("archive.schema.models", "archive.schema.schedule_models")}


# -- 5. unified diff accepted by patch ------------------------------------------------------------

def test_unified_diff_applies_with_patch(archive: Archive, tmp_path: Path) -> None:
    patch = shutil.which("patch")
    if patch is None:
        pytest.fail("the 'patch' program is required for this test; install it (e.g. apt-get install patch)")
    url = archive.urls["EDITED"]
    old = invoke_json(archive.db, "show", url, "--version", "1")["text"]
    new = invoke_json(archive.db, "show", url, "--version", "2")["text"]
    result = invoke(archive.db, "diff", url, "--with-noise", "--format", "unified")
    assert result.exit_code == 0
    label = url.split("://", 1)[1]
    header, rest = result.stdout.split("\n--- ", 1)
    assert header.startswith(f"{url}: v1 (") and "\ntitle: " in header and "\nbyline: " in header
    assert ("--- " + rest).startswith(f"--- a/{label}@v1\n+++ b/{label}@v2\n@@ ")
    assert "-A mutual defense pact between North Korea and Russia entered into force Wednesday" in result.stdout
    assert f"+{CORRECTION}\n" in result.stdout and f"-{REMOVED}\n" in result.stdout

    target = tmp_path / "article.txt"
    target.write_text(old + "\n", "utf-8")
    (tmp_path / "change.patch").write_text(result.stdout, "utf-8")
    applied = subprocess.run([patch, "--batch", "--fuzz=0", "--no-backup-if-mismatch", "-i", "change.patch",
                              "article.txt"], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert target.read_text("utf-8") == new + "\n"
    assert not list(tmp_path.glob("*.rej"))


# -- 6. word diff, colour and NO_COLOR ------------------------------------------------------------

def run_in_pty(args: list[str], env: dict[str, str]) -> str:
    """Run the real command with stdout on a pseudo-terminal; return what it wrote there."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "redline", *args], stdin=subprocess.DEVNULL, stdout=slave,
                            stderr=subprocess.DEVNULL, env=env)
    os.close(slave)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 120)
            if not ready:
                proc.kill()
                pytest.fail(f"redline {' '.join(args)} produced no output on its terminal")
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
        proc.wait(timeout=60)
    assert proc.returncode == 0
    return b"".join(chunks).decode("utf-8")


def test_word_diff_plain_output_has_git_style_markers(archive: Archive) -> None:
    url = archive.urls["EDITED"]
    result = invoke(archive.db, "diff", url)
    assert result.exit_code == 0
    out = result.stdout
    assert "\x1b" not in out
    assert out.startswith(f"{url}: v1 (")
    assert "[-Wednesday-]{+Thursday+} after" in out
    assert f"[-{REMOVED}-]" in out and f"{{+{CORRECTION}+}}" in out
    assert f"\ntitle: {archive.v1_titles['EDITED']} {{+(updated)+}}\n" in out  # word by word
    assert "obligates both states" not in out  # unchanged paragraphs are left out

    with_no_color = CliRunner(env={"NO_COLOR": "1"}).invoke(cli, ["--db", archive.db, "diff", url],
                                                            catch_exceptions=False)
    assert with_no_color.stdout == out


def test_no_color_turns_off_colour_on_a_terminal(archive: Archive) -> None:
    args = ["--db", archive.db, "diff", archive.urls["EDITED"]]
    coloured = run_in_pty(args, base_env(TERM="xterm"))
    assert "\x1b[" in coloured and "Thursday" in coloured  # the terminal path really colours
    # ... and keeps the markers, so text copied from the terminal still shows the change
    assert "[-Wednesday-]" in coloured and "{+Thursday+}" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured).replace("\r\n", "\n").count("[-Wednesday-]{+Thursday+}") == 1
    plain = run_in_pty(args, base_env(TERM="xterm", NO_COLOR="1"))
    assert "\x1b" not in plain
    assert "[-Wednesday-]{+Thursday+} after" in plain


# -- 7. crawl summaries ---------------------------------------------------------------------------

def test_plain_crawl_summary_and_urls_file(archive: Archive) -> None:
    first = archive.first_crawl
    assert first.stdout == "tried 5  new articles 5 (first captures)  new versions 0  unchanged 0  failed 0 (gone 0)\n"
    for words in ("tried", "new articles", "new versions", "unchanged", "gone", "failed"):
        assert words in first.stdout
    assert "Traceback" not in first.stderr
    assert archive.site.hits(archive.commented_path) == 0  # commented-out lines are not fetched
    # "URL   # budget story": the comment is stripped, not fetched as ...%20%20%20
    assert archive.site.hits("/" + archive.stories["SINGLE"].slug + "%20%20%20") == 0
    assert not [r for r in archive.list_after_second if "%20" in r["url"]]
    for name, story in archive.stories.items():
        # crawl 1 plus crawl 2, plus crawl 3 for RESTORED; FAILING had one retry in crawl 2
        expected = {"RESTORED": 3, "FAILING": 3}.get(name, 2)
        assert archive.site.hits("/" + story.slug) == expected, name

    second = archive.second_crawl
    assert second["fetched"] == 5 and second["new_articles"] == 0 and second["new_versions"] == 1
    assert second["unchanged"] == 1 and second["failed"] == 3
    assert second["outcomes"] == {"failed": 1, "gone": 2, "new-version": 1, "unchanged": 1}


# -- 8. --db and REDLINE_DB -----------------------------------------------------------------------

def test_redline_db_env_is_used_when_db_option_is_absent(archive: Archive, tmp_path: Path) -> None:
    third = archive.third_crawl
    assert third.returncode == 0, third.stderr
    assert json.loads(third.stdout)["new_versions"] == 1
    assert archive.cwd_files_after_env_crawl == []  # no ./redline.db next to the user
    restored = invoke_json(archive.db, "log", archive.urls["RESTORED"])  # crawl 3 wrote to the env's archive
    assert [e["version"] for e in restored if "version" in e] == [1, 2]

    missing = tmp_path / "nowhere.db"
    done = _run_all({
        "env": (("list", "--json"), {"env": base_env(REDLINE_DB=archive.db), "cwd": tmp_path}),
        "option-wins": (("--db", archive.db, "list", "--json"), {"env": base_env(REDLINE_DB=str(missing)),
                                                                 "cwd": tmp_path}),
        "env-missing": (("list",), {"env": base_env(REDLINE_DB=str(missing)), "cwd": tmp_path}),
    })
    expected = invoke_json(archive.db, "list")
    assert done["env"].returncode == 0, done["env"].stderr
    assert json.loads(done["env"].stdout) == expected
    assert done["option-wins"].returncode == 0, done["option-wins"].stderr
    assert json.loads(done["option-wins"].stdout) == expected
    assert_one_line_error(done["env-missing"], 1,
                          f"no archive at {missing}; run 'redline crawl URL' first or pass --db")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# -- 9. article IDs, --db after the command, tables that fold ------------------------------------

def test_every_article_has_a_short_id_that_every_url_command_accepts(archive: Archive, tmp_path: Path) -> None:
    import hashlib

    listed = {r["url"]: r["id"] for r in invoke_json(archive.db, "list")}
    url = archive.urls["EDITED"]
    short = listed[url]
    assert short == hashlib.sha256(url.encode()).hexdigest()[:10]  # from the URL key alone: same in any archive
    assert len(set(listed.values())) == len(listed)
    assert invoke_json(archive.db, "log", short) == invoke_json(archive.db, "log", url)
    assert invoke_json(archive.db, "log", short[:6].upper()) == invoke_json(archive.db, "log", url)
    assert invoke_json(archive.db, "show", short, "--version", "1") == invoke_json(archive.db, "show", url,
                                                                                 "--version", "1")
    assert invoke_json(archive.db, "diff", short) == invoke_json(archive.db, "diff", url)
    out = tmp_path / "out"
    assert invoke(archive.db, "export", str(out), "--url", short, "--format", "jsonl").exit_code == 0
    exported = [json.loads(line) for line in (out / "redline.jsonl").read_text("utf-8").splitlines()]
    assert [e["url"] for e in exported] == [url]
    verified = invoke(archive.db, "verify", "--article", short)
    assert verified.exit_code == 0, verified.output
    missing = invoke(archive.db, "log", "abcdef0123")
    assert (missing.exit_code, missing.stderr) == (1, "Error: no article ID abcdef0123; see 'redline list'\n")


def test_list_on_a_narrow_terminal_folds_titles_but_never_breaks_a_url(archive: Archive) -> None:
    for columns in ("60", "300"):
        shown = run_in_pty(["--db", archive.db, "list"], base_env(TERM="xterm", NO_COLOR="", COLUMNS=columns))
        plain = re.sub(r"\x1b\[[0-9;]*m", "", shown).replace("\r", "")
        assert "…" not in plain and "│" in plain
        if columns == "300":  # wide enough: the table fits the terminal
            assert max(len(line) for line in plain.splitlines()) <= int(columns)
        for row in invoke_json(archive.db, "list"):  # each URL and ID whole on one line, to copy
            assert any(row["url"] in line for line in plain.splitlines()), (columns, row["url"], plain)
            assert any(row["id"] in line for line in plain.splitlines()), (columns, row["id"])


def test_db_may_follow_the_command(archive: Archive, tmp_path: Path) -> None:
    assert invoke_json(archive.db, "list") == json.loads(redline("list", "--db", archive.db, "--json").stdout)
    after = redline("log", archive.urls["EDITED"], "--json", "--db", archive.db, env=base_env(REDLINE_DB="nowhere.db"))
    assert after.returncode == 0 and json.loads(after.stdout) == invoke_json(archive.db, "log", archive.urls["EDITED"])
    leaves = [p for p in _all_commands() if not isinstance(_command(p), click.Group)]
    missing = [p for p in leaves if not any("--db" in getattr(param, "opts", ()) for param in _command(p).params)]
    assert leaves and not missing, missing


def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    for part in path:
        assert isinstance(command, click.Group)
        command = command.commands[part]
    return command


# -- 10. exit codes: 2 for a malformed command line, 1 for not found or failed -------------------

def _exit_cases(archive: Archive, tmp: Path) -> list[tuple[str, tuple[str, ...], int]]:
    db, url = archive.db, archive.urls["EDITED"]
    fresh = str(tmp / "fresh.db")
    (tmp / "file").write_text("x", "utf-8")
    unknown = archive.site.url("no/such/article")
    return [
        ("crawl", (fresh, "crawl", "not a url"), 2),
        ("list", (db, "list", "--changed-since", "someday"), 2),
        ("list", (str(tmp / "none.db"), "list"), 1),
        ("log", (db, "log", "not a url"), 2),
        ("log", (db, "log", unknown), 1),
        ("show", (db, "show", url, "--version", "x"), 2),
        ("show", (db, "show", url, "--version", "99"), 1),
        ("diff", (db, "diff", url, "one"), 2),
        ("diff", (db, "diff", "abcdef0123"), 1),
        ("demo", (db, "demo", "--bogus"), 2),
        ("reextract", (db, "reextract", unknown), 1),
        ("renoise", (db, "renoise", url, "--site", "localhost"), 2),
        ("renoise", (db, "renoise", unknown), 1),
        ("ignore add", (fresh, "ignore", "add", "example.com", "("), 2),
        ("ignore remove", (db, "ignore", "remove", "example.com", "nothing"), 1),
        ("ignore list", (db, "ignore", "list", "--bogus"), 2),
        ("ignore list", (str(tmp / "none.db"), "ignore", "list"), 1),
        ("site set", (fresh, "site", "set", "http://example.com/", "--render", "js"), 2),
        ("site set", (fresh, "site", "set", "example.com"), 2),
        ("site set", (fresh, "site", "set", "example.com", "--render", "sometimes"), 2),
        ("site unset", (db, "site", "unset", "example.com"), 1),
        ("site list", (str(tmp / "none.db"), "site", "list"), 1),
        ("ignore forget", (db, "ignore", "forget", "localhost"), 2),
        ("export", (db, "export", str(tmp / "file")), 2),
        ("export", (db, "export", str(tmp / "out"), "--url", unknown), 1),
        ("import", (fresh, "import", str(tmp), "--url", "ftp://x/"), 2),
        ("cite", (db, "cite", url, "-o", str(tmp / "x.txt")), 2),
        ("cite", (db, "cite", unknown, "-o", str(tmp / "x.wacz")), 1),
        ("verify", (db, "verify", "--article", "not a url"), 2),
        ("verify", (db, "verify", "--article", unknown), 1),
        ("schedule add", (fresh, "schedule", "add", "job", "--cron", "x y"), 2),
        ("schedule add", (fresh, "schedule", "add", "bad name!", "--every", "1h"), 2),
        ("schedule list", (str(tmp / "none.db"), "schedule", "list"), 1),
        ("schedule remove", (db, "schedule", "remove", "nosuch"), 1),
        ("schedule edit", (db, "schedule", "edit", "nosuch", "--every", "1h"), 1),
        ("schedule edit", (db, "schedule", "edit", "nosuch", "--every", "soon"), 2),
        ("search", (db, "search", "-.-"), 2),
        ("repack", (db, "repack", "--batch", "0"), 2),
        ("screenshot", (db, "screenshot"), 2),
        ("screenshot", (db, "screenshot", unknown), 1),
        ("repack", (str(tmp / "none.db"), "repack"), 1),
        ("search", (str(tmp / "none.db"), "search", "treaty"), 1),
        ("schedule pause", (db, "schedule", "pause"), 2),
        ("schedule pause", (db, "schedule", "pause", "nosuch"), 1),
        ("schedule resume", (db, "schedule", "resume", "nosuch"), 1),
        ("schedule run", (db, "schedule", "run", "nosuch"), 1),
        ("schedule edit", (db, "schedule", "edit", "nosuch", "--every", "1h"), 1),
        ("scheduler", (fresh, "scheduler", "--run-timeout", "soon"), 2),
        ("runs", (db, "runs", "--limit", "0"), 2),
        ("runs", (db, "runs", "--job", "nosuch"), 1),
        ("due", (db, "due", "--limit", "0"), 2),
        ("due", (db, "due", "nosuch"), 1),
        ("worker", (fresh, "worker", "--batch-size", "0"), 2),
        ("worker", (fresh, "worker"), 1),  # needs PostgreSQL
        ("alert add", (fresh, "alert", "add", "desk", "--to", "json://127.0.0.1:9/h", "--kinds", "nonsense"), 2),
        ("alert remove", (db, "alert", "remove", "nosuch"), 1),
        ("alert pause", (db, "alert", "pause", "nosuch"), 1),
        ("alert resume", (db, "alert", "resume", "nosuch"), 1),
        ("alert test", (db, "alert", "test", "nosuch"), 1),
        ("alert log", (db, "alert", "log", "--limit", "0"), 2),
        ("alert list", (db, "alert", "list", "--bogus"), 2),
        ("alert list", (str(tmp / "none.db"), "alert", "list"), 1),
        ("alert send", (db, "alert", "send", "--bogus"), 2),
        ("alert send", (str(tmp / "none.db"), "alert", "send"), 1),
        ("serve", (db, "serve", "--port", "99999"), 2),
        ("serve", (str(tmp / "none.db"), "serve", "--port", "0"), 1),
    ]


def test_exit_status_rule_holds_for_every_command(archive: Archive, tmp_path: Path) -> None:
    cases = _exit_cases(archive, tmp_path)
    leaves = {" ".join(p) for p in _all_commands() if not isinstance(_command(p), click.Group)}
    assert leaves <= {name for name, _, _ in cases} | {"crawl"}, leaves - {name for name, _, _ in cases}
    for name, (db, *args), code in cases:
        result = CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=False)
        assert result.exit_code == code, (name, args, result.exit_code, result.output)
        assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, (name, result.stderr)
        assert "Usage:" not in result.stderr and "Traceback" not in result.stderr


# -- 11. small ones -------------------------------------------------------------------------------

def test_small_rough_edges(archive: Archive, tmp_path: Path) -> None:
    db = str(tmp_path / "rules.db")
    added = invoke(db, "ignore", "add", "www.example.com", "^Listen")
    assert added.exit_code == 0 and added.stdout.startswith("added rule for www.example.com: ^Listen")
    url = archive.urls["EDITED"]
    declared = invoke(archive.db, "log", url, "--declared")
    assert declared.exit_code == 0 and declared.stdout.startswith("no declared updates among the versions of")
    help_text = invoke(db, "schedule", "--help").stdout
    assert help_text.count("redline schedule list") == 1
    assert invoke(db, "schedule", "add", "one", "--every", "1h", "--feed", "https://example.com/rss").exit_code == 0
    listed = invoke(db, "schedule", "list").stdout
    assert "1 feed" in listed and "1 feeds" not in listed
    log = invoke(archive.db, "log", url).stdout
    assert "words (all)" in log and "words (noise excluded)" in log


def test_runs_and_due_print_times_as_every_other_view_does(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from archive.capture import Capture, Extracted, Found
    from archive.schema.db import open_engine
    from archive.store.facade import Archive
    from archive.watch import runs, schedules

    db, url = str(tmp_path / "runs.db"), "https://news.example/world/talks"
    engine = open_engine(f"sqlite:///{db}", writer=True, must_exist=False)
    try:
        run_id = runs.start(engine, "nightly", None)
        runs.finish(engine, run_id, "ok", {"fetched": 1})
        assert invoke(db, "schedule", "add", "nightly", "--every", "1h", "--feed", "https://news.example/rss").exit_code == 0
        schedules.track(engine, "nightly", [Found(url, "feed")], datetime.now(UTC))
        text = ("Negotiators met for the third round of talks in the capital on Wednesday evening, and the "
                "delegations discussed border crossings, trade quotas and fishing rights until late.")
        Archive(engine).record(Capture(url, datetime.now(UTC), final_url=url, status=200, body=b"<p>1</p>"),
                               Extracted(text, title="Talks resume", extractor="test"))
    finally:
        engine.dispose()
    shown = invoke(db, "runs").stdout.splitlines()[1].split("\t")
    assert all(ISO_Z.match(cell) for cell in shown[2:4]), shown
    due = invoke(db, "due").stdout.splitlines()
    assert len(due) == 2, due  # the header and the one tracked article, checked just now: due in 15 minutes
    when, job, tracked, _, checked = due[1].split("\t")
    assert (job, tracked) == ("nightly", url) and ISO_Z.match(when) and ISO_Z.match(checked), due
    assert "+00:00" not in invoke(db, "runs").stdout + "\n".join(due)


# -- 12. one-line errors for databases that cannot be opened --------------------------------------

def test_bad_databases_are_one_line_errors(tmp_path: Path) -> None:
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a database, just some words\n" * 20, "utf-8")
    done = _run_all({
        "dialect": (("--db", "notadialect://foo", "list"), {}),
        "driver": (("--db", "mysql://user@localhost/db", "list"), {}),
        "not-sqlite": (("--db", str(text_file), "list"), {}),
    })
    assert_one_line_error(done["dialect"], 2, "unknown database type 'notadialect' in notadialect://foo; give a "
                                              "SQLite file path or a postgresql+psycopg:// URL")
    assert_one_line_error(done["driver"], 2, "no driver for mysql://user@localhost/db (No module named 'MySQLdb'); "
                                             "Redline archives are SQLite files or postgresql+psycopg:// URLs")
    assert_one_line_error(done["not-sqlite"], 1, f"cannot open the archive {text_file}: file is not a database; "
                                                 "point --db at a Redline archive")


def test_the_archive_file_alone_holds_what_a_command_wrote(tmp_path: Path, site: FakeSite, urls: list[str]) -> None:
    """``redline`` leaves without the interpreter's teardown, but closes its connections first: the last
    one checkpoints SQLite's write-ahead log, so copying the .db file alone loses nothing."""
    from tests.conftest import FAST, run_redline

    db = str(tmp_path / "a.db")
    settings = [a for name, value in FAST.items() for a in ("-s", f"{name}={value}")]
    for args in (["crawl", *settings, urls[0]], ["schedule", "add", "watch", "--every", "1h", urls[1]]):
        done = run_redline(db, *args)
        assert done.returncode == 0, done.stderr
        copy = tmp_path / "copy.db"
        shutil.copyfile(db, copy)
        with sqlite3.connect(copy) as conn:
            counts = conn.execute("SELECT (SELECT count(*) FROM versions), (SELECT count(*) FROM schedules)").fetchone()
        assert counts == (1, int(args[0] == "schedule")), (args[0], counts)
        copy.unlink()
