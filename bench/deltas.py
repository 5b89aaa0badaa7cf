"""Raw bodies as deltas (issue 28): what a re-fetch costs, before and after, on real pages.

* **Crawls**: 40 real pages (:mod:`bench.realpages`) served with per-request tokens (a CSRF input, a
  script-state line, a request-id meta), crawled by the real ``redline crawl``, then re-fetched four
  times with nothing else changed. Growth of the SQLite file and its WAL per re-fetch, as the issue
  measures it; and the same archive compacted (VACUUM), with deltas and after ``downgrade`` to the
  schema before deltas (every body whole), so "before" and "after" are the same fetches.
* **Real edits**: three more rounds with fresh page noise (teasers, trending box, tracking parameters)
  and real edits (:mod:`bench.fidelity`): stored bytes per re-fetch, delta and whole.
* **A month**: the same pages re-fetched daily for 30 days (fresh noise daily, a few edits), recorded
  with ``Archive.record_batch`` in this process, into one archive with deltas and one with every body
  whole (``BODY_KEY_EVERY`` = 1, as before): archive size, the writer's time per capture, ``verify``.
* **Decode**: reading a body at the deepest point of a chain (depth ``BODY_KEY_EVERY - 1``) with a
  cold reader, p50/p95, beside a keyframe.
"""
from __future__ import annotations

import hashlib
import shutil
import sqlite3
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from archive.capture import Capture
from archive.proof.verify import verify
from archive.queries.bodies import read_body
from archive.schema.db import MIGRATIONS, database_url, open_engine
from archive.store import writer
from archive.store.facade import Archive
from archive.text.textpack import BODY_KEY_EVERY, compress_body
from bench import proc, realpages
from bench.fidelity import MINUTES, TOKEN, Scenario

PAGES, REFETCHES, DAYS = 40, 4, 30
HOSTS = ["127.0.0.40", "127.0.0.41"]
EDITS = {"word": 1, "number": 1, "insert": 1, "delete": 1, "headline": 1}


def before_deltas() -> str:
    """The schema revision before bodies could be deltas (found by the migration's name, which survives
    renumbering): the migration's downgrade to it stores every body whole."""
    from alembic.script import ScriptDirectory

    script = next(r for r in ScriptDirectory(str(MIGRATIONS)).walk_revisions() if r.path.endswith("_body_deltas.py"))
    assert isinstance(script.down_revision, str)
    return script.down_revision


def _size(db: Path) -> int:
    return sum(p.stat().st_size for p in (db, db.with_name(db.name + "-wal")) if p.exists())


def _compacted(db: Path, whole: bool) -> int:
    """Size of a VACUUMed copy of ``db``, with every body stored whole first when ``whole``."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    copy = db.with_name(f"copy-{db.name}")
    shutil.copy(db, copy)
    if whole:  # the migration's downgrade stores every body whole, as before deltas
        engine = create_engine(database_url(str(copy)))
        with engine.begin() as conn:
            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS))
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, before_deltas())
        engine.dispose()
    conn = sqlite3.connect(copy)
    conn.execute("VACUUM")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # VACUUM wrote the WAL: bring it into the file
    conn.close()
    size = _size(copy)
    copy.unlink()
    return size


def _new_bodies(db: Path, after_fetch: int) -> list[tuple[int, int]]:
    """(stored bytes, whole compressed bytes) of the bodies first fetched after fetch id ``after_fetch``."""
    engine = open_engine(database_url(str(db)))
    found = []
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT b.sha256, length(b.data) FROM bodies b WHERE b.sha256 IN "
            "(SELECT body_sha256 FROM fetches WHERE id > ?) AND b.sha256 NOT IN "
            "(SELECT body_sha256 FROM fetches WHERE id <= ? AND body_sha256 IS NOT NULL)",
            (after_fetch, after_fetch)).all()
        for sha, stored in rows:
            found.append((stored, len(compress_body(read_body(conn, sha)))))
    engine.dispose()
    return found


def _last_fetch(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT coalesce(max(id), 0) FROM fetches").fetchone()[0]


def crawls(work: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """The crawl rounds: noise-only re-fetches, then rounds with real edits."""
    db = work / "crawled.db"
    scenario = Scenario(realpages.load(limit=PAGES + 8), HOSTS, per_kind=2)
    try:
        scenario.publish()
        urls = scenario.urls[:PAGES]
        sizes, compact, whole = [], [], []
        for n in range(1 + REFETCHES):
            log(f"deltas: crawl {n + 1} of {1 + REFETCHES} ({len(urls)} real pages, per-request tokens)")
            proc.crawl(str(db), urls)
            sizes.append(_size(db))
            if n in (0, REFETCHES):
                compact.append(_compacted(db, whole=False))
                whole.append(_compacted(db, whole=True))
        noise = _new_bodies(db, PAGES)
        edits: dict[str, list[tuple[int, int]]] = {"edited": [], "noise": []}
        for n in range(3):
            log(f"deltas: edit round {n + 1} of 3 (fresh page noise and real edits)")
            scenario.next_round(EDITS)
            mark, edited = _last_fetch(db), {e.url for e in scenario.edits if e.round == scenario.round}
            proc.crawl(str(db), urls)
            for key, found in _edited_bodies(db, mark, edited).items():
                edits[key] += found
    finally:
        scenario.stop()
    per = REFETCHES * PAGES
    return {"growth": (sizes[-1] - sizes[0]) / per, "sizes": sizes,
            "compact_delta": (compact[1] - compact[0]) / per, "compact_whole": (whole[1] - whole[0]) / per,
            "noise": noise, "edits": edits}


def _edited_bodies(db: Path, after_fetch: int, urls: set[str]) -> dict[str, list[tuple[int, int]]]:
    """Stored and whole bytes of the re-fetches after ``after_fetch``: of the pages edited, and of the rest."""
    engine = open_engine(database_url(str(db)))
    split: dict[str, list[tuple[int, int]]] = {"edited": [], "noise": []}
    with engine.connect() as conn:
        for url, sha, stored in conn.exec_driver_sql(
                "SELECT f.url, b.sha256, length(b.data) FROM fetches f JOIN bodies b ON b.sha256 = f.body_sha256 "
                "WHERE f.id > ?", (after_fetch,)).all():
            split["edited" if url in urls else "noise"].append((stored, len(compress_body(read_body(conn, sha)))))
    engine.dispose()
    return split


def month(work: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """30 daily re-fetches recorded in this process, with deltas and with every body whole."""
    scenario = Scenario(realpages.load(limit=PAGES + 8), HOSTS[:1], per_kind=1)
    try:
        days = []
        start = datetime(2026, 1, 1, 6, tzinfo=UTC)
        served = scenario.served[:PAGES]
        for day in range(DAYS):
            if day:
                scenario.next_round({"word": 1} if day % 3 == 0 else {})
            days.append([_capture(scenario, s, start + timedelta(days=day), day, i) for i, s in enumerate(served)])
    finally:
        scenario.stop()
    found: dict[str, Any] = {}
    for name, every in (("delta", BODY_KEY_EVERY), ("whole", 1)):
        log(f"deltas: a simulated month, bodies {name}")
        db = work / f"month-{name}.db"
        engine = open_engine(database_url(str(db)), writer=True)
        archive = Archive(engine)
        writer.BODY_KEY_EVERY = every  # 1: every body a keyframe, as stored before deltas
        spent = []
        try:
            for batch in days:
                begin = time.perf_counter()
                archive.record_batch([(c, None) for c in batch])
                spent.append((time.perf_counter() - begin) / len(batch))
        finally:
            writer.BODY_KEY_EVERY = BODY_KEY_EVERY
        begin = time.perf_counter()
        report = verify(engine)
        checked = time.perf_counter() - begin
        engine.dispose()
        found[name] = {"size": _size(db), "writer_ms": statistics.median(spent[1:]) * 1000,
                       "verify_s": checked, "ok": not report.problems, "fetches": DAYS * len(days[0])}
        if name == "delta":
            found["decode"] = _decode(db)
    return found


def _capture(scenario: Scenario, served: Any, at: datetime, day: int, i: int) -> Capture:
    token = hashlib.sha256(f"{day}-{i}".encode()).hexdigest()[:16]
    html = scenario.render(served).replace(TOKEN, token).replace(MINUTES, str(day % 59 + 1))
    return Capture(url=served.url, fetched_at=at, status=200, body=html.encode(), content_type="text/html")


def _decode(db: Path) -> dict[str, list[float]]:
    """Cold reads (a new reader each time) of the deepest bodies and of keyframes, in ms."""
    engine = open_engine(database_url(str(db)))
    found: dict[str, list[float]] = {"deepest": [], "keyframe": []}
    with engine.connect() as conn:
        deepest = conn.exec_driver_sql("SELECT max(depth) FROM bodies").scalar_one()
        picks = {kind: conn.exec_driver_sql("SELECT sha256 FROM bodies WHERE depth = ?", (depth,)).scalars().all()
                 for kind, depth in (("deepest", deepest), ("keyframe", 0))}
        for _ in range(5):
            for kind, shas in picks.items():
                for sha in shas:
                    begin = time.perf_counter()
                    read_body(conn, sha)
                    found[kind].append((time.perf_counter() - begin) * 1000)
    engine.dispose()
    found["depth"] = [deepest]
    return found


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def table(c: dict[str, Any], m: dict[str, Any]) -> str:
    """The results as one table."""
    def kb(n: float) -> str:
        return f"{n / 1024:.2f} KB"

    stored = [s for s, _ in c["noise"]]
    whole = [w for _, w in c["noise"]]
    ed_s, ed_w = [s for s, _ in c["edits"]["edited"]], [w for _, w in c["edits"]["edited"]]
    dec = m["decode"]
    rows = [
        ("noise-only re-fetch: archive growth (file + WAL, live)", kb(c["growth"]), "target <= 2.00 KB"),
        ("noise-only re-fetch: archive growth, compacted", kb(c["compact_delta"]),
         f"whole: {kb(c['compact_whole'])}"),
        ("noise-only re-fetch: stored body, median / mean",
         f"{statistics.median(stored):.0f} B / {statistics.mean(stored):.0f} B",
         f"whole: {statistics.median(whole):.0f} B / {statistics.mean(whole):.0f} B"),
        (f"re-fetch with real edits ({len(ed_s)}): stored body, median / mean",
         f"{statistics.median(ed_s):.0f} B / {statistics.mean(ed_s):.0f} B" if ed_s else "none",
         f"whole: {statistics.median(ed_w):.0f} B / {statistics.mean(ed_w):.0f} B" if ed_w else ""),
        (f"decode at depth {dec['depth'][0]} (cold), p50 / p95",
         f"{_pct(dec['deepest'], .5):.2f} / {_pct(dec['deepest'], .95):.2f} ms",
         f"keyframe: {_pct(dec['keyframe'], .5):.2f} / {_pct(dec['keyframe'], .95):.2f} ms"),
        (f"a month ({m['delta']['fetches']} fetches): archive size", f"{m['delta']['size'] / 1e6:.2f} MB",
         f"whole: {m['whole']['size'] / 1e6:.2f} MB ({m['whole']['size'] / m['delta']['size']:.1f}x)"),
        ("a month: writer time per capture (median batch)", f"{m['delta']['writer_ms']:.2f} ms",
         f"whole: {m['whole']['writer_ms']:.2f} ms"),
        ("a month: verify", f"{m['delta']['verify_s']:.2f} s ({'ok' if m['delta']['ok'] else 'PROBLEMS'})",
         f"whole: {m['whole']['verify_s']:.2f} s ({'ok' if m['whole']['ok'] else 'PROBLEMS'})"),
    ]
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{what:<{width}}  {measured:<22}  {anchor}" for what, measured, anchor in rows)


def main(work: Path, log: Callable[[str], None]) -> tuple[str, dict[str, Any]]:
    """Run every part; returns the table and the numbers."""
    c = crawls(work, log)
    m = month(work, log)
    return table(c, m), {"crawls": c, "month": m}
