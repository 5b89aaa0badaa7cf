"""the tamper-evident chain and its RFC 3161 timestamps; existing history chained once

Revision ID: 0004
Revises: 0003
"""
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chain',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('backfilled', sa.Boolean(), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('prev', sa.String(length=64), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('kind', 'record_id', name='uq_chain_record')
    )
    with op.batch_alter_table('chain', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chain_article_id'), ['article_id'], unique=False)

    op.create_table('chain_timestamps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('tsa_url', sa.String(length=2048), nullable=False),
    sa.Column('gen_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('token', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    # Existing archives: chain the history once, in capture order, marked with the upgrade time.
    _backfill(op.get_bind(), datetime.now(UTC))


def downgrade() -> None:
    op.drop_table('chain_timestamps')
    with op.batch_alter_table('chain', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chain_article_id'))
    op.drop_table('chain')


# -- a frozen copy of the chain as this revision wrote it (archive/proof/chain.py at revision 0004) --------
# The backfill must write exactly the records of this revision, and read only the columns that exist at
# this revision, whatever the live chain and tables become later.

GENESIS = "0" * 64
_articles = sa.table("articles", sa.column("id"), sa.column("key"))
_TIME = sa.DateTime(timezone=True)
_fetches = sa.table("fetches", *(sa.column(c) for c in ("id", "article_id", "url", "final_url", "status", "outcome",
                                                      "body_sha256", "content_type", "error")),
                    sa.column("fetched_at", _TIME))
_versions = sa.table("versions", *(sa.column(c) for c in ("id", "article_id", "number", "fetch_id", "text_sha256",
                                                        "title", "byline", "extractor")),
                     sa.column("captured_at", _TIME))
_chain = sa.table("chain", *(sa.column(c) for c in ("seq", "kind", "record_id", "article_id", "content_sha256",
                                                  "prev", "digest")),
                  sa.column("recorded_at", _TIME), sa.column("backfilled", sa.Boolean()))


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)  # SQLite gives naive UTC


def _stamp(value: datetime) -> str:
    return _utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _record(kind: str, key: str, row: Any) -> dict[str, Any]:
    if kind == "fetch":
        return {"kind": "fetch", "article": key, "fetch": row.id, "url": row.url, "final_url": row.final_url,
                "fetched_at": _stamp(row.fetched_at), "status": row.status, "outcome": row.outcome,
                "body_sha256": row.body_sha256, "content_type": row.content_type, "error": row.error}
    return {"kind": "version", "article": key, "version": row.number, "fetch": row.fetch_id,
            "captured_at": _stamp(row.captured_at), "text_sha256": row.text_sha256, "title": row.title,
            "byline": row.byline, "extractor": row.extractor}


def _backfill(conn: sa.Connection, upgraded_at: datetime) -> None:
    items = [("fetch", row) for row in conn.execute(sa.select(_fetches))]
    items += [("version", row) for row in conn.execute(sa.select(_versions))]
    items.sort(key=lambda item: (_utc(item[1].fetched_at if item[0] == "fetch" else item[1].captured_at),
                                 0 if item[0] == "fetch" else 1, item[1].id))
    keys = dict(conn.execute(sa.select(_articles.c.id, _articles.c.key)).all())
    seq, prev, rows = 0, GENESIS, []
    for kind, row in items:
        seq += 1
        content = hashlib.sha256(json.dumps(_record(kind, keys[row.article_id], row), sort_keys=True,
                                            separators=(",", ":"), ensure_ascii=True).encode("utf-8")).hexdigest()
        digest = hashlib.sha256(f"{seq}:{prev}:{content}".encode()).hexdigest()
        rows.append({"seq": seq, "kind": kind, "record_id": row.id, "article_id": row.article_id,
                     "recorded_at": upgraded_at, "backfilled": True, "content_sha256": content, "prev": prev,
                     "digest": digest})
        prev = digest
    if rows:
        conn.execute(sa.insert(_chain), rows)
