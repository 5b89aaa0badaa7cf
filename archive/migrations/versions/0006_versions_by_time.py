"""versions by capture time: the web view's cross-archive "changes" listing, newest first

Revision ID: 0006
Revises: 0005
"""
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_versions_captured', 'versions', ['captured_at', 'id'])


def downgrade() -> None:
    op.drop_index('ix_versions_captured', table_name='versions')
