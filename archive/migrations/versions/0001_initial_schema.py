"""initial schema

Revision ID: 0001
Revises: (none)
"""
import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('articles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=2048), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('canonical_url', sa.String(length=2048), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_checked', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_changed', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version_count', sa.Integer(), nullable=False),
    sa.Column('etag', sa.String(length=512), nullable=True),
    sa.Column('last_modified', sa.String(length=128), nullable=True),
    sa.Column('last_body_sha256', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_articles_host'), ['host'], unique=False)
        batch_op.create_index(batch_op.f('ix_articles_last_changed'), ['last_changed'], unique=False)

    op.create_table('bodies',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )
    op.create_table('site_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('pattern', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('host', 'pattern', name='uq_site_rules_host_pattern')
    )
    with op.batch_alter_table('site_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_site_rules_host'), ['host'], unique=False)

    op.create_table('template_paragraphs',
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('hash', sa.String(length=16), nullable=False),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('host', 'hash')
    )
    op.create_table('article_urls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('url')
    )
    with op.batch_alter_table('article_urls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_article_urls_article_id'), ['article_id'], unique=False)

    op.create_table('fetches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('final_url', sa.String(length=2048), nullable=True),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('body_sha256', sa.String(length=64), nullable=True),
    sa.Column('content_type', sa.String(length=255), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], ),
    sa.ForeignKeyConstraint(['body_sha256'], ['bodies.sha256'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('fetches', schema=None) as batch_op:
        batch_op.create_index('ix_fetches_article_time', ['article_id', 'fetched_at'], unique=False)

    op.create_table('events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('fetch_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], ),
    sa.ForeignKeyConstraint(['fetch_id'], ['fetches.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_article_time', ['article_id', 'at'], unique=False)

    op.create_table('versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('captured_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fetch_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('byline', sa.Text(), nullable=True),
    sa.Column('published', sa.String(length=64), nullable=True),
    sa.Column('updated', sa.String(length=64), nullable=True),
    sa.Column('site_name', sa.Text(), nullable=True),
    sa.Column('language', sa.String(length=32), nullable=True),
    sa.Column('canonical_url', sa.String(length=2048), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('text_blob', sa.LargeBinary(), nullable=False),
    sa.Column('text_base', sa.Integer(), nullable=True),
    sa.Column('text_sha256', sa.String(length=64), nullable=False),
    sa.Column('words', sa.Integer(), nullable=False),
    sa.Column('paragraph_hashes', sa.JSON(), nullable=False),
    sa.Column('noise_hashes', sa.JSON(), nullable=False),
    sa.Column('extractor', sa.String(length=128), nullable=False),
    sa.Column('change_kinds', sa.JSON(), nullable=True),
    sa.Column('added_words', sa.Integer(), nullable=True),
    sa.Column('removed_words', sa.Integer(), nullable=True),
    sa.Column('declared', sa.Boolean(), nullable=True),
    sa.Column('reverts_to', sa.Integer(), nullable=True),
    sa.Column('drift', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], ),
    sa.ForeignKeyConstraint(['fetch_id'], ['fetches.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('article_id', 'number', name='uq_versions_article_number')
    )


def downgrade() -> None:
    op.drop_table('versions')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_article_time')

    op.drop_table('events')
    with op.batch_alter_table('fetches', schema=None) as batch_op:
        batch_op.drop_index('ix_fetches_article_time')

    op.drop_table('fetches')
    with op.batch_alter_table('article_urls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_article_urls_article_id'))

    op.drop_table('article_urls')
    op.drop_table('template_paragraphs')
    with op.batch_alter_table('site_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_site_rules_host'))

    op.drop_table('site_rules')
    op.drop_table('bodies')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_articles_last_changed'))
        batch_op.drop_index(batch_op.f('ix_articles_host'))

    op.drop_table('articles')
