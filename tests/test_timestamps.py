"""RFC 3161 timestamps of the chain head, against a real OpenSSL timestamp authority on 127.0.0.1."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from redline.fakesite import FakeSite
from tests.conftest import crawl, run_redline
from tests.tsa import LoopbackTSA, make_ca

if shutil.which("openssl") is None and not os.environ.get("CI"):  # CI installs it (.ci/run)
    pytest.skip("the openssl command is needed to run a timestamp authority", allow_module_level=True)


@pytest.fixture
def tsa(tmp_path: Path) -> Iterator[LoopbackTSA]:
    folder = tmp_path / "tsa"
    folder.mkdir()
    authority = LoopbackTSA(folder).start()
    yield authority
    authority.stop()


def _tokens(db: str) -> list[tuple[int, str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT seq, digest, tsa_url FROM chain_timestamps ORDER BY id").fetchall()


def test_each_crawl_timestamps_the_head_and_verify_and_cite_check_it(
        tsa: LoopbackTSA, db: str, site: FakeSite, urls: list[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDLINE_TSA_URL", tsa.url)
    monkeypatch.setenv("REDLINE_TSA_CA", str(tsa.ca))
    crawl(db, *urls)
    first_head = run_redline(db, "verify", "--head", "--json")
    head = json.loads(first_head.stdout)
    assert _tokens(db) == [(head["seq"], head["digest"], tsa.url)] and tsa.requests == 1
    crawl(db, urls[0])  # a re-check adds a fetch: a new head, a new token
    tokens = _tokens(db)
    assert len(tokens) == 2 and tokens[1][0] > tokens[0][0]
    report = json.loads(run_redline(db, "verify", "--json").stdout)
    assert report["ok"] and report["timestamps"] == 2, report["problems"]

    site.story(urls[0].split("/", 3)[3]).paragraphs[0] += " An added sentence."
    crawl(db, urls[0])
    bundle = tmp_path / "t.wacz"
    assert run_redline(db, "cite", urls[0], "-o", str(bundle)).returncode == 0
    root = tmp_path / "t"
    zipfile.ZipFile(bundle).extractall(root)
    seq = _tokens(db)[-1][0]
    md = (root / "citation/citation.md").read_text()
    assert f"citation/timestamp-{seq}.tsr" in " ".join(zipfile.ZipFile(bundle).namelist()) and "openssl ts -verify" in md
    checked = subprocess.run(["openssl", "ts", "-verify", "-data", f"citation/timestamp-{seq}.txt", "-in",
                              f"citation/timestamp-{seq}.tsr", "-CAfile", str(tsa.ca)],
                             cwd=root, capture_output=True, text=True, timeout=60, check=False)
    assert checked.returncode == 0 and "Verification: OK" in checked.stdout, checked.stdout + checked.stderr


def test_a_token_from_an_untrusted_authority_or_over_another_head_fails(
        tsa: LoopbackTSA, db: str, urls: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDLINE_TSA_URL", tsa.url)
    crawl(db, urls[0])
    assert run_redline(db, "verify").returncode == 0  # no trusted root given: the imprint is still checked
    make_ca(tmp_path, "other")
    monkeypatch.setenv("REDLINE_TSA_CA", str(tmp_path / "other.pem"))
    done = run_redline(db, "verify")
    assert done.returncode == 1 and "timestamp 1 of chain row" in done.stdout.splitlines()[0]
    monkeypatch.setenv("REDLINE_TSA_CA", str(tsa.ca))
    assert run_redline(db, "verify").returncode == 0
    with sqlite3.connect(db) as conn:  # claim the token covers another head
        conn.execute("UPDATE chain_timestamps SET seq = 1, digest = (SELECT digest FROM chain WHERE seq = 1)")
    done = run_redline(db, "verify")
    assert done.returncode == 1 and "a token over another message" in done.stdout


def test_an_unreachable_authority_never_fails_the_crawl(db: str, urls: list[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDLINE_TSA_URL", "http://127.0.0.1:9/")  # discard port: nothing listens
    assert crawl(db, urls[0])["new_articles"] == 1
    assert _tokens(db) == [] and run_redline(db, "verify").returncode == 0
