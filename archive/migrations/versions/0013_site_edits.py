"""site-wide edits: a paragraph added to or removed from many articles of one site, grouped

Revision ID: 0013
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('site_edits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('hash', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('first_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('host', 'action', 'hash', name='uq_site_edits_host_action_hash')
    )
    op.create_table('site_edit_members',
    sa.Column('site_edit_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], ),
    sa.ForeignKeyConstraint(['site_edit_id'], ['site_edits.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['versions.id'], ),
    sa.PrimaryKeyConstraint('site_edit_id', 'version_id')
    )
    with op.batch_alter_table('site_edit_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_site_edit_members_version_id'), ['version_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('site_edit_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_site_edit_members_version_id'))
    op.drop_table('site_edit_members')
    op.drop_table('site_edits')
