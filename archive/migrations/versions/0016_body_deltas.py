"""raw bodies stored as deltas: each body may name the body it is compressed against, and its depth

Existing bodies stay whole (base NULL, depth 0); new captures are stored against the previous body
of their article at once, and ``redline repack`` re-stores the old ones (it is a command, not this
migration: migrations run when an archive is opened, and repacking a large archive takes a while).

Revision ID: 0016
Revises: 0017
"""
import sqlalchemy as sa
import zstandard
from alembic import op

revision = '0016'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('bodies', sa.Column('base_sha256', sa.String(64), nullable=True))
    op.add_column('bodies', sa.Column('depth', sa.Integer(), nullable=False, server_default='0'))
    op.create_index('ix_bodies_base', 'bodies', ['base_sha256'])


def downgrade() -> None:
    """Store every delta whole again first (shallowest first, so each base is whole when read): older
    Redline reads ``data`` alone."""
    conn = op.get_bind()
    bodies = sa.table('bodies', sa.column('sha256'), sa.column('data'), sa.column('base_sha256'),
                      sa.column('depth'))
    deltas = conn.execute(sa.select(bodies.c.sha256, bodies.c.base_sha256).where(bodies.c.base_sha256.is_not(None))
                          .order_by(bodies.c.depth, bodies.c.sha256)).all()
    for sha, base_sha in deltas:
        base = zstandard.ZstdDecompressor().decompress(
            conn.execute(sa.select(bodies.c.data).where(bodies.c.sha256 == base_sha)).scalar_one())
        data = conn.execute(sa.select(bodies.c.data).where(bodies.c.sha256 == sha)).scalar_one()
        zdict = zstandard.ZstdCompressionDict(base, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
        whole = zstandard.ZstdDecompressor(dict_data=zdict).decompress(data)
        conn.execute(bodies.update().where(bodies.c.sha256 == sha)
                     .values(data=zstandard.ZstdCompressor(level=3).compress(whole), base_sha256=None, depth=0))
    op.drop_index('ix_bodies_base', 'bodies')
    with op.batch_alter_table('bodies') as batch:
        batch.drop_column('depth')
        batch.drop_column('base_sha256')
