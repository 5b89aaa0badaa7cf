"""``redline export`` (txt, md, jsonl, warc) and ``redline import``, against a real archive.

One archive is built once for the module from real crawls of the loopback site, frozen so that
re-fetches return byte-identical pages:

* crawl 1 and crawl 2 (conditional requests off): all five stories; crawl 2 changes nothing, so its
  bodies are identical to crawl 1's (WARC revisits);
* EDITED gets a word fix, then crawl 3 of EDITED alone makes its version 2.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from warcio.archiveiterator import ArchiveIterator

from archive.capture import Capture, Extracted
from archive.exports.files import RESERVED
from archive.exports.history import HISTORY_NAME
from archive.exports.text import FRONT_MATTER_KEYS
from archive.queries.bodies import BodyReader
from archive.queries.reading import read_text
from archive.schema import models as m
from archive.schema.db import open_engine
from archive.store.facade import Archive
from redline.cli import cli
from redline.fakesite import FakeSite, load_stories
from tests.conftest import crawl

SEEDS = Path(__file__).with_name("seeds")  # copies of ../shared/seeds: earlier archives' snapshots
PATH_RE = re.compile(r"^127\.0\.0\.1_\d+/[a-z0-9-]+-[0-9a-f]{16}/v\d{4}-\d{8}T\d{6}Z\.(txt|md)$")
JSONL_KEYS = ["schema_version", "url", "canonical_url", "version", "captured_at", "title", "byline", "description",
              "language", "published", "updated", "site_name", "extractor", "sha256", "words", "change_kinds",
              "drift", "text", "fetched_url", "from_other_url",
              # added in schema_version 1 for round trips (README's format table)
              "added_words", "removed_words", "declared", "reverts_to", "recovered_at", "imported"]
REVISIT_1_1 = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
NOT_REFRESHED = {"REDLINE_CONDITIONAL": "False"}


@dataclass
class Built:
    db: str
    urls: list[str]
    edited: str


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    db = str(tmp_path_factory.mktemp("export") / "archive.db")
    site = FakeSite(frozen=True).start()
    stories = load_stories()
    stories[0].states_modified = False  # its edit is undeclared: the page states no update time at all
    urls = [site.add(story) for story in stories]
    try:
        assert crawl(db, *urls, settings=NOT_REFRESHED)["new_articles"] == 5
        assert crawl(db, *urls, settings=NOT_REFRESHED)["unchanged"] == 5
        stories[0].paragraphs[0] = stories[0].paragraphs[0].replace("Wednesday", "Thursday")
        assert crawl(db, urls[0], settings=NOT_REFRESHED)["new_versions"] == 1
        yield Built(db, urls, urls[0])
    finally:
        site.stop()


def run(db: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=False)


def ok(db: str, *args: str) -> Result:
    result = run(db, *args)
    assert result.exit_code == 0, result.output
    return result


def files_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def version_files(root: Path) -> dict[str, bytes]:
    """The exported versions' files, without the history file beside them."""
    return {rel: data for rel, data in files_of(root).items() if rel != HISTORY_NAME}


def versions_of(db: str) -> dict[tuple[str, int], tuple[str, datetime, str | None, str]]:
    """(article key, number) -> (sha256, captured_at, title, text) for every version."""
    engine = create_engine(f"sqlite:///{db}")
    with Session(engine) as session:
        rows = session.execute(select(m.Article.key, m.Version).join(m.Version)).all()
        found = {(key, v.number): (v.text_sha256, v.captured_at, v.title, read_text(session, v)) for key, v in rows}
    engine.dispose()
    return found


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- txt, md, jsonl ---------------------------------------------------------------------------------

def test_txt_export_writes_latest_text_with_url_footer(built: Built, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = ok(built.db, "export", str(out))
    assert result.stdout.startswith("exported 5 versions as txt")
    assert (out / HISTORY_NAME).is_file()
    files = version_files(out)
    assert len(files) == 5 and all(PATH_RE.match(p) for p in files), list(files)
    latest = {key: v for (key, n), v in versions_of(built.db).items() if n == (2 if key == built.edited else 1)}
    for rel, data in files.items():
        text = data.decode("utf-8")
        body, footer = text.rsplit("\n\nOriginal url:\n", 1)
        url, fields = footer.split("\n\n", 1)
        assert "\r" not in text
        assert sha(body) == latest[url][0]
        lines = fields.splitlines()
        assert lines[0] == f"Title: {latest[url][2]}" and lines[-1].startswith("Captured at: ")
        assert _z(lines[-1].removeprefix("Captured at: ")) == latest[url][1].replace(microsecond=0)
    edited = [p for p, d in files.items() if f"\n{built.edited}\n\n" in d.decode()]
    assert len(edited) == 1 and "/v0002-" in edited[0]


def _z(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def test_md_export_front_matter_matches_each_version(built: Built, tmp_path: Path) -> None:
    out = tmp_path / "out"
    ok(built.db, "export", str(out), "--format", "md", "--all-versions")
    files = version_files(out)
    versions = versions_of(built.db)
    assert len(files) == len(versions) == 6 and all(PATH_RE.match(p) for p in files)
    for data in files.values():
        head, body = data.decode("utf-8").split("\n---\n\n", 1)
        meta = yaml.safe_load(head.removeprefix("---\n"))
        assert list(meta) == list(FRONT_MATTER_KEYS)
        digest, captured, title, text = versions[(meta["url"], meta["version"])]
        assert body == text + "\n" and meta["sha256"] == digest == sha(text)
        assert meta["title"] == title and meta["captured_at"] == captured.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert meta["extractor"].startswith("trafilatura")


def test_jsonl_export_one_object_per_version_with_schema_version(built: Built, tmp_path: Path) -> None:
    ok(built.db, "export", str(tmp_path / "all"), "--format", "jsonl", "--all-versions")
    assert sorted(os.listdir(tmp_path / "all")) == [HISTORY_NAME, "redline.jsonl"]
    lines = (tmp_path / "all" / "redline.jsonl").read_text("utf-8").split("\n")
    assert lines[-1] == ""
    records = [json.loads(line) for line in lines[:-1]]
    assert len(records) == 6 and all(list(r) == JSONL_KEYS and r["schema_version"] == 1 for r in records)
    assert [(r["url"], r["version"]) for r in records] == sorted(versions_of(built.db))
    assert all(r["sha256"] == sha(r["text"]) for r in records)

    ok(built.db, "export", str(tmp_path / "one"), "--format", "jsonl", "--url", built.edited)
    one = [json.loads(line) for line in (tmp_path / "one" / "redline.jsonl").read_text("utf-8").splitlines()]
    assert [(r["url"], r["version"]) for r in one] == [(built.edited, 2)]
    ok(built.db, "export", str(tmp_path / "none"), "--format", "jsonl", "--since", "2999-01-01")
    assert (tmp_path / "none" / "redline.jsonl").read_bytes() == b""


@pytest.mark.parametrize("fmt", ["txt", "md", "jsonl"])
def test_round_trip_into_a_fresh_archive_keeps_text_hashes(built: Built, tmp_path: Path, fmt: str) -> None:
    out, fresh = tmp_path / "out", str(tmp_path / "fresh.db")
    ok(built.db, "export", str(out), "--format", fmt, "--all-versions")
    result = ok(fresh, "import", str(out))
    assert result.stdout.strip() == "imported 6 versions, unchanged 0, skipped 0" and result.stderr == ""
    before, after = versions_of(built.db), versions_of(fresh)
    assert {k: v[0] for k, v in after.items()} == {k: v[0] for k, v in before.items()}
    for key, (_digest, captured, title, _text) in after.items():
        assert captured == before[key][1].replace(microsecond=0)
        assert title == before[key][2]  # txt too: the footer carries it
    original = json.loads(ok(built.db, "log", built.edited, "--json").stdout)[-1]["change"]
    imported = json.loads(ok(fresh, "log", built.edited, "--json").stdout)[-1]["change"]
    assert (original["undeclared"], original["stealth"], original["declared"]) == (True, False, False)
    # A txt file that has no "Updated:" line cannot tell whether the page stated one: nothing is claimed.
    claims = (imported["undeclared"], imported["stealth"], imported["declared"])
    assert claims == ((False, False, False) if fmt == "txt" else (True, False, False))
    again = ok(fresh, "import", str(out))
    assert again.stdout.strip() == "imported 0 versions, unchanged 6, skipped 0"
    assert versions_of(fresh).keys() == after.keys()


def test_exports_are_deterministic_and_idempotent(built: Built, tmp_path: Path) -> None:
    for fmt in ("txt", "md", "jsonl", "warc"):
        first, second = tmp_path / f"{fmt}-1", tmp_path / f"{fmt}-2"
        ok(built.db, "export", str(first), "--format", fmt, "--all-versions")
        snapshot = files_of(first)
        ok(built.db, "export", str(first), "--format", fmt, "--all-versions")
        ok(built.db, "export", str(second), "--format", fmt, "--all-versions")
        assert files_of(first) == snapshot == files_of(second), fmt
        assert snapshot and not any(".tmp" in name for name in snapshot)


# -- warc -------------------------------------------------------------------------------------------

def read_warc(path: Path) -> list[tuple[Any, bytes]]:
    with path.open("rb") as fh:
        return [(r, r.content_stream().read()) for r in ArchiveIterator(fh)]


def warcio_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from warcio.cli import main; main()", "check", "-v", str(path)],
                          capture_output=True, text=True, timeout=60, check=False)


def test_warc_all_versions_has_responses_requests_revisits_and_conversions(built: Built, tmp_path: Path) -> None:
    out = tmp_path / "out"
    ok(built.db, "export", str(out), "--format", "warc", "--all-versions")
    assert sorted(os.listdir(out)) == ["redline.cdxj", "redline.warc.gz"]
    records = read_warc(out / "redline.warc.gz")
    assert Counter(r.rec_type for r, _ in records) == {
        "warcinfo": 1, "response": 6, "revisit": 5, "request": 11, "conversion": 6}
    assert records[0][0].rec_type == "warcinfo"
    assert all(r.rec_headers.protocol == "WARC/1.1" for r, _ in records)
    by_id = {r.rec_headers.get_header("WARC-Record-ID"): (r, body) for r, body in records}
    engine = create_engine(f"sqlite:///{built.db}")
    with Session(engine) as session:
        reader = BodyReader(session)
        bodies = {sha: reader.read(sha) for sha in session.scalars(select(m.Body.sha256))}
    engine.dispose()

    for record, payload in records:
        kind, headers = record.rec_type, record.http_headers
        if kind == "response":
            assert headers.get_statuscode() == "200"
            assert int(headers.get_header("Content-Length")) == len(payload) > 0
            assert headers.get_header("Content-Encoding") is None and headers.get_header("Transfer-Encoding") is None
            assert hashlib.sha256(payload).hexdigest() in bodies
        elif kind == "revisit":
            assert record.rec_headers.get_header("WARC-Profile") == REVISIT_1_1
            original, original_payload = by_id[record.rec_headers.get_header("WARC-Refers-To")]
            assert original.rec_type == "response" and payload == b""
            for name in ("WARC-Target-URI", "WARC-Payload-Digest"):
                assert record.rec_headers.get_header(name) == original.rec_headers.get_header(name)
            assert record.rec_headers.get_header("WARC-Refers-To-Date") == original.rec_headers.get_header("WARC-Date")
            assert int(headers.get_header("Content-Length")) == len(original_payload)
            assert record.rec_headers.get_header("WARC-Date") > original.rec_headers.get_header("WARC-Date")
        elif kind == "request":
            concurrent, _ = by_id[record.rec_headers.get_header("WARC-Concurrent-To")]
            assert concurrent.rec_type in ("response", "revisit")
            assert record.rec_headers.get_header("WARC-Target-URI") == concurrent.rec_headers.get_header(
                "WARC-Target-URI")
            assert headers.protocol == "GET" and headers.get_header("Host", "").startswith("127.0.0.1:")
            assert headers.get_header("Cookie") is None and headers.get_header("Authorization") is None
        elif kind == "conversion":
            source, _ = by_id[record.rec_headers.get_header("WARC-Refers-To")]
            assert source.rec_type == "response"
            assert record.rec_headers.get_header("WARC-Target-URI") == source.rec_headers.get_header("WARC-Target-URI")
            assert record.rec_headers.get_header("Content-Type") == "text/plain; charset=utf-8"
    texts = sorted(sha(body.decode("utf-8")) for r, body in records if r.rec_type == "conversion")
    assert texts == sorted(v[0] for v in versions_of(built.db).values())

    checked = warcio_check(out / "redline.warc.gz")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("digest pass") == len(records) - 5
    assert checked.stdout.count("digest present but not checked (revisit)") == 5

    lines = (out / "redline.cdxj").read_text("utf-8").splitlines()
    assert len(lines) == 11 and lines == sorted(lines)
    raw = (out / "redline.warc.gz").read_bytes()
    for line in lines:
        entry = json.loads(line.split(" ", 2)[2])
        start = int(entry["offset"])
        record = next(iter(ArchiveIterator(io.BytesIO(raw[start:start + int(entry["length"])]))))
        assert record.rec_type in ("response", "revisit") and entry["filename"] == "redline.warc.gz"
        assert record.rec_headers.get_header("WARC-Target-URI") == entry["url"]


def test_warc_default_has_the_latest_versions_captures_only(built: Built, tmp_path: Path) -> None:
    out = tmp_path / "out"
    ok(built.db, "export", str(out), "--format", "warc")
    records = read_warc(out / "redline.warc.gz")
    assert Counter(r.rec_type for r, _ in records) == {"warcinfo": 1, "response": 5, "request": 5, "conversion": 5}
    assert warcio_check(out / "redline.warc.gz").returncode == 0
    edited = [body for r, body in records if r.rec_type == "conversion"
              and r.rec_headers.get_header("WARC-Target-URI") == built.edited]
    assert len(edited) == 1 and b"Thursday" in edited[0]


# -- hostile input ----------------------------------------------------------------------------------

HOSTILE_TITLES = ["../../../etc/passwd", "a/b\\c", "CON", "nul\x00byte", "---", "key: value", "# heading",
                  "!!python/object/apply:os.system", "line\nbreak\n---\nfake: front", "\u2028sep\x85", "null",
                  "é" * 300, "  spaced  ", "'quoted' \"double\""]


def hostile_urls() -> list[str]:
    base = "http://127.0.0.1:8080"
    return [f"{base}/../../etc/passwd", f"{base}/a%2F..%2F..%2Fescape", f"{base}/x%00y", f"{base}/CON",
            f"{base}/nul", f"{base}/COM1.txt", f"{base}/" + "a" * 300, f"{base}/Story", f"{base}/story",
            f"{base}/caf%C3%A9", f"{base}/cafe%CC%81", "http://con/", "http://com1.example/lpt1",
            "http://" + ".".join(["x" * 63] * 3) + "/long-host", f"{base}/.hidden", f"{base}/..%2F..",
            f"{base}/story?id=1", f"{base}/story?id=2"]


def test_hostile_urls_and_titles_stay_inside_out_dir_and_round_trip(tmp_path: Path) -> None:
    db = str(tmp_path / "hostile.db")
    archive = Archive(open_engine(f"sqlite:///{db}", writer=True))
    urls = hostile_urls()
    for i, url in enumerate(urls):
        title = HOSTILE_TITLES[i % len(HOSTILE_TITLES)]
        text = f"Paragraph {i} " + " ".join(f"word{i}x{k}" for k in range(40))
        outcome = archive.record(Capture(url, datetime(2024, 12, 5, 12, i, tzinfo=UTC), status=200, body=text.encode()),
                                 Extracted(text, title=title, byline=title[::-1], extractor="test"))
        assert outcome.kind == "new-article", (url, outcome)
    archive.engine.dispose()
    keys = {key for key, _ in versions_of(db)}
    assert len(keys) == len(urls)

    for fmt in ("txt", "md"):
        out = tmp_path / fmt
        ok(db, "export", str(out), "--format", fmt)
        paths = [p for p in out.rglob("*") if p.is_file() and p.name != HISTORY_NAME]
        assert len(paths) == len(urls) and len({p.parent for p in paths}) == len(urls)
        assert len({p.parent.name.lower() for p in paths}) == len(urls)  # no twins on case-insensitive disks
        for path in paths:
            assert path.resolve().is_relative_to(out.resolve())
            for part in path.relative_to(out).parts:
                assert 0 < len(part.encode("utf-8")) <= 255 and part not in (".", "..")
                assert not re.search(r'[\x00-\x1f\\:*?"<>|]', part)
                assert part.split(".")[0].upper() not in RESERVED
    fronts = {}
    for path in (tmp_path / "md").rglob("*.md"):
        meta = yaml.safe_load(path.read_text("utf-8").split("\n---\n", 1)[0].removeprefix("---\n"))
        fronts[meta["url"]] = meta
    stored = versions_of(db)
    assert {u: f["title"] for u, f in fronts.items()} == {k: v[2] for (k, _n), v in stored.items()}

    fresh = str(tmp_path / "fresh.db")
    assert ok(fresh, "import", str(tmp_path / "md")).stdout.strip() == (
        f"imported {len(urls)} versions, unchanged 0, skipped 0")
    assert {k: (v[0], v[2]) for k, v in versions_of(fresh).items()} == {k: (v[0], v[2]) for k, v in stored.items()}


def test_a_headline_changed_within_one_second_survives_export_and_import(tmp_path: Path) -> None:
    """Exports keep whole seconds: a headline edit captured in the same second as the version before it
    (same text) is still its own version in a fresh archive, and re-importing adds nothing."""
    from datetime import timedelta

    db, fresh = str(tmp_path / "a.db"), str(tmp_path / "fresh.db")
    archive = Archive(open_engine(f"sqlite:///{db}", writer=True))
    text = "The council approved the budget on Thursday after a long debate about the new tram line. " * 3
    at = datetime(2024, 12, 5, 12, 0, 0, 100_000, tzinfo=UTC)
    for n, title in enumerate(["Council approves budget", "Council approves budget, tram line delayed"]):
        archive.record(Capture("https://news.example/a/1", at + timedelta(microseconds=500_000 * n), status=200,
                               body=f"<p>{n}</p>".encode()), Extracted(text, title=title, extractor="test"))
    archive.engine.dispose()
    ok(db, "export", str(tmp_path / "md"), "--format", "md", "--all-versions")
    assert ok(fresh, "import", str(tmp_path / "md")).stdout.strip() == "imported 2 versions, unchanged 0, skipped 0"
    assert [v[2] for _, v in sorted(versions_of(fresh).items())] == [v[2] for _, v in sorted(versions_of(db).items())]
    assert ok(db, "import", str(tmp_path / "md")).stdout.strip() == "imported 0 versions, unchanged 2, skipped 0"


# -- csv (a report) ---------------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://127.0.0.1:9/x","click")', "+1+1", "-2+3", "@SUM(1,1)"]


def test_csv_reports_are_formula_safe_agree_with_json_and_cannot_be_imported(tmp_path: Path) -> None:
    db = str(tmp_path / "csv.db")
    site = FakeSite(frozen=True).start()
    stories = load_stories()[:4]
    for story, formula in zip(stories, FORMULAS):
        story.title = formula
    urls = [site.add(story) for story in stories]
    try:
        crawl(db, *urls)
        stories[0].paragraphs[0] += " Officials said so on Thursday."
        crawl(db, *urls)
    finally:
        site.stop()
    out = tmp_path / "out"
    ok(db, "export", str(out), "--format", "csv", "--all-versions")
    data = (out / "redline.csv").read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf") and data.count(b"\r\n") == 6  # header + 5 versions
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    assert sorted(r["title"] for r in rows) == sorted(["'" + f for f in FORMULAS] + ["'" + FORMULAS[0]])
    edited = [r for r in rows if r["version"] == "2"]
    assert len(edited) == 1 and edited[0]["change_kinds"] == "body-edit" and edited[0]["added_words"] == "5"

    listed = run(db, "list", "--csv", "--bom").stdout_bytes
    assert listed.startswith(b"\xef\xbb\xbf")
    listing = list(csv.DictReader(io.StringIO(listed.decode("utf-8-sig"), newline="")))
    as_json = json.loads(ok(db, "list", "--json").stdout)
    assert [r["id"] for r in listing] == [a["id"] for a in as_json] and list(listing[0]) == list(as_json[0])
    assert all(r["title"].startswith("'") for r in listing)
    logged = list(csv.DictReader(io.StringIO(ok(db, "log", urls[0], "--csv").stdout, newline="")))
    versions = json.loads(ok(db, "log", urls[0], "--json").stdout)
    assert [(r["version"], r["change_added_words"]) for r in logged] == [
        (str(v["version"]), str(v["change"]["added_words"]) if v["change"] else "") for v in versions]

    for args in (("list", "--csv", "--json"), ("list", "--bom"), ("import", str(out / "redline.csv"))):
        result = run(db, *args)
        assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, (args, result.output)


# -- import -----------------------------------------------------------------------------------------

@pytest.mark.skipif(not SEEDS.is_dir(), reason="seed snapshots not present")
def test_import_seed_snapshots_reports_files_without_a_url(tmp_path: Path) -> None:
    db = str(tmp_path / "seeds.db")
    result = ok(db, "import", str(SEEDS))
    assert result.stdout.strip() == "imported 2 versions, unchanged 0, skipped 3"
    skipped = result.stderr.splitlines()
    assert sorted(line.split(": ", 1)[0] for line in skipped) == [
        f"skipped {SEEDS / name}" for name in sorted(os.listdir(SEEDS)) if name[:3] in ("001", "002", "004")]
    assert all(line.endswith("names no URL; pass --url URL") for line in skipped)
    versions = versions_of(db)
    moscow = "https://www.themoscowtimes.com/2024/12/05/russia-north-korea-defense-pact-enters-force-a87233"
    bangkok = ("https://www.bangkokpost.com/world/2900753/"
               "north-korea-ratifies-defence-treaty-with-russia-amid-ukraine-war")
    assert sorted(key for key, _ in versions) == sorted([moscow, bangkok])
    moscow_text = versions[(moscow, 1)][3]
    assert "Original url" not in moscow_text and "themoscowtimes.com" not in moscow_text
    assert moscow_text.endswith("contributed reporting")
    _digest, captured, title, bangkok_text = versions[(bangkok, 1)]
    assert captured == datetime(2024, 11, 12, 4, 10, 56, 812000, tzinfo=UTC) and title is None
    assert "origin_url" not in bangkok_text and bangkok_text.endswith("_KCNA_ said.")

    fallback = "https://example.com/news/defence-treaty"
    with_url = ok(str(tmp_path / "seeds-url.db"), "import", str(SEEDS), "--url", fallback)
    assert with_url.stdout.strip() == "imported 5 versions, unchanged 0, skipped 0" and with_url.stderr == ""
    assert Counter(key for key, _ in versions_of(str(tmp_path / "seeds-url.db"))) == {
        fallback: 3, moscow: 1, bangkok: 1}


def test_import_skips_unusable_files_with_one_line_each(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    words = " ".join(f"w{k}" for k in range(40))
    (folder / "a.txt").write_text(f"{words}\n\nOriginal url:\nhttps://example.com/a\n", "utf-8")
    (folder / "b.txt").write_text(words, "utf-8")
    (folder / "c.txt").write_bytes(b"\xff\xfe not utf-8 \x80")
    (folder / "d.md").write_text("---\ntitle: [unclosed\n---\n\nbody", "utf-8")
    (folder / "e.md").write_text("---\nurl: ftp://example.com/e\n---\n\n" + words, "utf-8")
    (folder / "f.txt").write_text("Too short.\n\nOriginal url:\nhttps://example.com/f\n", "utf-8")
    (folder / "g.jsonl").write_text('{"schema_version": 99}\nnot json\n', "utf-8")
    (folder / "ignored.bin").write_bytes(b"\x00")
    db = str(tmp_path / "i.db")
    result = ok(db, "import", str(folder))
    assert result.stdout.strip() == "imported 1 versions, unchanged 0, skipped 7"
    reasons = {line.split(": ", 1)[0].removeprefix(f"skipped {folder}/"): line.split(": ", 1)[1]
               for line in result.stderr.splitlines()}
    assert reasons == {"b.txt": "names no URL; pass --url URL", "c.txt": "not UTF-8 text",
                       "d.md": "unreadable front matter", "e.md": "URL 'ftp://example.com/e' is not http(s)",
                       "f.txt": "text too short (under 25 words)",
                       "g.jsonl:1": "not a schema_version 1 Redline record", "g.jsonl:2": "not JSON"}
    listed = json.loads(ok(db, "list", "--json").stdout)  # a skipped file leaves no article, fetch or event
    assert [a["url"] for a in listed] == ["https://example.com/a"]


def test_import_and_export_errors_are_one_line(built: Built, tmp_path: Path) -> None:
    missing_db = tmp_path / "new.db"
    result = run(str(missing_db), "import", str(tmp_path / "nope"))
    assert (result.exit_code, result.stderr) == (2, f"Error: cannot read {tmp_path / 'nope'}: No such file or directory\n")
    assert not missing_db.exists()
    result = run(str(missing_db), "import", str(tmp_path), "--url", "ftp://x/")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "not an http(s) URL" in result.stderr
    result = run(built.db, "export", str(tmp_path / "o"), "--url", "http://127.0.0.1/unknown")
    assert (result.exit_code, result.stderr) == (
        1, "Error: no archived article for http://127.0.0.1/unknown; see 'redline list'\n")
    result = run(built.db, "export", str(tmp_path / "o"), "--since", "someday")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1


def test_failed_write_removes_its_temporary_file(built: Built, tmp_path: Path) -> None:
    out = tmp_path / "out"
    ok(built.db, "export", str(out), "--url", built.edited)
    (target,) = [p for p in out.rglob("*.txt")]
    target.unlink()
    (target / "occupied").mkdir(parents=True)  # a directory where the file must go: os.replace fails
    result = run(built.db, "export", str(out), "--url", built.edited)
    assert result.exit_code == 1 and result.stderr.startswith(f"Error: cannot write {target}: ")
    assert result.stderr.count("\n") == 1
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]
    shutil.rmtree(target)
    ok(built.db, "export", str(out), "--url", built.edited)
    assert target.is_file()
