"""``redline repack``: re-store raw bodies kept whole (archives made before deltas) as deltas.

Each body stored whole is re-stored against the body the same URL brought before it, as the writer
stores new captures, in batches of one transaction each. A body is changed only when its new form
decodes back to exactly the bytes of its sha256, when nothing is yet stored against it (so every
chain's recorded depth stays true) and when its chain stays within ``BODY_KEY_EVERY``. Bodies are
taken in the order they were first fetched, so a base always precedes what is stored against it and
a re-run after an interruption makes the same decisions: it skips what is done and goes on.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, exists, select, text, update

from archive.queries.bodies import BodyReader
from archive.schema import tables as t
from archive.text.textpack import BODY_KEY_EVERY, compress_body, decompress_body

B, F = t.bodies, t.fetches
BATCH = 500  # bodies looked at per transaction


@dataclass
class Repacked:
    """What a repack did: bodies re-stored as deltas and their stored bytes before and after."""

    bodies: int = 0
    before: int = 0
    after: int = 0
    batches: int = 0
    done: bool = True  # False when it stopped after ``max_batches`` with candidates left


def candidates(conn: Connection) -> Iterator[tuple[str, str]]:
    """(body, the different body the same URL brought just before), for each body's first fetch, in fetch order."""
    last: dict[tuple[int, str], str] = {}
    seen: set[str] = set()
    rows = conn.execute(select(F.c.article_id, F.c.url, F.c.body_sha256).where(F.c.body_sha256.is_not(None))
                        .order_by(F.c.id))
    for article, url, sha in rows:
        base = last.get((article, url))
        last[article, url] = sha
        if sha in seen:
            continue
        seen.add(sha)
        if base is not None and base != sha:
            yield sha, base


def repack(engine: Engine, batch: int = BATCH, max_batches: int | None = None,
           progress: Callable[[Repacked], None] = lambda _r: None) -> Repacked:
    """Re-store whole bodies as deltas, one transaction per ``batch`` bodies looked at."""
    with engine.connect() as conn:
        todo = [pair for pair in candidates(conn) if _is_whole(conn, pair[0])]
    done = Repacked()
    for start in range(0, len(todo), batch):
        if max_batches is not None and done.batches >= max_batches:
            done.done = False
            break
        with engine.begin() as conn:
            reader = BodyReader(conn, keep=64)
            for sha, base in todo[start:start + batch]:
                _restore(conn, reader, sha, base, done)
        done.batches += 1
        progress(done)
    return done


def _is_whole(conn: Connection, sha: str) -> bool:
    return conn.execute(select(B.c.base_sha256).where(B.c.sha256 == sha)).first() == (None,)


def _restore(conn: Connection, reader: BodyReader, sha: str, base: str, done: Repacked) -> None:
    """Re-store one body against ``base`` when that is safe and smaller."""
    row = conn.execute(select(B.c.data, B.c.base_sha256).where(B.c.sha256 == sha)).first()
    child = B.alias("child")
    depth = conn.execute(select(B.c.depth).where(B.c.sha256 == base)).scalar()
    if (row is None or row.base_sha256 is not None or depth is None or depth + 1 >= BODY_KEY_EVERY
            or conn.execute(select(exists().where(child.c.base_sha256 == sha))).scalar()):
        return
    whole, base_bytes = decompress_body(row.data), reader.read(base)
    if hashlib.sha256(whole).hexdigest() != sha or hashlib.sha256(base_bytes).hexdigest() != base:
        return  # damaged: leave it for verify to report, never build on it
    data = compress_body(whole, base_bytes)
    if len(data) >= len(row.data) or decompress_body(data, base_bytes) != whole:
        return
    conn.execute(update(B).where(B.c.sha256 == sha, B.c.base_sha256.is_(None))
                 .values(data=data, base_sha256=base, depth=depth + 1))
    done.bodies += 1
    done.before += len(row.data)
    done.after += len(data)


def compact(engine: Engine) -> bool:
    """Give the space freed back to the file system: SQLite's VACUUM, then an emptied write-ahead log.
    False on PostgreSQL, where autovacuum reuses the space (``VACUUM FULL bodies`` returns it)."""
    if engine.dialect.name != "sqlite":
        return False
    raw = engine.raw_connection()
    try:
        raw.driver_connection.execute("VACUUM")
        raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
    return True


def stored_size(engine: Engine) -> int:
    """Bytes the archive takes: a SQLite file and its write-ahead log; on PostgreSQL, the bodies table."""
    if engine.dialect.name == "sqlite":
        path = Path(engine.url.database or "")
        return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_total_relation_size('bodies')")).scalar_one())
