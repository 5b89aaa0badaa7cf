"""Round trips: every archive format ``export`` writes comes back whole through ``import``.

A seeded random archive is built by real crawls of the fake site (word edits, a headline change, a page
that goes 404 or 410 and comes back, ignore rules, a learned site template, versions ``renoise``
recovered), exported in each format, imported into an empty archive, and every article's
``log --json --events`` compared on what that format carries (README's export format table).
``REDLINE_ROUNDTRIP_SEEDS=1,2,3`` runs more random archives; the default is one, to stay fast.
"""
from __future__ import annotations

import json
import os
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from redline.fakesite import FakeSite, Story, load_stories
from tests.conftest import crawl, invoke, invoke_json

SEEDS = [int(s) for s in os.environ.get("REDLINE_ROUNDTRIP_SEEDS", "20261206").split(",")]
WORDS = ["harbour", "minister", "quietly", "revised", "forty", "treaty", "border", "council", "winter", "ledger"]
NOT_REFRESHED = {"REDLINE_CONDITIONAL": "False", "REDLINE_RENDER": "never"}  # the app shell below stays one
APP_SHELL = "<html><body><div id='root'></div><script src='/app.js'></script></body></html>"


@dataclass
class Source:
    """A crawled archive and what it holds."""

    db: str
    ids: list[str]
    seed: int


def _edit_word(rng: random.Random, story: Story) -> int:
    """Replace one word of one paragraph with a word the story does not have there; which paragraph."""
    i = rng.randrange(len(story.paragraphs))
    words = story.paragraphs[i].split()
    k = rng.randrange(2, len(words)) if len(words) > 2 else 0  # its first two words stay: see the late rule
    words[k] = rng.choice([w for w in WORDS if w != words[k]])
    story.paragraphs[i] = " ".join(words)
    return i


def _build(db: str, seed: int) -> list[str]:
    rng = random.Random(seed)
    site = FakeSite(frozen=True).start()
    try:
        stories = load_stories()
        urls = [site.add(story) for story in stories]
        host = urls[0].split("/")[2].split(":")[0]
        edited, gone, hidden = rng.sample(range(len(stories)), 3)
        broken = min(set(range(len(stories))) - {edited, gone, hidden})  # answers 200 with no article, once
        site.template_block = f"Sign up for the morning briefing, edition {rng.randrange(1000)}."
        assert crawl(db, *urls, settings=NOT_REFRESHED)["new_articles"] == len(urls)
        for pattern in ("^Sponsored:", "^Promoted:"):
            assert invoke(db, "ignore", "add", host, pattern).exit_code == 0

        edit = _edit_word(rng, stories[edited])  # a real edit beside a line a rule hides: its word counts need the rule
        stories[edited].paragraphs.append(f"Sponsored: {' '.join(rng.sample(WORDS, 4))}.")
        site.set_status(stories[gone].slug, rng.choice([404, 410]))
        site.set_status(stories[broken].slug, 200, body=APP_SHELL)
        stories[hidden].paragraphs.append(f"Promoted: offer {rng.randrange(1000)} for our readers.")
        crawl(db, *urls, settings=NOT_REFRESHED)

        site.set_status(stories[gone].slug, 200)
        site.set_status(stories[broken].slug, 200)
        if rng.random() < 0.5:
            _edit_word(rng, stories[gone])
        if rng.random() < 0.5:
            stories[edited].title += " (updated)"
        else:
            _edit_word(rng, stories[edited])
        stories[hidden].paragraphs[-1] = f"Promoted: offer {rng.randrange(1000, 2000)} for our readers."
        # a block every page changes at once: learned as the site's template (five articles, one batch)
        site.template_block = f"Sign up for the morning briefing, edition {rng.randrange(1000, 2000)}."
        crawl(db, *urls, settings=NOT_REFRESHED)

        # the rule hid real changes: without it, renoise recovers them as versions marked recovered
        assert invoke(db, "ignore", "remove", host, "^Promoted:").exit_code == 0
        assert invoke(db, "renoise", urls[hidden]).exit_code == 0
        # a rule added after the fact hides that edit today: the versions recorded before keep their change
        late = "^" + re.escape(" ".join(stories[edited].paragraphs[edit].split()[:2]))
        assert invoke(db, "ignore", "add", host, late).exit_code == 0
    finally:
        site.stop()
    return [a["id"] for a in invoke_json(db, "list")]


@pytest.fixture(scope="module", params=SEEDS)
def source(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Source]:
    db = str(tmp_path_factory.mktemp(f"roundtrip-{request.param}") / "source.db")
    ids = _build(db, request.param)
    logs = [invoke_json(db, "log", i, "--events") for i in ids]
    entries = [e for log in logs for e in log]
    # the random archive holds what a round trip must keep, or this test proves little
    assert {"gone", "restored", "extract-failed"} <= {e.get("event") for e in entries}, entries
    assert any(e.get("change") and e["change"]["kinds"] for e in entries)
    assert _recovered(db), "renoise recovered no version"
    assert _site_facts(db)[0] and _site_facts(db)[1], "no ignore rule or no learned template"
    yield Source(db, ids, request.param)


def _site_facts(db: str) -> tuple[Any, Any]:
    """The ignore rules and the learned templates, with their evidence."""
    return invoke_json(db, "ignore", "list"), invoke_json(db, "ignore", "list", "--learned")


def _bodies(db: str) -> list[Any]:
    """(URL key, capture second, raw body sha256, status) of every fetch that kept its body."""
    return _rows(db, "SELECT a.key, substr(f.fetched_at, 1, 19), f.body_sha256, f.status FROM fetches f "
                     "JOIN articles a ON a.id = f.article_id WHERE f.body_sha256 IS NOT NULL ORDER BY 1, 2, 3")


def _event_fetches(db: str) -> list[Any]:
    """(URL key, event, second, HTTP status, error) of the fetch behind each event."""
    return _rows(db, "SELECT a.key, e.kind, substr(e.at, 1, 19), f.status, f.error FROM events e "
                     "JOIN articles a ON a.id = e.article_id JOIN fetches f ON f.id = e.fetch_id ORDER BY 1, 3, 2")


def _rows(db: str, sql: str) -> list[Any]:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        found = [tuple(row) for row in conn.execute(text(sql))]
    engine.dispose()
    return found


def _recovered(db: str) -> list[Any]:
    return _rows(db, "SELECT a.key, v.number, substr(v.recovered_at, 1, 19) FROM versions v "
                     "JOIN articles a ON a.id = v.article_id WHERE v.recovered_at IS NOT NULL ORDER BY 1, 2")


def _versions_only(log: list[dict[str, Any]], keep: Callable[[dict[str, Any]], Any]) -> list[Any]:
    return [keep(e) if "version" in e else e for e in log]


def _without_change(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k != "change"}


def _by_time(log: list[dict[str, Any]]) -> list[Any]:
    """A WARC keeps captures, not recording order: versions by capture time, without numbers or changes; a
    failed page's reason without what it says of the crawl (its render mode), which a WARC does not keep."""
    def kept(e: dict[str, Any]) -> dict[str, Any]:
        e = {k: v for k, v in e.items() if k not in ("version", "change")}
        if e.get("event") == "extract-failed":
            e["detail"] = e["detail"].split("; this crawl")[0]
        return e
    return sorted(json.dumps(kept(e), sort_keys=True) for e in log)


# What each format carries (README, "Export and import"): a log as far as the format can rebuild it.
CARRIED: dict[str, Callable[[list[dict[str, Any]]], Any]] = {
    "jsonl": lambda log: log,
    "md": lambda log: log,
    "txt": lambda log: _versions_only(log, _without_change),  # the change is recomputed by the importer
    "warc": _by_time,
}


@pytest.mark.parametrize("fmt", list(CARRIED))
def test_export_then_import_keeps_what_the_format_carries(source: Source, tmp_path: Path, fmt: str) -> None:
    out, fresh = tmp_path / "out", str(tmp_path / "fresh.db")
    assert invoke(source.db, "export", str(out), "--format", fmt, "--all-versions").exit_code == 0
    result = invoke(fresh, "import", str(out), "--json")
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)
    assert counts["skipped"] == 0 and counts["imported"] > 0, (source.seed, counts)
    for article in source.ids:
        before = invoke_json(source.db, "log", article, "--events")
        after = invoke_json(fresh, "log", article, "--events")
        assert CARRIED[fmt](after) == CARRIED[fmt](before), (source.seed, fmt, article)
    if fmt != "warc":  # a WARC holds captures, not the archive's rules
        assert _site_facts(fresh) == _site_facts(source.db), source.seed
    if fmt in ("md", "jsonl"):
        assert _recovered(fresh) == _recovered(source.db), source.seed
    if fmt != "warc":  # the history file: every event's fetch comes back with its status and why
        assert _event_fetches(fresh) == _event_fetches(source.db), source.seed
    assert invoke_json(fresh, "verify")["imported"] == counts["imported"]
    again = json.loads(invoke(fresh, "import", str(out), "--json").stdout)
    assert again["imported"] == again["events"] == again["rules"] == again["templates"] == 0, again


# -- saved pages ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def saved_page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Story]:
    story = load_stories()[0]
    site = FakeSite(frozen=True).start()
    try:
        url = site.add(story)
        _status, _headers, body = site.respond("/" + story.slug, {})
    finally:
        site.stop()
    page = tmp_path_factory.mktemp("page") / "story.html"
    page.write_bytes(body)
    os.utime(page, (0, 0))  # an mtime of 1970: nothing may take it as the capture time
    return page, Story(**{**story.__dict__, "slug": url})


def test_html_page_needs_captured_at_and_never_takes_the_file_time(saved_page: tuple[Path, Story],
                                                                   tmp_path: Path) -> None:
    page, story = saved_page
    db = str(tmp_path / "a.db")
    result = invoke(db, "import", str(page), "--url", story.slug)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("Error: ") and "--captured-at" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not Path(db).exists() or invoke_json(db, "list") == []


def test_html_page_is_extracted_at_the_given_time_and_marked_imported(saved_page: tuple[Path, Story],
                                                                      tmp_path: Path) -> None:
    page, story = saved_page
    db = str(tmp_path / "a.db")
    result = invoke(db, "import", str(page), "--url", story.slug, "--captured-at", "2024-12-05T09:30Z")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("imported 1 versions")
    [entry] = invoke_json(db, "log", story.slug)
    assert entry["captured_at"] == "2024-12-05T09:30:00Z" and entry["title"] == story.title
    shown = invoke(db, "show", story.slug).stdout
    assert story.paragraphs[0][:60] in shown
    assert not re.search(r"<(html|body|p|div|script)\b", shown)  # the extractor's text, never the markup
    assert invoke_json(db, "verify")["imported"] == 1
    assert "imported from files" in invoke(db, "verify").stdout


def test_warc_export_imports_back_with_raw_captures(source: Source, tmp_path: Path) -> None:
    out, fresh = tmp_path / "out", str(tmp_path / "fresh.db")
    invoke(source.db, "export", str(out), "--format", "warc", "--all-versions")
    result = invoke(fresh, "import", str(out / "redline.warc.gz"))
    assert result.exit_code == 0 and "not UTF-8" not in result.stderr, result.output
    before = sum(len([e for e in invoke_json(source.db, "log", i) if "version" in e]) for i in source.ids)
    assert result.stdout.startswith(f"imported {before} versions")
    # the raw pages came back, every one at its time, as pages the extractor reads again
    assert _bodies(fresh) == _bodies(source.db)
    reextracted = invoke(fresh, "reextract", "--json")
    assert reextracted.exit_code == 0, reextracted.output
    summary = json.loads(reextracted.stdout)
    assert summary["checked"] == len(source.ids) and summary["failed"] == 0, summary
    cited = invoke(fresh, "cite", source.ids[0], "-o", str(tmp_path / "c.wacz"), "--json")
    assert json.loads(cited.stdout)["imported"] == ["warc"]
