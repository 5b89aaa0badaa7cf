"""Identity by fetched URL: validators per URL, versions merged from another URL marked

Before this revision a page at another URL whose canonical link named an archived article was recorded
as a version of that article, its URL was made one of the article's URLs, and its ETag/Last-Modified
were sent on the article's next fetch. This revision:

* marks (``versions.from_other_url``) every version whose capture was fetched from a URL that is not the
  article's own: its key, or a URL a fetch of the article redirected from or to; and
  (``versions.against_other_url``) the first own version after one, whose change was measured against
  that other URL's text. Nothing is renumbered, split or deleted, so cited version numbers keep their meaning;
* detaches the URLs that only a canonical link tied to an article (``article_urls`` rows no fetch of the
  article reached by redirects), so the next crawl of such a URL starts an article of its own;
* moves the conditional-request validators (ETag, Last-Modified, last body sha256) from the article to
  the URL its last good fetch asked for (``article_urls``); an article that holds captures of another URL
  loses them (they may be that URL's), so its URL is fetched in full once.

``url_key`` is a frozen copy of ``archive.text.normalize.url_key`` as of this revision.

Revision ID: 0010
Revises: 0014
"""
import posixpath
import re
import sqlite3
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0014'
branch_labels = None
depends_on = None

VALIDATORS = (('etag', 512), ('last_modified', 128), ('last_body_sha256', 64))
GOOD = ('content', 'same-body', 'not-modified', 'noise-only')  # outcomes that set the validators
_TRACKING = re.compile(
    r"^(utm_\w*|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|igshid|mc_cid|mc_eid|"
    r"_ga|_gl|ref_src|ref_url|cmpid|ncid|ocid|smid|mkt_tok|__twitter_impression|at_\w+)$", re.IGNORECASE)
_PORTS = {"http": 80, "https": 443}

articles = sa.table('articles', sa.column('id', sa.Integer()), sa.column('key', sa.String()),
                    *(sa.column(name, sa.String()) for name, _ in VALIDATORS))
article_urls = sa.table('article_urls', sa.column('id', sa.Integer()), sa.column('article_id', sa.Integer()),
                        sa.column('url', sa.String()), *(sa.column(name, sa.String()) for name, _ in VALIDATORS))
fetches = sa.table('fetches', sa.column('id', sa.Integer()), sa.column('article_id', sa.Integer()),
                   sa.column('url', sa.String()), sa.column('final_url', sa.String()),
                   sa.column('fetched_at', sa.DateTime()), sa.column('outcome', sa.String()))
versions = sa.table('versions', sa.column('id', sa.Integer()), sa.column('article_id', sa.Integer()),
                    sa.column('number', sa.Integer()), sa.column('captured_at', sa.DateTime()),
                    sa.column('fetch_id', sa.Integer()), sa.column('from_other_url', sa.Boolean()),
                    sa.column('against_other_url', sa.Boolean()))


def url_key(url):
    """The key Redline identified a URL by at this revision (None for a URL that cannot be one)."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _PORTS or not parts.hostname:
        return None
    try:
        host = parts.hostname.lower().rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        return None
    host = f"[{host}]" if ":" in host else host
    netloc = host if port in (None, _PORTS[scheme]) else f"{host}:{port}"
    path = "/"
    if parts.path:
        path = posixpath.normpath(unquote(parts.path))
        path = "/" + path.lstrip("/") if path.startswith("//") else path
        path += "/" if parts.path.endswith("/") and path != "/" else ""
        path = quote(path, safe="/:@!$&'()*+,;=-._~%")
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if not _TRACKING.match(k)))
    return urlunsplit((scheme, netloc, path, query, ""))


def own_keys(key, rows):
    """The article's own URL keys: its key, and every URL a fetch of it redirected from or to one of them
    (a redirect to another article or a front page, outcome ``redirected``, ties nothing)."""
    own = {key}
    links = [(url_key(r.url), url_key(r.final_url)) for r in rows if r.final_url and r.outcome != 'redirected']
    grown = True
    while grown:
        grown = False
        for a, b in links:
            if (a in own) != (b in own) and a and b:
                own |= {a, b}
                grown = True
    return own


def mark(conn, article_id, foreign):
    """Mark the article's versions fetched from another URL, and each own version captured right after one."""
    rows = conn.execute(sa.select(versions.c.id, versions.c.fetch_id).where(versions.c.article_id == article_id)
                        .order_by(versions.c.captured_at, versions.c.number)).all()
    previous = False
    for row in rows:
        other = row.fetch_id in foreign
        if other or previous:
            conn.execute(versions.update().where(versions.c.id == row.id)
                         .values(from_other_url=other or None, against_other_url=(previous and not other) or None))
        previous = other


def upgrade() -> None:
    conn = op.get_bind()
    with op.batch_alter_table('article_urls') as batch_op:
        for name, size in VALIDATORS:
            batch_op.add_column(sa.Column(name, sa.String(length=size), nullable=True))
    with op.batch_alter_table('versions') as batch_op:
        batch_op.add_column(sa.Column('from_other_url', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('against_other_url', sa.Boolean(), nullable=True))
    for art in conn.execute(sa.select(articles)).all():
        rows = conn.execute(sa.select(fetches).where(fetches.c.article_id == art.id)
                            .order_by(fetches.c.fetched_at, fetches.c.id)).all()
        own = own_keys(art.key, rows)
        foreign = [r.id for r in rows if url_key(r.final_url or r.url) not in own]
        if foreign:
            mark(conn, art.id, set(foreign))
        conn.execute(article_urls.delete().where(article_urls.c.article_id == art.id,
                                                 article_urls.c.url.not_in(own)))
        good = [r for r in rows if r.outcome in GOOD]
        requested = url_key(good[-1].url) if good else None
        if requested in own and not foreign:  # else they may be another URL's: one full fetch, then its own
            conn.execute(article_urls.update().where(article_urls.c.url == requested)
                         .values({name: art._mapping[name] for name, _ in VALIDATORS}))
    for name, _ in VALIDATORS:
        if conn.dialect.name != 'sqlite' or sqlite3.sqlite_version_info >= (3, 35):
            op.execute(f'ALTER TABLE articles DROP COLUMN {name}')  # a batch copy would trip the foreign keys


def downgrade() -> None:
    conn = op.get_bind()
    present = {c['name'] for c in sa.inspect(conn).get_columns('articles')}
    for name, size in VALIDATORS:
        if name not in present:
            op.add_column('articles', sa.Column(name, sa.String(length=size), nullable=True))
    at_key = (article_urls.c.article_id == articles.c.id, article_urls.c.url == articles.c.key)
    conn.execute(articles.update().values({name: sa.select(article_urls.c[name]).where(*at_key).scalar_subquery()
                                           for name, _ in VALIDATORS}))
    with op.batch_alter_table('versions') as batch_op:
        batch_op.drop_column('from_other_url')
        batch_op.drop_column('against_other_url')
    with op.batch_alter_table('article_urls') as batch_op:
        for name, _ in VALIDATORS:
            batch_op.drop_column(name)
