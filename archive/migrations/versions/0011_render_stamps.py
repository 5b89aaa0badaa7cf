"""render_stamps: times a fetched page carried that track the request, not the article (issue 22)

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'render_stamps',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('fetch_id', sa.Integer(), nullable=False),
        sa.Column('signal', sa.String(length=64), nullable=False),
        sa.Column('at', sa.String(length=64), nullable=False),
        sa.Column('declared', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['fetch_id'], ['fetches.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('render_stamps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_render_stamps_fetch_id'), ['fetch_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('render_stamps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_render_stamps_fetch_id'))
    op.drop_table('render_stamps')
