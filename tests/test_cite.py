"""``redline cite`` and ``redline verify`` on a real archive, and the chain's migration.

One archive is built once for the module from real crawls of the loopback site (frozen, so re-fetches
are byte-identical): all five stories, then EDITED gets a word fix and a correction and HOSTILE gets a
script-laden headline, and both are crawled again. Tamper tests work on copies of its file.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zstandard
from sqlalchemy import create_engine

from archive.queries.bodies import read_body
from redline.fakesite import FakeSite, load_stories
from tests.conftest import crawl, downgrade, run_redline
from tests.receivers import wait_for

BIN = Path(sys.executable).parent
HOSTILE_TITLE = '<script>alert("t")</script> Pact *enters* [force](javascript:alert(1)) & more'
NOT_REFRESHED = {"REDLINE_CONDITIONAL": "False"}


@dataclass
class Built:
    db: str
    urls: list[str]
    edited: str
    hostile: str


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    db = str(tmp_path_factory.mktemp("cite") / "archive.db")
    site = FakeSite(frozen=True).start()
    stories = load_stories()
    urls = [site.add(story) for story in stories]
    try:
        assert crawl(db, *urls, settings=NOT_REFRESHED)["new_articles"] == 5
        # WARC-Date, CDXJ and WACZ pages count whole seconds: two captures of one URL in the same second
        # are one moment to a replay tool, so the second crawl starts in a later second
        first = datetime.now(UTC).replace(microsecond=0)
        wait_for("the next second", lambda: datetime.now(UTC).replace(microsecond=0) > first)
        stories[0].paragraphs[0] = stories[0].paragraphs[0].replace("Wednesday", "Thursday")
        stories[0].paragraphs.append("Correction: An earlier version misstated the day. It was Thursday.")
        stories[1].title = HOSTILE_TITLE
        assert crawl(db, *urls, settings=NOT_REFRESHED)["new_versions"] == 2
        yield Built(db, urls, urls[0], urls[1])
    finally:
        site.stop()


def redline(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_redline(db, *args)


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "wacz"), "validate", "-f", str(path)], capture_output=True, text=True,
                          timeout=120, check=False)


def unzip(path: Path, into: Path) -> Path:
    with zipfile.ZipFile(path) as bundle:
        bundle.extractall(into)
    return into


# -- cite ---------------------------------------------------------------------------------------

def test_cite_writes_a_valid_wacz_with_the_same_bytes_on_every_run(built: Built, tmp_path: Path) -> None:
    first, second = tmp_path / "a.wacz", tmp_path / "b.wacz"
    done = redline(built.db, "cite", built.edited, "-o", str(first), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["from"], summary["to"], summary["captures"]) == (1, 2, 2)
    checked = validate(first)
    assert checked.returncode == 0 and "Validation succeeded" in checked.stdout, checked.stdout
    elsewhere = subprocess.run([sys.executable, "-m", "redline", "--db", built.db, "cite", built.edited, "1", "2",
                                "-o", str(second)], env={**os.environ, "TZ": "Asia/Kolkata"}, capture_output=True,
                               text=True, timeout=180, check=False)  # in another time zone, too
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert first.read_bytes() == second.read_bytes()
    names = zipfile.ZipFile(first).namelist()
    for name in ("archive/redline.warc.gz", "indexes/index.cdx.gz", "pages/pages.jsonl", "datapackage.json",
                 "datapackage-digest.json", "citation/citation.md", "citation/v1.txt", "citation/v2.txt",
                 "citation/diff.txt", "citation/diff.html", "citation/diff.json", "citation/chain.txt",
                 "citation/records.jsonl"):
        assert name in names
    pages = [json.loads(line) for line in zipfile.ZipFile(first).read("pages/pages.jsonl").splitlines()]
    assert [p.get("id") for p in pages] == ["pages", *[p["id"] for p in pages[1:]]] and len(pages) == 3


def test_every_hash_in_citation_md_checks_out_by_hand(built: Built, tmp_path: Path) -> None:
    """Run the very commands citation.md gives (sha256sum, warcio, the shell loop over the chain)."""
    bundle = tmp_path / "c.wacz"
    assert redline(built.db, "cite", built.edited, "-o", str(bundle)).returncode == 0
    root = unzip(bundle, tmp_path / "c")
    md = (root / "citation/citation.md").read_text("utf-8")
    show = {n: json.loads(redline(built.db, "show", built.edited, "--version", str(n), "--json").stdout)
            for n in (1, 2)}
    for n in (1, 2):  # the version texts
        text_sha = hashlib.sha256((root / f"citation/v{n}.txt").read_bytes()).hexdigest()
        assert text_sha == show[n]["sha256"] and f"Text sha256: `{text_sha}`" in md
    assert "Change kinds: body-edit, correction; stealth" in md.replace("\\-", "-")
    bodies = re.findall(r"Raw body sha256: `([0-9a-f]{64})`; check: `(warcio extract [^`]+)`", md)
    assert len(bodies) == 2
    for sha, command in bodies:  # the raw bodies, from the WARC, as the instructions say
        out = subprocess.run(f"{BIN}/{command}", shell=True, cwd=root, capture_output=True, check=True, timeout=60)
        assert out.stdout.split()[0].decode() == sha
    records = (root / "citation/records.jsonl").read_text("ascii").splitlines()
    chain_rows = {line.split()[0]: line.split() for line in (root / "citation/chain.txt").read_text().splitlines()}
    listed = re.findall(r"row (\d+): `([0-9a-f]{64})`", md)
    assert len(listed) == len(records) == 4  # two fetches, two versions
    for (seq, content), line in zip(listed, records):
        assert hashlib.sha256(line.encode("ascii")).hexdigest() == content == chain_rows[seq][1]
    script = re.search(r"```sh\n(.*?)```", md, re.S).group(1)  # type: ignore[union-attr]
    walked = subprocess.run(["bash", "-c", script], cwd=root, capture_output=True, text=True, check=True, timeout=60)
    head = redline(built.db, "verify", "--head").stdout.strip()
    assert "broken" not in walked.stdout and walked.stdout.strip() == f"head: {head.rsplit(':', 1)[1]}"
    assert f"`{head}`" in md
    package = json.loads((root / "datapackage.json").read_text())
    for resource in package["resources"]:  # the WACZ digests
        data = (root / resource["path"]).read_bytes()
        assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()


def test_text_from_the_web_is_inert_in_the_bundle(built: Built, tmp_path: Path) -> None:
    bundle = tmp_path / "h.wacz"
    assert redline(built.db, "cite", built.hostile, "-o", str(bundle)).returncode == 0
    assert validate(bundle).returncode == 0
    root = unzip(bundle, tmp_path / "h")
    page = (root / "citation/diff.html").read_text("utf-8")
    assert "<script" not in page and "&lt;script&gt;" in page and "default-src 'none'" in page
    md = (root / "citation/citation.md").read_text("utf-8")
    assert "Title now: \\<script\\>" in md and "\\[force\\]" in md
    assert re.search(r"(?<!\\)[<>\[\]*&`]", md.split("## Captures")[0].split("- Chain head")[0]) is None
    assert all(re.fullmatch(r"[a-z]+/[a-z0-9.-]+|datapackage(-digest)?\.json", n)
               for n in zipfile.ZipFile(bundle).namelist())


def test_cite_refuses_bad_input_with_one_line(built: Built, tmp_path: Path) -> None:
    for args, expected in ((["https://nowhere.example/x", "-o", str(tmp_path / "x.wacz")], "no archived article"),
                           ([built.edited, "1", "9", "-o", str(tmp_path / "x.wacz")], "no version 9"),
                           ([built.edited, "-o", str(tmp_path / "x.zip")], "must end in .wacz"),
                           ([built.edited, "-o", str(tmp_path / "missing/x.wacz")], "does not exist")):
        done = redline(built.db, "cite", *args)
        assert done.returncode != 0 and expected in done.stderr and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.glob("*.wacz")) and not list(tmp_path.glob(".*.tmp"))


# -- verify and tampering -------------------------------------------------------------------------

def test_verify_passes_on_an_untouched_archive(built: Built) -> None:
    done = redline(built.db, "verify", "--json")
    assert done.returncode == 0, done.stdout
    report = json.loads(done.stdout)
    with sqlite3.connect(built.db) as conn:
        fetches, versions, bodies = (conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                                     for t in ("fetches", "versions", "bodies"))
    assert report["ok"] and not report["problems"] and report["backfilled"] == 0
    assert (report["links"], report["versions"], report["bodies"]) == (fetches + versions, versions, bodies)
    head = redline(built.db, "verify", "--head").stdout.strip()
    assert re.fullmatch(r"redline-chain:\d+:[0-9a-f]{64}", head) and head == report["head"]


@pytest.fixture
def copy(built: Built, tmp_path: Path) -> str:
    target = tmp_path / "copy.db"
    with sqlite3.connect(built.db) as source, sqlite3.connect(target) as dest:
        source.backup(dest)
    return str(target)


def _ids(db: str, sql: str) -> list[int]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute(sql)]


def _fails_naming(db: str, *names: str, args: tuple[str, ...] = ()) -> str:
    done = redline(db, "verify", *args)
    assert done.returncode == 1, done.stdout
    assert "Traceback" not in done.stderr
    first = done.stdout.splitlines()[0]
    assert first.startswith("FAILED:") and all(name in first for name in names), done.stdout
    return done.stdout


def test_one_changed_byte_of_a_stored_body_is_found(built: Built, copy: str) -> None:
    fetch_id = _ids(copy, "SELECT max(id) FROM fetches WHERE body_sha256 IS NOT NULL")[0]
    sha = sqlite3.connect(copy).execute("SELECT body_sha256 FROM fetches WHERE id = ?", (fetch_id,)).fetchone()[0]
    engine = create_engine(f"sqlite:///{copy}")
    with engine.connect() as stored:
        body = bytearray(read_body(stored, sha))  # the last capture: no body is stored against it
    engine.dispose()
    with sqlite3.connect(copy) as conn:
        body[len(body) // 2] ^= 0x01
        conn.execute("UPDATE bodies SET data = ?, base_sha256 = NULL, depth = 0 WHERE sha256 = ?",
                     (zstandard.ZstdCompressor().compress(bytes(body)), sha))
    out = _fails_naming(copy, f"fetch {fetch_id}", sha)
    assert f"expected sha256 {sha}, found {hashlib.sha256(bytes(body)).hexdigest()}" in out
    article = _ids(copy, f"SELECT article_id FROM fetches WHERE id = {fetch_id}")[0]
    others = _ids(copy, f"SELECT id FROM articles WHERE id != {article} AND id NOT IN "
                        f"(SELECT article_id FROM fetches WHERE body_sha256 = '{sha}')")
    key = sqlite3.connect(copy).execute("SELECT key FROM articles WHERE id = ?", (others[0],)).fetchone()[0]
    assert redline(copy, "verify", "--article", key).returncode == 0  # another article is intact


def test_one_changed_byte_of_a_version_text_is_found(built: Built, copy: str) -> None:
    with sqlite3.connect(copy) as conn:
        text = zstandard.ZstdDecompressor().decompress(conn.execute(
            "SELECT text_blob FROM versions v JOIN articles a ON a.id = v.article_id "
            "WHERE a.key = ? AND v.number = 1", (built.edited,)).fetchone()[0])
        altered = text.replace(b"Wednesday", b"Wednesdax", 1)
        assert altered != text
        conn.execute("UPDATE versions SET text_blob = ? WHERE number = 1 AND article_id = "
                     "(SELECT id FROM articles WHERE key = ?)", (zstandard.ZstdCompressor().compress(altered), built.edited))
    out = _fails_naming(copy, f"version 1 of {built.edited}", args=("--article", built.edited))
    assert hashlib.sha256(altered).hexdigest() in out


def test_a_deleted_fetch_row_is_found(built: Built, copy: str) -> None:
    unreferenced = _ids(copy, "SELECT id FROM fetches WHERE id NOT IN (SELECT fetch_id FROM versions "
                              "WHERE fetch_id IS NOT NULL) AND id NOT IN (SELECT fetch_id FROM events "
                              "WHERE fetch_id IS NOT NULL) ORDER BY id")
    victim = unreferenced[0]
    with sqlite3.connect(copy) as conn:
        conn.execute("DELETE FROM fetches WHERE id = ?", (victim,))
    out = _fails_naming(copy, f"fetch {victim}", "deleted")
    assert "chained at row" in out.splitlines()[0]


def test_an_edited_record_and_a_rewritten_chain_row_are_found(built: Built, copy: str) -> None:
    with sqlite3.connect(copy) as conn:
        status = conn.execute("SELECT status FROM fetches WHERE id = 1").fetchone()[0]
        conn.execute("UPDATE fetches SET status = ? WHERE id = 1", (status + 1,))  # a value it never had
    out = _fails_naming(copy, "fetch 1")
    assert "content sha256" in out
    with sqlite3.connect(copy) as conn:  # cover the edit by rewriting that row's content hash
        row = conn.execute("SELECT seq FROM chain WHERE kind = 'fetch' AND record_id = 1").fetchone()[0]
        conn.execute("UPDATE chain SET content_sha256 = ? WHERE seq = ?", ("0" * 64, row))
    assert f"chain row {row} (fetch 1)" in _fails_naming(copy, f"chain row {row}")


def test_every_altered_record_is_named(built: Built, copy: str) -> None:
    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE fetches SET fetched_at = '2020-01-01 00:00:00.000000' WHERE id = 2")
        conn.execute("UPDATE fetches SET url = url || '?tampered=1' WHERE id = 7")
    done = redline(copy, "verify", "--json")
    assert done.returncode == 1, done.stdout
    records = " | ".join(p["record"] for p in json.loads(done.stdout)["problems"])
    shown = redline(copy, "verify").stdout
    for name in (r"\bfetch 2\b", r"\bfetch 7\b"):
        assert re.search(name, records), records
        assert re.search(name, shown), shown


# -- migration ------------------------------------------------------------------------------------

def test_an_archive_from_before_the_chain_is_chained_once_on_upgrade(built: Built, copy: str,
                                                                        tmp_path: Path) -> None:
    downgrade(copy, "0003")  # back to the revision before the chain, with Alembic's own downgrades
    with sqlite3.connect(copy) as conn:
        fetches, versions, events = (conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                                     for t in ("fetches", "versions", "events"))
    done = redline(copy, "verify", "--json")
    assert done.returncode == 0, done.stdout
    report = json.loads(done.stdout)
    # revision 0004 chains fetches and versions; 0012 events, and versions again with their claims
    assert report["backfilled"] == report["links"] == fetches + 2 * versions + events
    assert report["chained_since"] is None
    with sqlite3.connect(copy) as conn:
        rows = conn.execute("SELECT c.format, c.recorded_at, coalesce(f.fetched_at, v.captured_at) FROM chain c "
                            "LEFT JOIN fetches f ON c.kind = 'fetch' AND f.id = c.record_id "
                            "LEFT JOIN versions v ON c.kind = 'version' AND v.id = c.record_id ORDER BY c.seq").fetchall()
    for fmt in (1, 2):
        times = [r[2] for r in rows if r[0] == fmt]
        assert times == sorted(times) and len(times) == (fetches + versions if fmt == 1 else versions)  # capture order
    assert len({r[1] for r in rows}) == 2  # one time per upgrade
    site = FakeSite(frozen=True).start()
    try:
        crawl(copy, site.add(load_stories()[2]))
    finally:
        site.stop()
    after = json.loads(redline(copy, "verify", "--json").stdout)
    assert after["ok"] and after["backfilled"] == report["backfilled"] and after["links"] > report["links"]
    assert after["chained_since"] is not None
    text = redline(copy, "verify").stdout
    assert f"{report['backfilled']} records predate the chain" in text


def test_imported_snapshots_join_the_chain_and_can_be_cited(built: Built, tmp_path: Path) -> None:
    out = tmp_path / "md"
    assert redline(built.db, "export", str(out), "--format", "md", "--all-versions").returncode == 0
    fresh = str(tmp_path / "fresh.db")
    assert redline(fresh, "import", str(out)).returncode == 0
    report = json.loads(redline(fresh, "verify", "--json").stdout)
    with sqlite3.connect(fresh) as conn:
        fetches, versions = (conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("fetches", "versions"))
    assert report["ok"] and versions == 7 and report["links"] == fetches + versions
    bundle = tmp_path / "i.wacz"
    assert redline(fresh, "cite", built.edited, "-o", str(bundle)).returncode == 0
    assert validate(bundle).returncode == 0


def test_a_version_inserted_later_for_an_old_fetch_is_appended_to_the_chain(built: Built, copy: str) -> None:
    """As ``reextract`` (and re-evaluated noise) do: a new version made from a stored, older capture."""
    from archive.capture import Extracted
    from archive.schema.db import open_engine
    from archive.store.facade import Archive

    with sqlite3.connect(copy) as conn:
        article, fetch = conn.execute("SELECT v.article_id, v.fetch_id FROM versions v JOIN articles a ON "
                                      "a.id = v.article_id WHERE a.key = ? AND v.number = 1", (built.edited,)).fetchone()
        head_before = conn.execute("SELECT max(seq) FROM chain").fetchone()[0]
    archive = Archive(open_engine(f"sqlite:///{copy}", writer=True))
    try:
        text = "A different extraction of the first capture, long enough to count as an article text. " * 5
        outcome = archive.record_reextraction(article, fetch, Extracted(text, title="Old capture", extractor="new 9"))
    finally:
        archive.engine.dispose()
    assert outcome.kind == "drift" and outcome.version == 3
    with sqlite3.connect(copy) as conn:
        added = conn.execute("SELECT seq, kind, record_id FROM chain WHERE seq > ? ORDER BY seq",
                             (head_before,)).fetchall()
        version_id = conn.execute("SELECT id FROM versions WHERE article_id = ? AND number = 3", (article,)).fetchone()[0]
    assert added[-1] == (head_before + len(added), "version", version_id)
    # the comparison also rewrote that fetch's noise evidence: chained as an amendment, never silently
    assert added[:-1] in ([], [(head_before + 1, "fetch", fetch)])
    report = json.loads(redline(copy, "verify", "--json").stdout)
    assert report["ok"], report["problems"]
    bundle = Path(copy).with_name("drift.wacz")  # the cited record names the old fetch it was made from
    # v3 holds the first capture's text, captured before v2: cited from v3 to v2 (2 -> 3 is refused as backwards)
    assert redline(copy, "cite", built.edited, "2", "3", "-o", str(bundle)).returncode == 2
    assert redline(copy, "cite", built.edited, "3", "2", "-o", str(bundle)).returncode == 0
    lines = [json.loads(line) for line in zipfile.ZipFile(bundle).read("citation/records.jsonl").splitlines()]
    cited = next(r for r in lines if r["kind"] == "version" and r["version"] == 3)
    assert cited["fetch"] == fetch and cited["extractor"] == "new 9"
