"""the chain covers the claims: record format 2 (declared times, kinds, declared, reverts, events), amendments

Revision ID: 0012
Revises: 0009

``chain.format`` says which record format each row was hashed in (1 for every row chained so far,
which keeps verifying as it was); the one-row-per-record constraint gives way to an index, since a
later change to a recorded row is chained as another row for it (an amendment). An existing
archive's events, and its versions again in format 2 (their declared times, change kinds, declared
flag, reverts, ...), are chained once, in capture order, marked ``backfilled`` with the upgrade time:
from then on, changing one of them shows. The record code is a frozen copy of archive.proof.chain's
format 2.

Downgrading removes the rows the older code cannot read (events and amendments); rows chained in
format 2 by newer code then no longer verify under the older code.
"""
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0009'
branch_labels = None
depends_on = None

FORMAT = 2
VERSION_FIELDS = (
    ("version", "number"), ("fetch", "fetch_id"), ("captured_at", "captured_at"), ("text_sha256", "text_sha256"),
    ("title", "title"), ("byline", "byline"), ("extractor", "extractor"), ("published", "published"),
    ("updated", "updated"), ("updated_signal", "updated_signal"), ("canonical_url", "canonical_url"),
    ("words", "words"), ("change_kinds", "change_kinds"), ("added_words", "added_words"),
    ("removed_words", "removed_words"), ("declared", "declared"), ("reverts_to", "reverts_to"), ("drift", "drift"),
    ("recovered_at", "recovered_at"))
EVENT_FIELDS = (("event", "id"), ("fetch", "fetch_id"), ("at", "at"), ("type", "kind"), ("detail", "detail"))


class _UTC(sa.types.TypeDecorator):  # type: ignore[type-arg]
    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_TYPES: dict[str, Any] = {"captured_at": _UTC(), "recovered_at": _UTC(), "at": _UTC(), "change_kinds": sa.JSON(),
                          "declared": sa.Boolean(), "drift": sa.Boolean()}
_VERSIONS = sa.table("versions", sa.column("article_id"), sa.column("id"),
                     *(sa.column(c, _TYPES.get(c)) for _k, c in VERSION_FIELDS))
_EVENTS = sa.table("events", sa.column("article_id"),
                   *(sa.column(c, _TYPES.get(c)) for _k, c in EVENT_FIELDS))
_ARTICLES = sa.table("articles", sa.column("id"), sa.column("key"))
_CHAIN = sa.table("chain", *(sa.column(c) for c in (
    "seq", "kind", "record_id", "article_id", "format", "backfilled", "content_sha256", "prev", "digest")),
    sa.column("recorded_at", _UTC()))


def upgrade() -> None:
    with op.batch_alter_table('chain', schema=None) as batch_op:
        batch_op.add_column(sa.Column('format', sa.Integer(), server_default='1', nullable=False))
        batch_op.drop_constraint('uq_chain_record', type_='unique')
        batch_op.create_index('ix_chain_record', ['kind', 'record_id'], unique=False)
    _chain_claims(op.get_bind(), datetime.now(UTC))


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM chain WHERE kind = 'event' OR seq > (SELECT min(c.seq) FROM chain c "
                         "WHERE c.kind = chain.kind AND c.record_id = chain.record_id)"))
    with op.batch_alter_table('chain', schema=None) as batch_op:
        batch_op.drop_index('ix_chain_record')
        batch_op.create_unique_constraint('uq_chain_record', ['kind', 'record_id'])
        batch_op.drop_column('format')


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _record(kind: str, key: str, row: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"kind": kind, "article": key, "format": FORMAT}
    for name, column in VERSION_FIELDS if kind == "version" else EVENT_FIELDS:
        value = getattr(row, column)
        found[name] = _stamp(value) if isinstance(value, datetime) else value
    return found


def _sha256(data: str) -> str:
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _chain_claims(conn: sa.Connection, upgraded_at: datetime) -> None:
    """Append every event and every version (again, in format 2), in capture order, after the head."""
    items = [("event", r.at, 1, r) for r in conn.execute(sa.select(_EVENTS))]
    items += [("version", r.captured_at, 2, r) for r in conn.execute(sa.select(_VERSIONS))]
    items.sort(key=lambda item: (item[1].astimezone(UTC), item[2], item[3].id))
    keys = dict(conn.execute(sa.select(_ARTICLES.c.id, _ARTICLES.c.key)).all())
    last = conn.execute(sa.select(_CHAIN.c.seq, _CHAIN.c.digest).order_by(_CHAIN.c.seq.desc()).limit(1)).first()
    seq, prev = (last.seq, last.digest) if last else (0, "0" * 64)
    rows = []
    for kind, _when, _order, row in items:
        seq += 1
        record = _record(kind, keys[row.article_id], row)
        content = _sha256(json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True))
        digest = _sha256(f"{seq}:{prev}:{content}")
        rows.append({"seq": seq, "kind": kind, "record_id": row.id, "article_id": row.article_id, "format": FORMAT,
                     "recorded_at": upgraded_at, "backfilled": True, "content_sha256": content, "prev": prev,
                     "digest": digest})
        prev = digest
    if rows:
        conn.execute(_CHAIN.insert(), rows)
