"""articles.key_sha256: the sha256 of each article's key, whose prefix is its short ID

Revision ID: 0008
Revises: 0007
"""
import hashlib

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    if 'key_sha256' not in {c['name'] for c in sa.inspect(conn).get_columns('articles')}:
        op.add_column('articles', sa.Column('key_sha256', sa.String(length=64), nullable=True))
    articles = sa.table('articles', sa.column('id', sa.Integer()), sa.column('key', sa.String()),
                        sa.column('key_sha256', sa.String()))
    rows = conn.execute(sa.select(articles.c.id, articles.c.key).where(articles.c.key_sha256.is_(None))).all()
    for row in rows:
        conn.execute(articles.update().where(articles.c.id == row.id).values(key_sha256=hashlib.sha256(row.key.encode('utf-8')).hexdigest()))
    if 'ix_articles_key_sha256' not in {i['name'] for i in sa.inspect(conn).get_indexes('articles')}:
        op.create_index(op.f('ix_articles_key_sha256'), 'articles', ['key_sha256'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_articles_key_sha256'), table_name='articles')
    op.drop_column('articles', 'key_sha256')
