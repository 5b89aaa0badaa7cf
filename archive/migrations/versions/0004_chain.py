"""the tamper-evident chain and its RFC 3161 timestamps; existing history chained once

Revision ID: 0004
Revises: 0003
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from archive.proof.chain import backfill

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
    backfill(op.get_bind(), datetime.now(UTC))


def downgrade() -> None:
    op.drop_table('chain_timestamps')
    with op.batch_alter_table('chain', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chain_article_id'))
    op.drop_table('chain')
