"""takedowns are changes: outbox rows for events, and last_changed moved by past takedowns

Revision ID: 0017
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0015'
branch_labels = None
depends_on = None

# A frozen copy of the rule in archive/store/writer.py: a gone or restored event of an article that had a
# version by then is a change, so it moves the article's last_changed.
_TAKEDOWN = """
    FROM events e WHERE e.article_id = articles.id AND e.kind IN ('gone', 'restored')
    AND EXISTS (SELECT 1 FROM versions v WHERE v.article_id = e.article_id AND v.captured_at <= e.at)"""


def upgrade() -> None:
    with op.batch_alter_table('alert_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('event_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_alert_outbox_event_id_events', 'events', ['event_id'], ['id'])
    op.execute(f"UPDATE articles SET last_changed = (SELECT max(e.at) {_TAKEDOWN}) "
               f"WHERE EXISTS (SELECT 1 {_TAKEDOWN} AND (articles.last_changed IS NULL OR e.at > articles.last_changed))")


def downgrade() -> None:
    with op.batch_alter_table('alert_outbox', schema=None) as batch_op:
        batch_op.drop_constraint('fk_alert_outbox_event_id_events', type_='foreignkey')
        batch_op.drop_column('event_id')
