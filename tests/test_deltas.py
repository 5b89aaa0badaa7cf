"""Raw bodies stored as deltas (issue 28): real pages re-fetched with per-request tokens, real crawls.

Forty real news pages (the cached pages of :mod:`bench.realpages`) are served with a CSRF input, a
script-state line and a request-id meta that change on every request, crawled once and then four more
times. Every re-fetch is a new body; the archive must grow by at most 2 KB a re-fetch, every body must
read back byte for byte, and ``repack`` must shrink an archive made before deltas without changing a
byte of its WARC export.
"""
from __future__ import annotations

import hashlib
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from archive.capture import Capture
from archive.proof.verify import verify
from archive.queries.bodies import BodyReader, read_body
from archive.schema import tables as t
from archive.schema.db import open_engine
from archive.store.facade import Archive
from archive.store.repack import repack
from archive.text.textpack import BODY_KEY_EVERY
from bench import realpages
from bench.deltas import before_deltas
from bench.fidelity import Scenario
from tests.conftest import crawl, downgrade, migrate, run_redline
from tests.pg import pg_server, pg_url, skip_reason  # noqa: F401  (fixtures)

HOSTS = ["127.0.0.30", "127.0.0.31"]
PAGES, REFETCHES = 40, 4
MAX_BYTES_PER_REFETCH = 2048  # the bar (it measured 30.4 KB a re-fetch with bodies stored whole)
BEFORE_DELTAS = before_deltas()  # the schema revision before bodies could be deltas
pytestmark = pytest.mark.timeout(600)


def _size(db: str) -> int:
    return sum(p.stat().st_size for p in (Path(db), Path(db + "-wal")) if p.exists())


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Five crawls of the same 40 real pages: the first, then four noise-only re-fetches."""
    db = str(tmp_path_factory.mktemp("deltas") / "archive.db")
    scenario = Scenario(realpages.load(limit=PAGES + 8), HOSTS)
    try:
        scenario.publish()
        urls = scenario.urls[:PAGES]
        assert len(urls) == PAGES
        sizes = []
        for _ in range(1 + REFETCHES):
            crawl(db, *urls)
            sizes.append(_size(db))
        yield {"db": db, "urls": urls, "sizes": sizes}
    finally:
        scenario.stop()


def _rows(db: str, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_noise_only_refetches_cost_at_most_2kb_each(crawled: dict[str, Any]) -> None:
    db, sizes = crawled["db"], crawled["sizes"]
    assert _rows(db, "SELECT count(*), count(DISTINCT body_sha256) FROM fetches") == [(5 * PAGES, 5 * PAGES)]
    assert _rows(db, "SELECT count(*) FROM versions") == [(PAGES,)]  # noise only: no new version
    per_refetch = (sizes[-1] - sizes[0]) / (REFETCHES * PAGES)
    print(f"\narchive growth per noise-only re-fetch: {per_refetch:.0f} bytes (sizes {sizes})")
    assert per_refetch <= MAX_BYTES_PER_REFETCH


def test_each_refetch_is_a_delta_against_the_url_s_previous_body(crawled: dict[str, Any]) -> None:
    rows = _rows(crawled["db"], "SELECT f.url, f.id, b.sha256, b.base_sha256, b.depth FROM fetches f "
                                "JOIN bodies b ON b.sha256 = f.body_sha256 ORDER BY f.url, f.id")
    previous: dict[str, tuple[str, int]] = {}
    for url, _fetch, sha, base, depth in rows:
        if url in previous:
            assert (base, depth) == (previous[url][0], previous[url][1] + 1)
        else:
            assert (base, depth) == (None, 0)  # a URL's first body is a keyframe
        previous[url] = (sha, depth)
    assert _chains_are_bounded(crawled["db"])


def test_every_body_reads_back_byte_for_byte(crawled: dict[str, Any]) -> None:
    engine = create_engine(f"sqlite:///{crawled['db']}")
    with engine.connect() as conn:
        reader = BodyReader(conn)
        shas = conn.execute(select(t.bodies.c.sha256)).scalars().all()
        assert all(hashlib.sha256(reader.read(sha)).hexdigest() == sha for sha in shas)
        assert all(hashlib.sha256(read_body(conn, sha)).hexdigest() == sha for sha in shas)  # cold, whole chain
    engine.dispose()
    assert run_redline(crawled["db"], "verify").returncode == 0


def test_verify_names_every_body_a_damaged_base_breaks(crawled: dict[str, Any], tmp_path: Path) -> None:
    db = str(tmp_path / "damaged.db")
    shutil.copy(crawled["db"], db)
    base, = _rows(db, "SELECT base_sha256 FROM bodies WHERE depth = 2 LIMIT 1")[0]
    with sqlite3.connect(db) as conn:  # the base of a depth-2 delta: itself a delta, with a child
        conn.execute("UPDATE bodies SET data = substr(data, 1, length(data) - 1) || x'00' WHERE sha256 = ?", (base,))
    done = run_redline(db, "verify")
    assert done.returncode == 1
    broken = {sha for sha, in _rows(db, f"WITH RECURSIVE c(s) AS (SELECT '{base}' UNION "
                                        "SELECT b.sha256 FROM bodies b JOIN c ON b.base_sha256 = c.s) SELECT s FROM c")}
    assert len(broken) >= 2 and all(f"sha256 {sha})" in done.stdout for sha in broken), done.stdout


# -- an archive made before deltas, and repack --------------------------------------------------------

@pytest.fixture(scope="module")
def old_archive(crawled: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The crawled archive as Redline stored it before deltas (every body whole), with its WARC export."""
    db = str(tmp_path_factory.mktemp("old") / "old.db")
    shutil.copy(crawled["db"], db)
    downgrade(db, BEFORE_DELTAS)
    assert "base_sha256" not in {c for _, c, *_ in _rows(db, "PRAGMA table_info(bodies)")}
    assert run_redline(db, "verify").returncode == 0  # opening it upgrades the schema; bodies stay whole
    assert _rows(db, "SELECT count(*) FROM bodies WHERE base_sha256 IS NOT NULL") == [(0,)]
    return {"db": db, "warc": _warc(db, tmp_path_factory.mktemp("before"))}


def _warc(db: str, out: Path) -> bytes:
    done = run_redline(db, "export", str(out), "--format", "warc", "--all-versions")
    assert done.returncode == 0, done.stderr
    warcs = list(out.glob("*.warc.gz"))
    assert len(warcs) == 1
    return warcs[0].read_bytes()


def _chains_are_bounded(db: str) -> bool:
    """Every delta one deeper than its base, every keyframe at depth 0, no chain past BODY_KEY_EVERY."""
    wrong = _rows(db, "SELECT count(*) FROM bodies b LEFT JOIN bodies p ON p.sha256 = b.base_sha256 "
                      "WHERE (b.base_sha256 IS NULL AND b.depth != 0) OR (b.base_sha256 IS NOT NULL "
                      f"AND (p.sha256 IS NULL OR b.depth != p.depth + 1)) OR b.depth >= {BODY_KEY_EVERY}")
    return wrong == [(0,)]


def _bodies(db: str) -> list[tuple[Any, ...]]:
    return _rows(db, "SELECT sha256, size, data, base_sha256, depth FROM bodies ORDER BY sha256")


def test_repack_shrinks_an_old_archive_and_every_byte_exports_the_same(old_archive: dict[str, Any],
                                                                        tmp_path: Path) -> None:
    db = str(tmp_path / "repacked.db")
    shutil.copy(old_archive["db"], db)
    before = _size(db)
    done = run_redline(db, "repack")
    assert done.returncode == 0, done.stderr
    after = _size(db)
    print(f"\nrepack: {before:,} -> {after:,} bytes; {done.stdout.strip()}")
    assert after < before / 2
    assert _rows(db, "SELECT count(*) FROM bodies WHERE base_sha256 IS NOT NULL") == [(REFETCHES * PAGES,)]
    assert _chains_are_bounded(db)
    assert run_redline(db, "verify").returncode == 0
    assert _warc(db, tmp_path / "after") == old_archive["warc"]


def test_an_interrupted_repack_loses_nothing_and_goes_on(old_archive: dict[str, Any], tmp_path: Path) -> None:
    whole, sliced = str(tmp_path / "whole.db"), str(tmp_path / "sliced.db")
    for db in (whole, sliced):
        shutil.copy(old_archive["db"], db)
    assert run_redline(whole, "repack", "--no-compact").returncode == 0
    part = run_redline(sliced, "repack", "--batch", "25", "--batches", "2", "--no-compact")
    assert part.returncode == 0 and "more to do" in part.stdout, part.stdout
    assert _rows(sliced, "SELECT count(*) FROM bodies WHERE base_sha256 IS NOT NULL") == [(50,)]
    assert run_redline(sliced, "verify").returncode == 0  # half done is a good archive
    assert _warc(sliced, tmp_path / "half") == old_archive["warc"]
    rest = run_redline(sliced, "repack", "--no-compact")
    assert rest.returncode == 0 and "more to do" not in rest.stdout
    assert _bodies(sliced) == _bodies(whole)  # the same decisions as one uninterrupted run
    assert _chains_are_bounded(sliced)


# -- PostgreSQL: the same bytes ----------------------------------------------------------------------

def _captures(pages: list[realpages.RealPage], rounds: int) -> list[list[Capture]]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for r in range(rounds):
        batch = []
        for i, page in enumerate(pages):
            token = hashlib.sha256(f"{i}-{r}".encode()).hexdigest()[:16]
            html = page.html.replace("</body>", f'<input type="hidden" name="csrf" value="{token}"></body>', 1)
            batch.append(Capture(url=f"https://news.example/{page.slug}", fetched_at=start + timedelta(hours=r),
                                 status=200, body=html.encode(), content_type="text/html"))
        out.append(batch)
    return out


@pytest.mark.skipif(skip_reason() is not None, reason=str(skip_reason()))
def test_postgres_stores_the_same_bytes_as_sqlite(pg_url: str, tmp_path: Path) -> None:
    rounds = _captures(realpages.load(limit=3), BODY_KEY_EVERY + 2)  # past one keyframe interval
    stored, repacked = [], []
    for url in (pg_url, f"sqlite:///{tmp_path / 'lite.db'}"):
        engine = open_engine(url, writer=True)
        archive = Archive(engine)
        for batch in rounds:
            archive.record_batch([(c, None) for c in batch])
        with engine.connect() as conn:
            stored.append(conn.execute(select(t.bodies).order_by(t.bodies.c.sha256)).all())
        migrate(url, "downgrade", BEFORE_DELTAS)  # every body whole, as before deltas
        migrate(url, "upgrade", "head")
        assert repack(engine, batch=10).bodies == len(stored[-1]) - 2 * 3
        assert not verify(engine).problems
        with engine.connect() as conn:
            repacked.append(conn.execute(select(t.bodies).order_by(t.bodies.c.sha256)).all())
        engine.dispose()
    assert stored[0] == stored[1]
    depths = sorted({row.depth for row in stored[0]})
    assert depths == list(range(BODY_KEY_EVERY))  # one full chain, then a new keyframe (depth 0 again)
    assert sum(row.base_sha256 is None for row in stored[0]) == 2 * 3
    assert repacked[0] == repacked[1] == stored[0]  # repack makes the writer's decisions, on both stores
