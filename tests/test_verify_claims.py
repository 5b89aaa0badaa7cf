"""``verify`` covers every claim, and ``cite`` proves each one it states, on a real crawled archive.

One archive is built once for the module from real crawls of the loopback site (frozen pages): STORY
(which states a declared update time) and OTHER; then STORY answers 410 (a "gone" event); then it is
back with one word changed and the same declared time (a "restored" event and a stealth version 2,
whose chain row is the last). Every tamper test works on a copy of its file.
"""
from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from archive.proof.chain import FORMAT
from redline.fakesite import FakeSite, load_stories
from tests.conftest import crawl, downgrade, run_redline, upgrade

NOT_REFRESHED = {"REDLINE_CONDITIONAL": "False"}  # frozen pages would otherwise answer 304
DECLARED = "2024-12-05T10:00:00Z"


@dataclass
class Built:
    db: str
    story: str
    other: str


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    db = str(tmp_path_factory.mktemp("claims") / "archive.db")
    site = FakeSite(frozen=True).start()
    stories = load_stories()[:2]
    stories[0].updated = DECLARED
    story, other = (site.add(s) for s in stories)
    try:
        assert crawl(db, story, other, settings=NOT_REFRESHED)["new_articles"] == 2
        site.set_status(stories[0].slug, 410)
        assert crawl(db, story, settings=NOT_REFRESHED)["gone"] == 1
        site.set_status(stories[0].slug, 200)
        stories[0].paragraphs[0] = stories[0].paragraphs[0].replace("Wednesday", "Thursday")
        assert crawl(db, story, settings=NOT_REFRESHED)["new_versions"] == 1
        yield Built(db, story, other)
    finally:
        site.stop()


@pytest.fixture
def copy(built: Built, tmp_path: Path) -> str:
    target = tmp_path / "copy.db"
    with sqlite3.connect(built.db) as source, sqlite3.connect(target) as dest:
        source.backup(dest)
    return str(target)


def one(db: str, sql: str, *params: Any) -> Any:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchone()


def execute(db: str, *statements: str) -> None:
    with sqlite3.connect(db) as conn:
        for statement in statements:
            conn.execute(statement)


def verify(db: str, *args: str) -> tuple[int, dict[str, Any]]:
    done = run_redline(db, "verify", "--json", *args)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def version_id(db: str, url: str, number: int) -> int:
    return one(db, "SELECT v.id FROM versions v JOIN articles a ON a.id = v.article_id WHERE a.key = ? "
                   "AND v.number = ?", url, number)[0]


def named(report: dict[str, Any]) -> list[str]:
    return [p["record"] for p in report["problems"]]


# -- every claim's fact, tampered ---------------------------------------------------------------

TAMPERS = {
    "updated": "UPDATE versions SET updated = '2024-12-06T08:00:00Z' WHERE id = {v2}",
    "published": "UPDATE versions SET published = '2024-12-01T00:00:00Z' WHERE id = {v2}",
    "change kinds": "UPDATE versions SET change_kinds = '[\"correction\"]' WHERE id = {v2}",
    "declared flag": "UPDATE versions SET declared = 1 WHERE id = {v2}",
}


@pytest.mark.parametrize("fact", list(TAMPERS))
def test_a_changed_fact_of_a_version_is_named(built: Built, copy: str, fact: str) -> None:
    v2 = version_id(copy, built.story, 2)
    assert verify(copy)[0] == 0
    execute(copy, TAMPERS[fact].format(v2=v2))
    code, report = verify(copy)
    assert code == 1 and named(report) == [f"version 2 of {built.story} (id {v2}) (chain row {_row(copy, v2)})"]


def _row(db: str, record_id: int, kind: str = "version") -> int:
    return one(db, "SELECT max(seq) FROM chain WHERE kind = ? AND record_id = ?", kind, record_id)[0]


def test_deleted_takedown_records_are_named(built: Built, copy: str) -> None:
    events = one(copy, "SELECT group_concat(kind || ' ' || id, ',') FROM events ORDER BY id")[0].split(",")
    assert sorted(e.split()[0] for e in events) == ["gone", "restored"]
    execute(copy, "DELETE FROM events")
    code, report = verify(copy)
    assert code == 1 and named(report) == [f"event {e.split()[1]} of {built.story}" for e in events]
    assert all(p["found"] == "no such record (deleted)" for p in report["problems"])


def test_two_tamperings_are_both_named(built: Built, copy: str) -> None:
    v2, other = version_id(copy, built.story, 2), version_id(copy, built.other, 1)
    execute(copy, f"UPDATE versions SET declared = 1 WHERE id = {v2}",
            f"UPDATE versions SET updated = '2024-12-06T08:00:00Z' WHERE id = {other}")
    code, report = verify(copy)
    assert code == 1 and named(report) == [f"version 1 of {built.other} (id {other}) (chain row {_row(copy, other)})",
                                           f"version 2 of {built.story} (id {v2}) (chain row {_row(copy, v2)})"]
    text = run_redline(copy, "verify").stdout
    assert text.startswith("FAILED: 2 problem(s)") and f"version 1 of {built.other}" in text
    assert f"version 2 of {built.story}" in text


def test_a_later_decision_is_an_appended_amendment_and_verifies(built: Built, copy: str) -> None:
    """A covered field changed through the store's sessions (a decision taken later) is chained as a new
    row for the same record, never by rewriting its row; the record must then match its latest row."""
    from archive.schema import models as m
    from archive.schema.db import open_engine
    from archive.store.facade import Archive

    v2 = version_id(copy, built.story, 2)
    before = one(copy, "SELECT max(seq), group_concat(digest) FROM chain")
    archive = Archive(open_engine(f"sqlite:///{copy}", writer=True))
    try:
        with archive.sessions.begin() as session:
            version = session.get(m.Version, v2)
            assert version is not None
            version.change_kinds, version.declared = ["body-edit", "correction"], True
    finally:
        archive.engine.dispose()
    rows = one(copy, "SELECT group_concat(kind || ' ' || record_id || ' ' || format) FROM chain WHERE seq > ?",
               before[0])[0]
    assert rows == f"version {v2} {FORMAT}"  # amended in today's record format
    assert one(copy, "SELECT group_concat(digest) FROM chain WHERE seq <= ?", before[0])[0] == before[1]
    assert verify(copy)[0] == 0


# -- a deleted tail -----------------------------------------------------------------------------

def test_a_deleted_tail_is_found_against_a_published_head_or_a_token_and_otherwise_reported(
        built: Built, copy: str, tmp_path: Path) -> None:
    head = run_redline(copy, "verify", "--head").stdout.strip()
    token = _token_over_head(copy, tmp_path)  # taken now, kept aside until the end
    seq, kind, newest = one(copy, "SELECT seq, kind, record_id FROM chain ORDER BY seq DESC LIMIT 1")
    assert (kind, newest) == ("version", version_id(copy, built.story, 2))
    execute(copy, f"DELETE FROM versions WHERE id = {newest}", f"DELETE FROM chain WHERE seq = {seq}")

    code, report = verify(copy)  # nothing anchors the tail: nothing provably altered, and said so
    assert code == 0 and (report["anchored"], report["unanchored"]) == (0, seq - 1) == (0, report["links"])
    assert f"rows 1-{seq - 1} are anchored by no timestamp or published head" in run_redline(copy, "verify").stdout

    code, report = verify(copy, "--published", head)
    assert code == 1 and named(report) == [f"published head {head}"]
    assert report["problems"][0]["found"] == f"no such row: the chain ends at row {seq - 1}, so rows after it were deleted"
    bad = run_redline(copy, "verify", "--published", "redline-chain:12:abc")
    assert bad.returncode == 2 and bad.stderr.startswith("Error: --published:") and len(bad.stderr.splitlines()) == 1

    if token is not None:
        with sqlite3.connect(copy) as conn:
            conn.execute("INSERT INTO chain_timestamps (seq, digest, tsa_url, gen_time, token) VALUES (?, ?, ?, ?, ?)",
                         token)
        code, report = verify(copy)
        assert code == 1 and named(report) == [f"timestamp 1 of chain row {seq} ({token[2]})"]


def _token_over_head(db: str, tmp_path: Path) -> tuple[Any, ...] | None:
    """An RFC 3161 token over the current head from a loopback authority, as a chain_timestamps row
    (removed from the archive), or None without the openssl command."""
    if shutil.which("openssl") is None:
        return None
    from archive.proof.timestamps import stamp_head
    from archive.schema.db import open_engine
    from tests.tsa import LoopbackTSA

    (tmp_path / "tsa").mkdir()
    tsa = LoopbackTSA(tmp_path / "tsa").start()
    engine = open_engine(f"sqlite:///{db}", writer=True)
    try:
        stamp_head(engine, tsa.url)
    finally:
        engine.dispose()
        tsa.stop()
    row = one(db, "SELECT seq, digest, tsa_url, gen_time, token FROM chain_timestamps")
    execute(db, "DELETE FROM chain_timestamps")
    return tuple(row)


# -- an archive chained by the code before record format 2 ----------------------------------------

def test_an_archive_chained_in_format_1_still_verifies_and_is_covered_after_the_upgrade(built: Built,
                                                                                        copy: str) -> None:
    downgrade(copy, "0003")
    upgrade(copy, "0009")  # the chain as the code before format 2 built it: fetches and versions, format 1
    with sqlite3.connect(copy) as conn:
        before = conn.execute("SELECT seq, kind, content_sha256, digest FROM chain ORDER BY seq").fetchall()
    assert {row[1] for row in before} == {"fetch", "version"}
    head = f"redline-chain:{before[-1][0]}:{before[-1][3]}"  # a head published then

    code, report = verify(copy, "--published", head)  # opening the archive upgrades it
    assert code == 0 and report["anchored"] == before[-1][0], report["problems"]
    with sqlite3.connect(copy) as conn:
        after = conn.execute("SELECT seq, kind, content_sha256, digest FROM chain ORDER BY seq").fetchall()
        formats = dict(conn.execute("SELECT format, count(*) FROM chain GROUP BY format").fetchall())
    assert after[:len(before)] == before  # nothing rewritten: every head, token and citation still verifies
    versions, events = (one(copy, f"SELECT count(*) FROM {t}")[0] for t in ("versions", "events"))
    assert formats == {1: len(before), 2: versions + events}

    v2 = version_id(copy, built.story, 2)  # the claims of versions chained in format 1 are covered now
    execute(copy, f"UPDATE versions SET declared = 1 WHERE id = {v2}")
    code, report = verify(copy, "--published", head)
    assert code == 1 and named(report) == [f"version 2 of {built.story} (id {v2}) (chain row {_row(copy, v2)})"]


# -- the citation ---------------------------------------------------------------------------------

PROOF = re.compile(r"Proof of ([^:]+): chain row (\d+) hashed line (\d+) of `citation/records.jsonl` "
                   r"\(content sha256 `([0-9a-f]{64})`\); check: `([^`]+)`")


def test_citation_md_gives_the_record_hash_and_check_behind_each_claim(built: Built, tmp_path: Path) -> None:
    bundle = tmp_path / "s.wacz"
    done = run_redline(built.db, "cite", built.story, "-o", str(bundle))
    assert done.returncode == 0, done.stderr
    root = tmp_path / "s"
    zipfile.ZipFile(bundle).extractall(root)
    md = (root / "citation/citation.md").read_text("utf-8").replace("\\-", "-")
    records = (root / "citation/records.jsonl").read_text("ascii").splitlines()
    chain_rows = {line.split()[0]: line.split() for line in (root / "citation/chain.txt").read_text().splitlines()}
    log = json.loads(run_redline(built.db, "log", built.story, "--json").stdout)
    kinds = log[1]["change"]["kinds"]
    assert log[1]["change"]["stealth"] and f"Change kinds: {', '.join(kinds)}; stealth" in md

    proofs = PROOF.findall(md)
    claims = {}
    for what, seq, line, content, check in proofs:  # run each check as citation.md gives it
        out = subprocess.run(["bash", "-c", check], cwd=root, capture_output=True, text=True, check=True, timeout=60)
        assert out.stdout.split() == [content, "-", *chain_rows[seq]] and chain_rows[seq][1] == content
        record = json.loads(records[int(line) - 1])
        claims.setdefault(what.split(" (")[0], []).append(record)
    assert [(r["version"], r["change_kinds"], r["declared"], r["drift"], r["updated"]) for r in claims["them"]] == [
        (1, None, None, False, DECLARED), (2, kinds, False, False, DECLARED)]
    assert [(r["type"], r["fetch"]) for r in claims["it"]] == [
        (e["event"], e["fetch"]) for e in _events(built.db, built.story)]
    assert "gone at" in md and "restored at" in md
    assert len(claims["its status and outcome"]) == 2 and len(claims["its change kinds"]) == 1


def _events(db: str, url: str) -> list[dict[str, Any]]:
    with sqlite3.connect(db) as conn:
        return [{"event": k, "fetch": f} for k, f in conn.execute(
            "SELECT e.kind, e.fetch_id FROM events e JOIN articles a ON a.id = e.article_id WHERE a.key = ? "
            "ORDER BY e.at, e.id", (url,))]
