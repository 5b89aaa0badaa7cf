"""The tamper-evident chain: an append-only ledger of every recorded fetch, version, event and screenshot.

Each recorded fetch, version and event gets one ``chain`` row, in the transaction that records it.
The row holds the sha256 of the record's canonical JSON (:func:`record`) and a digest linking it to
the row before::

    digest = sha256("<seq>:<previous row's digest>:<content sha256>")

so changing, inserting or deleting any earlier record changes every later digest, and the last
row's digest (the *head*) commits to the whole history. A version inserted later for an old
fetch (``reextract``, ``renoise``) is simply a new row at the end, naming its fetch.

**What a record covers** is :data:`FIELDS`, one list per kind, each field with the record format
it joined in; a row's ``format`` column says which format its record was hashed in, and records
of format 2 on hold ``"format"`` themselves, so that column cannot be changed unseen. Rows are
never rewritten: a later change to a covered field of a recorded row (a decision taken later) is
chained as a new row for the same record, an *amendment* holding the whole record as it is now,
and the record's latest row is the one its stored values must match. Heads published, tokens taken
and citations written before a new format keep verifying, since their rows keep their own format.

One chain per archive, in recording order: a single head is a commitment to everything, including
whole articles (a per-article chain cannot show that an article's entire chain was removed). On
PostgreSQL, where several workers write at once, appends are serialized by a transaction-level
advisory lock taken just before commit, so it is held only while the rows are written and the
transaction commits; SQLite writers are serialized already (``BEGIN IMMEDIATE``). The unique
``seq`` key makes a fork impossible even if the lock were bypassed.

Rows are appended by a session hook (:func:`watch`) on the store's sessions, so every path that
inserts or changes fetches, versions or events through :class:`archive.store.Archive`'s ORM
sessions is chained with no call in it (a Core ``UPDATE`` of a covered column bypasses the hook,
and ``verify`` then reports the row as altered).
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
# within one capture time: what the fetch found, then its version, then a picture of it
KIND_ORDER = {"fetch": 0, "event": 1, "version": 2, "screenshot": 3}
TIME = {"fetch": "fetched_at", "version": "captured_at", "event": "at", "screenshot": "taken_at"}
FORMAT = 6  # the record format new rows are chained in

# What a record of each kind holds besides its "kind" and "article" (the article's key):
# (key in the record, column of the row, the format it joined in). A record of format N holds every
# field that joined in N or earlier. To cover a new column, add its line here with FORMAT + 1 and
# raise FORMAT to that (older rows keep verifying under their own format); to have existing rows
# cover it too, the migration that adds the column can chain them again as amendments (see 0012).
FIELDS: dict[str, tuple[tuple[str, str, int], ...]] = {
    "fetch": (
        ("fetch", "id", 1), ("url", "url", 1), ("final_url", "final_url", 1), ("fetched_at", "fetched_at", 1),
        ("status", "status", 1), ("outcome", "outcome", 1), ("body_sha256", "body_sha256", 1),
        ("content_type", "content_type", 1), ("error", "error", 1),
        ("noise", "noise", 2),  # the changed paragraphs noise rules skipped, and which rule
        # how the page was fetched, and the sha256 of the DOM a browser rendered from it (format 6)
        ("fetched_with", "fetched_with", 6), ("rendered_sha256", "rendered_sha256", 6),
    ),
    "version": (
        ("version", "number", 1), ("fetch", "fetch_id", 1), ("captured_at", "captured_at", 1),
        ("text_sha256", "text_sha256", 1), ("title", "title", 1), ("byline", "byline", 1),
        ("extractor", "extractor", 1),
        # what the claims rest on: declared times and their signal, kinds, declared (stealth and undeclared
        # are derived from declared, drift, the kinds and updated with its signal), reverts, words, recovery
        ("published", "published", 2), ("updated", "updated", 2), ("updated_signal", "updated_signal", 2),
        ("canonical_url", "canonical_url", 2), ("words", "words", 2), ("change_kinds", "change_kinds", 2),
        ("added_words", "added_words", 2), ("removed_words", "removed_words", 2), ("declared", "declared", 2),
        ("reverts_to", "reverts_to", 2), ("drift", "drift", 2), ("recovered_at", "recovered_at", 2),
        # a version that came from another URL, and the article's own version measured against it: never
        # stealth (format 3)
        ("from_other_url", "from_other_url", 3), ("against_other_url", "against_other_url", 3),
    ),
    "event": (  # gone, restored, failed, ...: chained from format 2 on
        ("event", "id", 2), ("fetch", "fetch_id", 2), ("at", "at", 2), ("type", "kind", 2), ("detail", "detail", 2),
    ),
    "screenshot": (  # a picture of a version, taken after it was recorded: a record of its own from format 5
        ("screenshot", "id", 5), ("version_id", "version_id", 5), ("taken_at", "taken_at", 5),
        ("sha256", "sha256", 5), ("image_format", "format", 5), ("width", "width", 5), ("height", "height", 5),
        ("page_height", "page_height", 5), ("made_how", "made_how", 5), ("subresources", "subresources", 5),
    ),
}


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


def record(kind: str, article_key: str, row: Any, fmt: int = FORMAT) -> dict[str, Any]:
    """What the chain commits to for one fetch, version or event, in record format ``fmt``.

    >>> from types import SimpleNamespace as Row
    >>> when = datetime(2024, 12, 5, 9, 12, tzinfo=UTC)
    >>> event = Row(id=7, fetch_id=9, at=when, kind="gone", detail="HTTP 410")
    >>> canonical(record("event", "http://a/", event, 2))
    '{"article":"http://a/","at":"2024-12-05T09:12:00.000000Z","detail":"HTTP 410","event":7,"fetch":9,"format":2,"kind":"event","type":"gone"}'
    """
    found: dict[str, Any] = {"kind": kind, "article": article_key}
    if fmt > 1:
        found["format"] = fmt
    for key, column, since in FIELDS[kind]:
        if since <= fmt:
            value = getattr(row, column)
            found[key] = stamp(value) if isinstance(value, datetime) else value
    return found


def covered(kind: str, fmt: int = FORMAT) -> list[str]:
    """The columns a record of ``kind`` covers in format ``fmt``.

    >>> covered("event", 1), covered("event")[:2]
    ([], ['id', 'fetch_id'])
    """
    return [column for _key, column, since in FIELDS[kind] if since <= fmt]


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
    for kind, record_id, article_id, content_record in entries:
        seq += 1
        content = sha256_hex(canonical(content_record))
        digest = link(seq, prev, content)
        rows.append({"seq": seq, "kind": kind, "record_id": record_id, "article_id": article_id,
                     "format": content_record.get("format", 1), "recorded_at": recorded_at,
                     "backfilled": backfilled, "content_sha256": content, "prev": prev, "digest": digest})
        prev = digest
    bind.execute(t.chain.insert(), rows)


def _keys(conn: Connection, article_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(article_ids))
    return dict(conn.execute(select(t.articles.c.id, t.articles.c.key).where(t.articles.c.id.in_(ids))).all())


def _sort_key(kind: str, row: Any) -> tuple[datetime, int, int]:
    return getattr(row, TIME[kind]).astimezone(UTC), KIND_ORDER[kind], row.id


def entries_for(conn: Connection, items: Iterable[tuple[str, Any]]) -> list[tuple[str, int, int, dict[str, Any]]]:
    """Chain entries, in the current format, for (kind, row) pairs, in capture order."""
    ordered = sorted(items, key=lambda item: _sort_key(*item))
    keys = _keys(conn, (row.article_id for _kind, row in ordered))
    return [(kind, row.id, row.article_id, record(kind, keys[row.article_id], row)) for kind, row in ordered]


# -- the session hook ---------------------------------------------------------------------------

def watch(sessions: sessionmaker[Session]) -> None:
    """Chain every fetch, version and event these sessions insert, and every change to a covered field
    of one recorded before (as an amendment), in the transaction that makes it."""
    event.listen(sessions, "after_flush", _collect)
    event.listen(sessions, "before_commit", _append_pending)
    event.listen(sessions, "after_transaction_end", _forget)


def _chained_kinds() -> dict[type, str]:
    from archive.schema import models as m

    return {m.Fetch: "fetch", m.Version: "version", m.Event: "event", m.Screenshot: "screenshot"}


def _collect(session: Session, _context: Any) -> None:
    """After a flush (the session still shows what it flushed): new rows, and changed covered fields."""
    kinds = _chained_kinds()
    found = [(kinds[type(obj)], obj) for obj in session.new if type(obj) in kinds]
    found += [(kinds[type(obj)], obj) for obj in session.dirty
              if type(obj) in kinds and _changed(kinds[type(obj)], obj)]
    if found:
        session.info.setdefault(_PENDING, []).extend(found)


def _changed(kind: str, obj: Any) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[column].history.has_changes() for column in covered(kind))


def _append_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.flush()
    # one entry per row, whether it was inserted, changed or both in this transaction: its record is
    # taken now, as it is committed
    pending = list(dict.fromkeys((kind, obj) for kind, obj in session.info.pop(_PENDING, [])
                                 if inspect(obj).persistent))
    if pending:
        conn = session.connection()
        append(conn, entries_for(conn, pending), datetime.now(UTC))


def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
