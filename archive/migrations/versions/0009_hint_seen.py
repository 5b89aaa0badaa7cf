"""tracked.hint_seen: when a listed update time was first listed, so a lastmod in the future is due once

Revision ID: 0009
Revises: 0008

The due times the new column changes are worked out again by revision 0015, which every upgrade to the
head passes, with a frozen copy of the rule.
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    if 'hint_seen' in {c['name'] for c in sa.inspect(conn).get_columns('tracked')}:
        return  # added by revision 0007, which this archive went through after 0009 existed
    with op.batch_alter_table('tracked', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hint_seen', sa.DateTime(timezone=True), nullable=True))
    conn.execute(sa.text("UPDATE tracked SET hint_seen = last_seen WHERE hint IS NOT NULL"))


def downgrade() -> None:
    with op.batch_alter_table('tracked', schema=None) as batch_op:
        batch_op.drop_column('hint_seen')
