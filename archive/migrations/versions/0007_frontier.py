"""the frontier: each tracked URL's next re-check time and why, indexed

Revision ID: 0007
Revises: 0006

Existing rows are marked due now; revision 0015, which every upgrade to the head passes, works every
due time out again with a frozen copy of the rule (the live frontier may read columns later revisions add).
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

_tracked = sa.table('tracked', sa.column('due_at', sa.DateTime(timezone=True)), sa.column('due_why'))

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tracked', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('due_why', sa.String(length=32), nullable=True))
    _add_hint_seen()  # revision 0009 adds it to archives already past this one
    op.get_bind().execute(sa.update(_tracked).values(due_at=datetime.now(UTC), due_why='never fetched'))
    with op.batch_alter_table('tracked', schema=None) as batch_op:
        batch_op.alter_column('due_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.alter_column('due_why', existing_type=sa.String(length=32), nullable=False)
        batch_op.create_index('ix_tracked_due', ['schedule_id', 'due_at', 'url'], unique=False)


def _add_hint_seen() -> None:
    """tracked.hint_seen, each hint taken as first listed when its URL was last listed."""
    conn = op.get_bind()
    if 'hint_seen' in {c['name'] for c in sa.inspect(conn).get_columns('tracked')}:
        return
    with op.batch_alter_table('tracked', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hint_seen', sa.DateTime(timezone=True), nullable=True))
    conn.execute(sa.text("UPDATE tracked SET hint_seen = last_seen WHERE hint IS NOT NULL"))


def downgrade() -> None:
    with op.batch_alter_table('tracked', schema=None) as batch_op:
        batch_op.drop_index('ix_tracked_due')
        batch_op.drop_column('due_why')
        batch_op.drop_column('due_at')
        if 'hint_seen' in {c['name'] for c in sa.inspect(op.get_bind()).get_columns('tracked')}:
            batch_op.drop_column('hint_seen')
