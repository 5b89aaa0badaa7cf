"""the frontier: each tracked URL's next re-check time and why, indexed; existing rows worked out once

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

from archive.watch.frontier import refresh_all

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tracked', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('due_why', sa.String(length=32), nullable=True))
    _add_hint_seen()  # refresh_all reads it (revision 0009 adds it to archives already past this one)
    refresh_all(op.get_bind())
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
