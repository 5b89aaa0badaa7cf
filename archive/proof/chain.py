"""The tamper-evident chain: an append-only ledger of every recorded fetch and version.

Each recorded fetch and each version gets one ``chain`` row, in the transaction that records it.
The row holds the sha256 of the record's canonical JSON (:func:`fetch_record`,
:func:`version_record`) and a digest linking it to the row before::

    digest = sha256("<seq>:<previous row's digest>:<content sha256>")

so changing, inserting or deleting any earlier record changes every later digest, and the last
row's digest (the *head*) commits to the whole history. A version inserted later for an old
fetch (``reextract``, ``renoise``) is simply a new row at the end, naming its fetch.

One chain per archive, in recording order: a single head is a commitment to everything, including
whole articles (a per-article chain cannot show that an article's entire chain was removed). On
PostgreSQL, where several workers write at once, appends are serialized by a transaction-level
advisory lock taken just before commit, so it is held only while the rows are written and the
transaction commits; SQLite writers are serialized already (``BEGIN IMMEDIATE``). The unique
``seq`` key makes a fork impossible even if the lock were bypassed.

Rows are appended by a session hook (:func:`watch`) on the store's sessions, so every path that
inserts fetches or versions through :class:`archive.store.Archive` is chained with no call in it.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, event, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from archive.schema import tables as t

GENESIS = "0" * 64
_PENDING = "redline-chain-pending"
KIND_ORDER = {"fetch": 0, "version": 1}


def stamp(value: datetime) -> str:
    """A capture time as the chain records it: UTC, microseconds, a Z.

    >>> stamp(datetime(2024, 12, 5, 9, 12, tzinfo=UTC))
    '2024-12-05T09:12:00.000000Z'
    """
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(record: dict[str, Any]) -> str:
    """The one JSON text of a record that is hashed: sorted keys, no spaces, ASCII only.

    >>> canonical({"b": 1, "a": "é"})
    '{"a":"\\\\u00e9","b":1}'
    """
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def sha256_hex(data: str) -> str:
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def link(seq: int, prev: str, content_sha256: str) -> str:
    """A row's digest from its position, the previous digest and its content's sha256.

    >>> link(1, GENESIS, "ab")[:16]
    '5c24ca9542dfcee4'
    """
    return sha256_hex(f"{seq}:{prev}:{content_sha256}")


def fetch_record(article_key: str, row: Any) -> dict[str, Any]:
    """What the chain commits to for one fetch."""
    return {"kind": "fetch", "article": article_key, "fetch": row.id, "url": row.url, "final_url": row.final_url,
            "fetched_at": stamp(row.fetched_at), "status": row.status, "outcome": row.outcome,
            "body_sha256": row.body_sha256, "content_type": row.content_type, "error": row.error}


def version_record(article_key: str, row: Any) -> dict[str, Any]:
    """What the chain commits to for one version (its text through the text's sha256)."""
    return {"kind": "version", "article": article_key, "version": row.number, "fetch": row.fetch_id,
            "captured_at": stamp(row.captured_at), "text_sha256": row.text_sha256, "title": row.title,
            "byline": row.byline, "extractor": row.extractor}


def record_of(kind: str, article_key: str, row: Any) -> dict[str, Any]:
    return fetch_record(article_key, row) if kind == "fetch" else version_record(article_key, row)


def head(conn: Connection | Session) -> tuple[int, str]:
    """(seq, digest) of the last row; (0, GENESIS) for an empty chain."""
    last = conn.execute(select(t.chain.c.seq, t.chain.c.digest).order_by(t.chain.c.seq.desc()).limit(1)).first()
    return (last.seq, last.digest) if last else (0, GENESIS)


def head_string(seq: int, digest: str) -> str:
    """The short text a user publishes as a commitment to the archive.

    >>> head_string(12, "ab" * 32)
    'redline-chain:12:abababababababababababababababababababababababababababababababab'
    """
    return f"redline-chain:{seq}:{digest}"


def append(conn: Connection | Session, entries: Sequence[tuple[str, int, int, dict[str, Any]]],
           recorded_at: datetime, backfilled: bool = False) -> None:
    """Append (kind, record id, article id, record) entries in order, under the chain lock."""
    if not entries:
        return
    bind = conn.connection() if isinstance(conn, Session) else conn
    if bind.dialect.name == "postgresql":
        bind.execute(text("SELECT pg_advisory_xact_lock(hashtext('redline-chain'))"))
    seq, prev = head(bind)
    rows = []
    for kind, record_id, article_id, record in entries:
        seq += 1
        content = sha256_hex(canonical(record))
        digest = link(seq, prev, content)
        rows.append({"seq": seq, "kind": kind, "record_id": record_id, "article_id": article_id,
                     "recorded_at": recorded_at, "backfilled": backfilled, "content_sha256": content,
                     "prev": prev, "digest": digest})
        prev = digest
    bind.execute(t.chain.insert(), rows)


def _keys(conn: Connection, article_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(article_ids))
    return dict(conn.execute(select(t.articles.c.id, t.articles.c.key).where(t.articles.c.id.in_(ids))).all())


def _sort_key(kind: str, row: Any) -> tuple[datetime, int, int]:
    when = row.fetched_at if kind == "fetch" else row.captured_at
    return when.astimezone(UTC), KIND_ORDER[kind], row.id


def entries_for(conn: Connection, items: Iterable[tuple[str, Any]]) -> list[tuple[str, int, int, dict[str, Any]]]:
    """Chain entries for (kind, fetch or version row) pairs, in capture order."""
    ordered = sorted(items, key=lambda item: _sort_key(*item))
    keys = _keys(conn, (row.article_id for _kind, row in ordered))
    return [(kind, row.id, row.article_id, record_of(kind, keys[row.article_id], row)) for kind, row in ordered]


# -- the session hook ---------------------------------------------------------------------------

def watch(sessions: sessionmaker[Session]) -> None:
    """Chain every fetch and version these sessions insert, in the transaction that inserts them."""
    event.listen(sessions, "after_flush", _collect)
    event.listen(sessions, "before_commit", _append_pending)
    event.listen(sessions, "after_transaction_end", _forget)


def _collect(session: Session, _context: Any) -> None:
    from archive.schema import models as m

    kinds = {m.Fetch: "fetch", m.Version: "version"}
    found = [(kinds[type(obj)], obj) for obj in session.new if type(obj) in kinds]
    if found:
        session.info.setdefault(_PENDING, []).extend(found)


def _append_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.flush()
    pending = [(kind, obj) for kind, obj in session.info.pop(_PENDING, []) if inspect(obj).persistent]
    if pending:
        conn = session.connection()
        append(conn, entries_for(conn, pending), datetime.now(UTC))


def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


# -- backfill -------------------------------------------------------------------------------------

def backfill(conn: Connection, upgraded_at: datetime) -> int:
    """Chain an existing archive's fetches and versions once, in capture order; returns rows added.

    The rows are marked ``backfilled`` with the upgrade time: they show the history as it was when
    the chain began, not that it was never altered before.
    """
    items = [("fetch", row) for row in conn.execute(select(t.fetches))]
    items += [("version", row) for row in conn.execute(select(
        t.versions.c.id, t.versions.c.article_id, t.versions.c.number, t.versions.c.fetch_id,
        t.versions.c.captured_at, t.versions.c.text_sha256, t.versions.c.title, t.versions.c.byline,
        t.versions.c.extractor))]
    entries = entries_for(conn, items)
    append(conn, entries, upgraded_at, backfilled=True)
    return len(entries)
