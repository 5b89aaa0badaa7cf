"""noise evidence: skipped paragraphs per fetch, template evidence, recovered versions, date signal

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('latest_version', sa.Integer(), nullable=True))
    op.execute("UPDATE articles SET latest_version = version_count WHERE version_count > 0")
    with op.batch_alter_table('fetches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('noise', sa.JSON(), nullable=True))
    with op.batch_alter_table('versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_signal', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('noise_spans', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('recovered_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('template_paragraphs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('witnesses', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('seen', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('examples', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('template_paragraphs', schema=None) as batch_op:
        for name in ('examples', 'seen', 'witnesses', 'text'):
            batch_op.drop_column(name)
    with op.batch_alter_table('versions', schema=None) as batch_op:
        for name in ('recovered_at', 'noise_spans', 'updated_signal'):
            batch_op.drop_column(name)
    with op.batch_alter_table('fetches', schema=None) as batch_op:
        batch_op.drop_column('noise')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('latest_version')
