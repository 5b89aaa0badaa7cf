"""When schedules fire: APScheduler 3 triggers built from a schedule row.

Cron expressions are read by APScheduler's ``CronTrigger`` but evaluated on the
wall clock of the schedule's zone by ``WallClockCron``: APScheduler 3.11's own
zone handling fires a daily 02:30 job twice on the night clocks go back, and
its next-fire computation steps backwards in the repeated hour.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from archive.errors import ArchiveError

if TYPE_CHECKING:
    from archive.queries import ScheduleEntry

TICK = timedelta(microseconds=1)
MAX_STEPS = 10_000  # candidates examined before giving up (an expression that never matches)


def zone(name: str) -> ZoneInfo:
    """A named time zone, or a one-line error naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ArchiveError(f"unknown time zone {name!r}; use an IANA name such as Europe/Berlin") from exc


class WallClockCron(BaseTrigger):
    """A crontab evaluated on the wall clock of ``tz``: each matching wall-clock time fires once.

    A time skipped when clocks go forward fires at the same distance after the change (02:30 on
    the spring-forward night runs at 03:30); a time repeated when clocks go back fires only on
    its first occurrence. Fire times strictly increase.
    """

    def __init__(self, expr: str, tz: ZoneInfo) -> None:
        try:
            self.wall = CronTrigger.from_crontab(expr, timezone=UTC)  # UTC has no DST: plain wall-clock steps
        except ValueError as exc:
            raise ArchiveError(f"bad cron expression {expr!r}: {exc}") from exc
        self.expr, self.tz = expr, tz

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        start = now if previous_fire_time is None else max(now, previous_fire_time + TICK)
        wall = start.astimezone(self.tz).replace(tzinfo=UTC, fold=0)
        for _ in range(MAX_STEPS):
            candidate = self.wall.get_next_fire_time(None, wall)
            if candidate is None:
                return None
            instant = candidate.replace(tzinfo=self.tz, fold=0).astimezone(UTC)
            if instant >= start:
                return instant
            wall = candidate + TICK  # this wall time already passed (repeated hour): look further
        return None

    def __str__(self) -> str:
        return f"cron[{self.expr}, {self.tz.key}]"


def build_trigger(every_seconds: int | None, cron: str | None, timezone: str) -> BaseTrigger:
    """The trigger for a schedule: a fixed interval, or a cron expression in a named zone."""
    if cron:
        return WallClockCron(cron, zone(timezone))
    assert every_seconds, "a schedule has either an interval or a cron expression"
    return IntervalTrigger(seconds=every_seconds, timezone=UTC)


def first_run(trigger: BaseTrigger, every_seconds: int | None, last_start: datetime | None,
              now: datetime) -> datetime:
    """When a (re)started scheduler should first run a job: now if it has never run or a run
    was missed while the scheduler was down (all missed runs coalesce into this one), else
    the next regular time after its last run."""
    if every_seconds:
        due = (last_start or now - timedelta(seconds=every_seconds)) + timedelta(seconds=every_seconds)
        return max(due, now)
    if last_start is None:
        return trigger.get_next_fire_time(None, now) or now
    due = trigger.get_next_fire_time(None, last_start + TICK)
    return now if due is None or due <= now else due


def next_run(schedule: ScheduleEntry, now: datetime) -> datetime | None:
    """When a running scheduler next runs ``schedule`` (None while it is paused)."""
    if schedule.paused:
        return None
    trigger = build_trigger(schedule.every_seconds, schedule.cron, schedule.timezone)
    return first_run(trigger, schedule.every_seconds, schedule.last_run.started if schedule.last_run else None, now)
