"""ORM classes of scheduled jobs (schedules, the URLs each tracks, the run history), mapped onto
the Core tables of :mod:`archive.tables`.

Kept apart from archive.models so that the store does not pay for mapping tables it never writes.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped

from archive.schema import tables as t
from archive.schema.models import Base


class Schedule(Base):
    """A crawl job: what to watch (feeds, sitemaps, URLs) and when (interval or cron in a zone)."""

    __table__ = t.schedules

    id: Mapped[int]
    name: Mapped[str]
    every_seconds: Mapped[int | None]
    cron: Mapped[str | None]
    timezone: Mapped[str]
    feeds: Mapped[list[str]]
    sitemaps: Mapped[list[str]]
    urls: Mapped[list[str]]
    urls_file: Mapped[str | None]
    recheck: Mapped[str | None]
    settings: Mapped[dict[str, str]]
    paused: Mapped[bool]
    created_at: Mapped[datetime]
    screenshot: Mapped[bool]
    render: Mapped[str | None]


class Tracked(Base):
    """An article URL a schedule watches, and the freshest update time its feed or sitemap gave."""

    __table__ = t.tracked

    id: Mapped[int]
    schedule_id: Mapped[int]
    url: Mapped[str]
    source: Mapped[str]
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    hint: Mapped[datetime | None]
    hint_seen: Mapped[datetime | None]
    due_at: Mapped[datetime]
    due_why: Mapped[str]


class Run(Base):
    """One run of a schedule (or of a queued batch): when, how it ended, and what it found."""

    __table__ = t.runs

    id: Mapped[int]
    schedule_id: Mapped[int | None]
    job: Mapped[str]
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    outcome: Mapped[str]
    host: Mapped[str | None]
    pid: Mapped[int | None]
    discovered: Mapped[int]
    fetched: Mapped[int]
    new_articles: Mapped[int]
    new_versions: Mapped[int]
    failures: Mapped[int]
    error: Mapped[str | None]
