"""re-check due times worked out again: an article's age now counts from the times its page states

Revision ID: 0015
Revises: 0013

Due times stored before this counted an article's age from its first capture, so a story published years
before it was found is due as if new, and ``redline due`` would pair its stated age with the old interval.
Every tracked row is worked out again with a frozen copy of the rule (``archive.watch.recheck`` at this
revision): the live code may later read columns a later revision adds.
"""
import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0013'
branch_labels = None
depends_on = None

CHUNK = 5000
DEFAULT_POLICY = "6h:15m,1d:1h,30d:1d,14d"
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

def _when(name: str) -> sa.ColumnClause:
    return sa.column(name, sa.DateTime(timezone=True))  # stored as the archive stores it, on either backend


_tracked = sa.table('tracked', sa.column('id'), sa.column('schedule_id'), sa.column('url'), _when('first_seen'),
                    _when('last_seen'), _when('hint'), _when('hint_seen'), _when('due_at'), sa.column('due_why'))
_schedules = sa.table('schedules', sa.column('id'), sa.column('recheck'))
_urls = sa.table('article_urls', sa.column('url'), sa.column('article_id'))
_articles = sa.table('articles', sa.column('id'), _when('first_seen'), _when('last_checked'), _when('last_changed'),
                     sa.column('version_count'), sa.column('latest_version'))
_versions = sa.table('versions', sa.column('article_id'), sa.column('number'), sa.column('published'),
                     sa.column('updated'), _when('captured_at'))


def upgrade() -> None:
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(_query(last)).all()
        if not rows:
            return
        values = [{"row": r.id, "at": at, "why": why} for r in rows for at, why in [_due(r)]]  # all UTC
        conn.execute(sa.update(_tracked).where(_tracked.c.id == sa.bindparam('row'))
                     .values(due_at=sa.bindparam('at'), due_why=sa.bindparam('why')), values)
        last = rows[-1].id


def downgrade() -> None:
    """Nothing to undo: the due times are a cache the frontier keeps current either way."""


def _query(after: int) -> sa.Select:
    tr, a, v = _tracked, _articles, _versions
    return (sa.select(tr.c.id, tr.c.first_seen, tr.c.last_seen, tr.c.hint, tr.c.hint_seen, _schedules.c.recheck,
                      a.c.last_checked, a.c.last_changed, a.c.first_seen.label('article_seen'), a.c.version_count,
                      v.c.published, v.c.updated, v.c.captured_at)
            .join(_schedules, _schedules.c.id == tr.c.schedule_id).outerjoin(_urls, _urls.c.url == tr.c.url)
            .outerjoin(a, a.c.id == _urls.c.article_id)
            .outerjoin(v, (v.c.article_id == a.c.id) & (v.c.number == a.c.latest_version))
            .where(tr.c.id > after).order_by(tr.c.id).limit(CHUNK))


def _due(r: sa.Row) -> tuple[datetime, str]:
    last_checked = _utc(r.last_checked)
    if last_checked is None:
        return _utc(r.first_seen), "never fetched"
    hint, hint_seen = _utc(r.hint), _utc(r.hint_seen)
    hint = min(hint, hint_seen) if hint and hint_seen else hint
    if hint is not None and hint > last_checked:
        return _utc(r.last_seen), "listed as updated"
    anchor = _anchor(r) or last_checked
    steps, rest = _policy(r.recheck)
    older_than = None
    for younger_than, every in [*steps, (None, rest)]:
        at = last_checked + every if older_than is None else max(last_checked + every, anchor + older_than)
        if younger_than is None or at < anchor + younger_than:
            return at, f"every {_format(every)}"
        older_than = younger_than
    raise AssertionError("the policy's last interval always applies")


def _anchor(r: sa.Row) -> datetime | None:
    seen = _utc(r.last_changed) or _utc(r.article_seen)
    captured = _utc(r.captured_at)
    said = [at for at in (_parse(r.published), _parse(r.updated)) if at is not None and captured and at <= captured]
    if not said:
        return seen
    stated = max(said)
    return seen if seen is not None and (r.version_count or 0) > 1 and seen >= stated else stated


def _policy(text: str | None) -> tuple[list[tuple[timedelta, timedelta]], timedelta]:
    items = [item.strip() for item in (text or DEFAULT_POLICY).split(",") if item.strip()]
    steps = [(_duration(age), _duration(every)) for age, _, every in (i.partition(":") for i in items[:-1])]
    return steps, _duration(items[-1])


def _duration(text: str) -> timedelta:
    return timedelta(seconds=sum(int(n) * UNITS[u] for n, u in re.findall(r"(\d+)\s*([smhdw])", text.lower())))


def _format(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _parse(value: str | None) -> datetime | None:
    try:
        at = datetime.fromisoformat(value.strip()) if value else None
    except ValueError:
        return None
    return _utc(at)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

