"""alerts: rules and the outbox

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alert_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('targets', sa.JSON(), nullable=False),
    sa.Column('sites', sa.JSON(), nullable=False),
    sa.Column('job', sa.String(length=100), nullable=True),
    sa.Column('kinds', sa.JSON(), nullable=True),
    sa.Column('stealth_only', sa.Boolean(), nullable=False),
    sa.Column('min_words', sa.Integer(), nullable=False),
    sa.Column('include_trivial', sa.Boolean(), nullable=False),
    sa.Column('digest', sa.String(length=16), nullable=True),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('alert_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=True),
    sa.Column('rule_id', sa.Integer(), nullable=True),
    sa.Column('rule', sa.String(length=100), nullable=False),
    sa.Column('target', sa.Text(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_token', sa.String(length=32), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('attempt_log', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id']),
    sa.ForeignKeyConstraint(['rule_id'], ['alert_rules.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('alert_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_outbox_key'), ['key'], unique=False)
        batch_op.create_index('ix_alert_outbox_status_next', ['status', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    op.drop_table('alert_outbox')
    op.drop_table('alert_rules')
