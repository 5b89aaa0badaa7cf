"""screenshots of versions: the images, the versions awaiting one, and a schedule's screenshot flag

Revision ID: 0019
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'screenshots',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('format', sa.String(length=8), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('page_height', sa.Integer(), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.Column('made_how', sa.String(length=32), nullable=False),
        sa.Column('subresources', sa.String(length=32), nullable=False),
        sa.Column('image', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['article_id'], ['articles.id']),
        sa.ForeignKeyConstraint(['version_id'], ['versions.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_screenshots_version_id', 'screenshots', ['version_id'])
    op.create_table(
        'screenshot_wanted',
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('wanted_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['version_id'], ['versions.id']),
        sa.PrimaryKeyConstraint('version_id'),
    )
    # a plain ALTER TABLE, never batch mode's copy of the table: on SQLite, dropping the old schedules table
    # would cascade to every tracked URL (tracked.schedule_id ON DELETE CASCADE)
    op.add_column('schedules', sa.Column('screenshot', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column('schedules', 'screenshot')  # SQLite 3.35 or later; see upgrade() for why not batch mode
    op.drop_table('screenshot_wanted')
    op.drop_index('ix_screenshots_version_id', table_name='screenshots')
    op.drop_table('screenshots')
