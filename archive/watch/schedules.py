"""Crawl jobs as plain rows: what each watches, which article URLs it tracks, and what is due."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.orm import Session

from archive.capture import Found
from archive.errors import ArchiveError
from archive.schema import schedule_models as sm
from archive.schema import tables as t
from archive.text.normalize import BadURL, url_key, url_lines
from archive.watch import frontier
from archive.watch.alerts import remove_job_rules
from archive.watch.recheck import NEVER_FETCHED

CHUNK = 500  # URLs per IN (...) query: SQLite and psycopg cap the number of bound parameters
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@dataclass
class JobSpec:
    """What ``redline schedule add`` was given, validated before it is stored."""

    name: str
    every_seconds: int | None = None
    cron: str | None = None
    timezone: str = "UTC"
    feeds: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    urls_file: str | None = None
    recheck: str | None = None
    settings: dict[str, str] = field(default_factory=dict)
    screenshot: bool = False  # a screenshot of every new version its runs record
    render: str | None = None  # auto, js or never; None: each site's default


class InvalidSchedule(ArchiveError):
    """A schedule that cannot be stored as given (a malformed name, nothing to watch)."""


def validate(spec: JobSpec) -> None:
    """Raise InvalidSchedule for a spec that must not be stored."""
    if not NAME_RE.fullmatch(spec.name):
        raise InvalidSchedule(f"bad schedule name {spec.name!r}; use letters, digits, '.', '_' or '-'")
    if not (spec.feeds or spec.sitemaps or spec.urls or spec.urls_file):
        raise InvalidSchedule(f"schedule {spec.name!r} watches nothing; give URLs, --feed, --sitemap or --urls-file")


def add(engine: Engine, spec: JobSpec, now: datetime) -> None:
    """Store a new schedule; the name must be new."""
    validate(spec)
    with Session(engine) as session, session.begin():
        if session.scalar(select(sm.Schedule.id).where(sm.Schedule.name == spec.name)) is not None:
            raise ArchiveError(f"schedule {spec.name!r} already exists; remove it first")
        session.add(sm.Schedule(name=spec.name, every_seconds=spec.every_seconds, cron=spec.cron,
                               timezone=spec.timezone, feeds=spec.feeds, sitemaps=spec.sitemaps, urls=spec.urls,
                               urls_file=spec.urls_file, recheck=spec.recheck, settings=spec.settings,
                               paused=False, created_at=now, screenshot=spec.screenshot, render=spec.render))


def get(session: Session, name: str) -> sm.Schedule:
    """The schedule called ``name``, or a one-line error naming it."""
    row = session.scalar(select(sm.Schedule).where(sm.Schedule.name == name))
    if row is None:
        raise ArchiveError(f"no schedule named {name!r}; see 'redline schedule list'")
    return row


def all_schedules(session: Session) -> list[sm.Schedule]:
    return list(session.scalars(select(sm.Schedule).order_by(sm.Schedule.name)))


@dataclass
class Edit:
    """What ``redline schedule edit`` changes; None (or empty) leaves a field as it is."""

    every_seconds: int | None = None
    cron: str | None = None
    timezone: str | None = None
    recheck: str | None = None
    add_feeds: list[str] = field(default_factory=list)
    remove_feeds: list[str] = field(default_factory=list)
    add_sitemaps: list[str] = field(default_factory=list)
    remove_sitemaps: list[str] = field(default_factory=list)
    add_urls: list[str] = field(default_factory=list)
    remove_urls: list[str] = field(default_factory=list)
    urls_file: str | None = None  # "" drops the file
    settings: dict[str, str] = field(default_factory=dict)
    paused: bool | None = None
    screenshot: bool | None = None
    render: str | None = None


def edit(engine: Engine, name: str, change: Edit, check: Callable[[JobSpec], None] = validate) -> JobSpec:
    """Change a schedule in place: its tracked URLs and the alert rules bound to it stay. ``check`` may
    refuse the changed schedule (raising InvalidSchedule) before anything is stored. Returns the schedule
    as it now is; a change of re-check policy works out its tracked URLs' due times again."""
    with Session(engine) as session, session.begin():
        row = get(session, name)
        spec = JobSpec(name=row.name, every_seconds=row.every_seconds, cron=row.cron, timezone=row.timezone,
                       feeds=_edited(row.feeds, change.add_feeds, change.remove_feeds, "feed"),
                       sitemaps=_edited(row.sitemaps, change.add_sitemaps, change.remove_sitemaps, "sitemap"),
                       urls=_edited(row.urls, change.add_urls, change.remove_urls, "URL"),
                       urls_file=row.urls_file if change.urls_file is None else (change.urls_file or None),
                       recheck=row.recheck if change.recheck is None else change.recheck,
                       settings={**row.settings, **change.settings},
                       screenshot=row.screenshot if change.screenshot is None else change.screenshot,
                       render=row.render if change.render is None else change.render)
        if change.every_seconds is not None:
            spec.every_seconds, spec.cron, spec.timezone = change.every_seconds, None, "UTC"
        if change.cron is not None:
            spec.every_seconds, spec.cron = None, change.cron
        if change.timezone is not None:
            if spec.cron is None:
                raise InvalidSchedule("--tz applies to --cron only; intervals do not depend on a time zone")
            spec.timezone = change.timezone
        validate(spec)
        check(spec)
        recheck_changed = spec.recheck != row.recheck
        for key in ("every_seconds", "cron", "timezone", "feeds", "sitemaps", "urls", "urls_file", "recheck",
                    "settings", "screenshot", "render"):
            setattr(row, key, getattr(spec, key))
        if change.paused is not None:
            row.paused = change.paused
        session.flush()
        if recheck_changed:
            frontier.refresh(session.connection(), t.tracked.c.schedule_id == row.id)
        return spec


def _edited(current: list[str], add: list[str], remove: list[str], noun: str) -> list[str]:
    for url in remove:  # a malformed URL is a wrong command line (exit 2), not a missing entry (exit 1)
        try:
            url_key(url)
        except BadURL as exc:
            raise InvalidSchedule(f"{exc}; give the {noun} as 'redline schedule list --json' shows it") from exc
    missing = [u for u in remove if u not in current]
    if missing:
        raise ArchiveError(f"the schedule has no {noun} {missing[0]}; see 'redline schedule list --json'")  # exit 1
    return [u for u in current if u not in remove] + [u for u in add if u not in current]


@dataclass
class Dropped:
    """What removing a schedule drops with it."""

    tracked: int
    alert_rules: list[str]


def dropped_by_removal(engine: Engine, name: str) -> Dropped:
    """What ``remove`` would drop, to say so before it does."""
    with Session(engine) as session:
        row = get(session, name)
        tracked = session.scalar(select(func.count()).select_from(t.tracked).where(t.tracked.c.schedule_id == row.id))
        rules = session.scalars(select(t.alert_rules.c.name).where(t.alert_rules.c.job == name)
                                .order_by(t.alert_rules.c.name))
        return Dropped(tracked or 0, list(rules))


def remove(engine: Engine, name: str) -> Dropped:
    """Delete a schedule, its tracked URLs and the alert rules bound to it (their pending alerts are
    cancelled, kept in the log), in one transaction: a rule left without its schedule would no longer
    mean what it was made for. Its runs stay in the history."""
    with Session(engine) as session, session.begin():
        row = get(session, name)
        tracked = session.execute(delete(t.tracked).where(t.tracked.c.schedule_id == row.id)).rowcount
        rules = remove_job_rules(session.connection(), name)
        session.delete(row)
    return Dropped(tracked, rules)


def set_schedule_paused(engine: Engine, name: str, paused: bool) -> None:
    """Pause (its runs are skipped) or resume a schedule."""
    with Session(engine) as session, session.begin():
        get(session, name).paused = paused


def listed_urls(schedule: sm.Schedule) -> list[str]:
    """The schedule's own URLs plus those in its URL file, read now so edits to the file count."""
    urls = list(schedule.urls)
    if schedule.urls_file:
        try:
            text = Path(schedule.urls_file).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ArchiveError(f"cannot read URL file {schedule.urls_file}: "
                               f"{getattr(exc, 'strerror', None) or exc}") from exc
        urls += url_lines(text)
    return list(dict.fromkeys(urls))


def _kept_hint(row: Any, hint: datetime | None, now: datetime) -> dict[str, datetime | None]:
    """The tracked row's hint after a listing: a newer listed update time replaces the stored one and
    is first listed ``now``; otherwise the stored hint and when it was first listed stay."""
    if hint and (row.hint is None or hint > row.hint):
        return {"hint": hint, "hint_seen": now}
    return {"hint": row.hint, "hint_seen": row.hint_seen}


def track(engine: Engine, name: str, found: Iterable[Found], now: datetime) -> int:
    """Add found URLs to the schedule's tracking, keeping the newest hint; returns how many are new."""
    newest: dict[str, Found] = {}
    for item in found:
        try:
            key = url_key(item.url)
        except BadURL:
            continue
        old = newest.get(key)
        if old is None or (item.hint and (old.hint is None or item.hint > old.hint)):
            newest[key] = item
    keys = list(newest)
    with Session(engine) as session, session.begin():
        schedule_id = get(session, name).id
        existing = {row.url: row for start in range(0, len(keys), CHUNK) for row in session.execute(
                    select(sm.Tracked.id, sm.Tracked.url, sm.Tracked.hint, sm.Tracked.hint_seen).where(
                        sm.Tracked.schedule_id == schedule_id, sm.Tracked.url.in_(keys[start:start + CHUNK])))}
        fresh = [{"schedule_id": schedule_id, "url": key, "source": item.source, "first_seen": now, "last_seen": now,
                  "hint": item.hint, "hint_seen": now if item.hint else None, "due_at": now, "due_why": NEVER_FETCHED}
                 for key, item in newest.items() if key not in existing]
        if fresh:
            session.execute(insert(sm.Tracked), fresh)
        seen = [{"id": row.id, "last_seen": now, **_kept_hint(row, newest[url].hint, now)}
                for url, row in existing.items()]
        if seen:
            session.execute(update(sm.Tracked), seen)
        frontier.refresh_urls(session.connection(), schedule_id, keys)  # due times, in this transaction
    return len(fresh)
