"""fetching through a browser: how each fetch was made, the rendered DOM's body, render modes per
schedule and per site (and the per-site screenshot flag)

Revision ID: 0018
Revises: 0019 (main's head when this was rebased; 0019 itself revises 0016)
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('fetches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fetched_with', sa.String(16), nullable=False, server_default='http'))
        batch_op.add_column(sa.Column('rendered_sha256', sa.String(64), nullable=True))
    with op.batch_alter_table('schedules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('render', sa.String(8), nullable=True))
    op.create_table(
        'sites',
        sa.Column('host', sa.String(255), primary_key=True),
        sa.Column('render', sa.String(8), nullable=True),
        sa.Column('screenshot', sa.Boolean(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('sites')
    with op.batch_alter_table('schedules', schema=None) as batch_op:
        batch_op.drop_column('render')
    with op.batch_alter_table('fetches', schema=None) as batch_op:
        batch_op.drop_column('rendered_sha256')
        batch_op.drop_column('fetched_with')
