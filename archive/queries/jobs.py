"""Jobs: runs, the frontier's due URLs, and schedules."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, func, literal, or_, select, union_all

from archive.errors import ArchiveError
from archive.queries.common import AU, TR, A, Db, Page, R, S, V, connected, cursor_values, make_page, parse_when
from archive.vocab import RunOutcome


@dataclass
class RunEntry:
    """One run of a schedule (or of a queued batch)."""

    id: int
    job: str
    started: datetime
    ended: datetime | None
    outcome: RunOutcome
    discovered: int
    fetched: int
    new_articles: int
    new_versions: int
    failures: int
    error: str | None


def runs(db: Db, *, job: str | None = None, limit: int | None = 20, after: str | None = None) -> Page[RunEntry]:
    """The run history, newest first."""
    query = select(R.c.id, R.c.job, R.c.started_at, R.c.ended_at, R.c.outcome, R.c.discovered, R.c.fetched,
                   R.c.new_articles, R.c.new_versions, R.c.failures, R.c.error
                   ).order_by(R.c.started_at.desc(), R.c.id.desc())
    if job:
        query = query.where(R.c.job == job)
    if after is not None:
        started, last_id = cursor_values(after, parse_when, int)
        query = query.where(or_(R.c.started_at < started, and_(R.c.started_at == started, R.c.id < last_id)))
    if limit is not None:
        query = query.limit(limit + 1)
    with connected(db) as conn:
        rows = [RunEntry(*r[:4], RunOutcome(r.outcome), *r[5:]) for r in conn.execute(query)]
    return make_page(rows, limit, lambda r: (r.started.isoformat(), r.id))


@dataclass
class DueEntry:
    """When one tracked URL is next re-checked, and why."""

    job: str
    url: str
    due: datetime
    due_now: bool
    reason: str
    last_checked: datetime | None


def _schedule_rows(conn: Connection, names: Sequence[str]) -> list[Row[Any]]:
    rows = {r.name: r for r in conn.execute(select(S.c.id, S.c.name).order_by(S.c.name))}
    for name in names:
        if name not in rows:
            raise ArchiveError(f"no schedule named {name!r}; see 'redline schedule list'")
    return [rows[n] for n in dict.fromkeys(names)] if names else list(rows.values())


def _due_query(schedule: Row[Any], now: datetime, limit: int | None, only_due: bool,
               after: tuple[datetime, str] | None = None) -> Any:
    """One schedule's tracked URLs in due order, read along the index ``ix_tracked_due``."""
    query = (select(literal(schedule.name).label("job"), TR.c.url, TR.c.hint, TR.c.hint_seen, TR.c.due_at, TR.c.due_why)
             .where(TR.c.schedule_id == schedule.id).order_by(TR.c.due_at, TR.c.url).limit(limit))
    if only_due:
        query = query.where(TR.c.due_at <= now)
    if after is not None:  # keyset: a range on due_at the index serves, ties broken by URL
        query = query.where(TR.c.due_at >= after[0], or_(TR.c.due_at > after[0], TR.c.url > after[1]))
    return query


def due(db: Db, names: Sequence[str] = (), *, now: datetime, limit: int | None = None,
        only_due: bool = False) -> list[DueEntry]:
    """What the named schedules (all when empty) track, soonest due first; ``only_due``: due by ``now``.

    Reads the stored due times (``archive.frontier``): at most ``limit`` rows per schedule, whatever
    the number of tracked URLs, then the articles of the rows returned, for the reasons."""
    from archive.watch.recheck import listed_update, reason, stated

    with connected(db) as conn:
        found = _schedule_rows(conn, names)
        if not found:
            return []
        parts = [_due_query(s, now, limit, only_due) for s in found]
        if len(parts) == 1:
            rows = conn.execute(parts[0]).all()
        else:
            union = union_all(*(select(p.subquery()) for p in parts)).subquery()
            rows = conn.execute(select(union).order_by(union.c.due_at, union.c.url).limit(limit)).all()
        urls = list({r.url for r in rows})
        articles = {a.url: a for start in range(0, len(urls), 500) for a in conn.execute(
            select(AU.c.url, A.c.last_checked, A.c.last_changed, A.c.first_seen, A.c.status, A.c.version_count,
                   V.c.published, V.c.updated, V.c.captured_at)
            .join(A, A.c.id == AU.c.article_id)
            .outerjoin(V, (V.c.article_id == A.c.id) & (V.c.number == A.c.latest_version))
            .where(AU.c.url.in_(urls[start:start + 500])))}
    entries = []
    for r in rows:
        a = articles.get(r.url)
        why = reason(r.due_why, now, hint=listed_update(r.hint, r.hint_seen), last_changed=a.last_changed if a else None,
                     first_seen=a.first_seen if a else None, status=a.status if a else None,
                     versions=a.version_count if a else None,
                     stated=stated(a.published, a.updated, a.captured_at) if a else None)
        entries.append(DueEntry(r.job, r.url, r.due_at, r.due_at <= now, why, a.last_checked if a else None))
    return entries


def due_urls(db: Db, name: str, now: datetime, page: int = 1000) -> Iterator[str]:
    """The URLs schedule ``name`` has due by ``now``, soonest first, a keyset page at a time."""
    after = None
    while True:
        with connected(db) as conn:
            found = _schedule_rows(conn, [name])[0]
            rows = conn.execute(_due_query(found, now, page, True, after)).all()
        yield from (r.url for r in rows)
        if len(rows) < page:
            return
        after = (rows[-1].due_at, rows[-1].url)


@dataclass
class LastRun:
    """When a schedule's latest run started and how it ended (so far)."""

    started: datetime
    outcome: RunOutcome


@dataclass
class ScheduleEntry:
    """A schedule as stored, with how many URLs it tracks and its latest run."""

    name: str
    every_seconds: int | None
    cron: str | None
    timezone: str
    feeds: list[str]
    sitemaps: list[str]
    urls: list[str]
    urls_file: str | None
    recheck: str | None
    settings: dict[str, str]
    paused: bool
    tracked: int
    last_run: LastRun | None
    screenshot: bool = False  # its runs take a screenshot of every new version
    render: str | None = None  # auto, js or never; None: each site's default


def list_schedules(db: Db) -> list[ScheduleEntry]:
    """Every schedule by name, with its tracked count and latest run, in one query."""
    latest = R.alias("latest")
    last_id = (select(latest.c.id).where(latest.c.schedule_id == S.c.id)
               .order_by(latest.c.started_at.desc(), latest.c.id.desc()).limit(1).correlate(S).scalar_subquery())
    tracked = select(func.count()).select_from(TR).where(TR.c.schedule_id == S.c.id).scalar_subquery()
    query = (select(S.c.name, S.c.every_seconds, S.c.cron, S.c.timezone, S.c.feeds, S.c.sitemaps, S.c.urls,
                    S.c.urls_file, S.c.recheck, S.c.settings, S.c.paused, tracked.label("tracked"),
                    R.c.started_at, R.c.outcome, S.c.screenshot, S.c.render)
             .select_from(S).outerjoin(R, R.c.id == last_id).order_by(S.c.name))
    with connected(db) as conn:
        return [ScheduleEntry(*r[:10], bool(r.paused), r.tracked,
                              LastRun(r.started_at, RunOutcome(r.outcome)) if r.started_at else None,
                              bool(r.screenshot), r.render)
                for r in conn.execute(query)]
