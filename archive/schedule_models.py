"""Tables of scheduled jobs: schedules, the URLs each tracks, and the run history.

Kept apart from archive.models so that view commands (log, show, diff) do not pay
for mapping tables they never read.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from archive.models import Base, UTCDateTime


class Schedule(Base):
    """A crawl job: what to watch (feeds, sitemaps, URLs) and when (interval or cron in a zone).

    Stored as plain columns, never pickled: a database row must not become code.
    """

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    every_seconds: Mapped[int | None] = mapped_column(Integer)
    cron: Mapped[str | None] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    feeds: Mapped[list[str]] = mapped_column(JSON)
    sitemaps: Mapped[list[str]] = mapped_column(JSON)
    urls: Mapped[list[str]] = mapped_column(JSON)
    urls_file: Mapped[str | None] = mapped_column(Text)
    recheck: Mapped[str | None] = mapped_column(String(200))
    settings: Mapped[dict[str, str]] = mapped_column(JSON)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Tracked(Base):
    """An article URL a schedule watches, and the freshest update time its feed or sitemap gave."""

    __tablename__ = "tracked"
    __table_args__ = (UniqueConstraint("schedule_id", "url", name="uq_tracked_schedule_url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048), index=True)
    source: Mapped[str] = mapped_column(String(16))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    hint: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Run(Base):
    """One run of a schedule (or of a queued batch): when, how it ended, and what it found."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedules.id", ondelete="SET NULL"))
    job: Mapped[str] = mapped_column(String(100), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16))
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)
    discovered: Mapped[int] = mapped_column(Integer, default=0)
    fetched: Mapped[int] = mapped_column(Integer, default=0)
    new_articles: Mapped[int] = mapped_column(Integer, default=0)
    new_versions: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
