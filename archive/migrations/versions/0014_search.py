"""full-text search over every version's title, byline and text; existing versions indexed once

Revision ID: 0014
Revises: 0012
"""
import re
import unicodedata

import sqlalchemy as sa
import zstandard
from alembic import op

revision = '0014'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == 'postgresql':
        op.create_table('version_search',
        sa.Column('version_id', sa.Integer(), sa.ForeignKey('versions.id'), primary_key=True),
        sa.Column('words', sa.dialects.postgresql.TSVECTOR(), nullable=False))
        op.create_index('ix_version_search_words', 'version_search', ['words'], postgresql_using='gin')
        insert = sa.text("INSERT INTO version_search (version_id, words) VALUES (:id, to_tsvector('simple', :words))")
    else:
        op.execute("CREATE VIRTUAL TABLE version_search USING fts5(words, content='', tokenize='unicode61')")
        insert = sa.text("INSERT INTO version_search (rowid, words) VALUES (:id, :words)")
    _backfill(conn, insert)


def downgrade() -> None:
    op.drop_table('version_search')


# -- a frozen copy of what this revision indexes (archive/text/words.py and the stored text format) -----

_WORD = re.compile(r"[^\W_]+")
_versions = sa.table('versions', *(sa.column(c) for c in ('id', 'article_id', 'number', 'title', 'byline',
                                                        'text_blob', 'text_base')))


def _words(text):
    folded = unicodedata.normalize('NFKD', text.casefold())
    return _WORD.findall(''.join(c for c in folded if not unicodedata.combining(c)))


def _unpack(blob, base):
    if base is None:
        return zstandard.ZstdDecompressor().decompress(blob).decode('utf-8')
    zdict = zstandard.ZstdCompressionDict(base.encode('utf-8'), dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    return zstandard.ZstdDecompressor(dict_data=zdict).decompress(blob).decode('utf-8')


def _backfill(conn, insert):
    """Each article's versions in order, each text unpacked from its base version's (delta chains)."""
    query = sa.select(_versions).order_by(_versions.c.article_id, _versions.c.number)
    texts, article, rows = {}, None, []
    for v in conn.execute(query).yield_per(500):
        if v.article_id != article:
            texts, article = {}, v.article_id
        text = texts[v.number] = _unpack(v.text_blob, None if v.text_base is None else texts[v.text_base])
        rows.append({'id': v.id, 'words': ' '.join(w for t in (v.title, v.byline, text) if t for w in _words(t))})
        if len(rows) == 500:
            conn.execute(insert, rows)
            rows = []
    if rows:
        conn.execute(insert, rows)
