"""When to re-check an article: often while it is fresh, rarely once it has settled.

The age that matters is the time since the article last changed (or was first
seen), so a change resets the schedule. A feed or sitemap that reports an
update newer than the last check brings the next check forward to when it was listed.
The next check is worked out from stored times only (``next_due``), so that it can be kept in
an indexed column (:mod:`archive.frontier`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from archive.vocab import ArticleStatus

UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
DEFAULT_POLICY = "6h:15m,1d:1h,30d:1d,14d"


class BadDuration(ValueError):
    """A duration or re-check policy that cannot be read."""


def parse_duration(text: str) -> timedelta:
    """``45s``, ``30m``, ``2h``, ``1d``, ``1w`` (also combined: ``1h30m``).

    >>> parse_duration("1h30m")
    datetime.timedelta(seconds=5400)
    """
    parts = re.findall(r"(\d+)\s*([smhdw])", text.strip().lower())
    if not parts or re.sub(r"\d+\s*[smhdw]", "", text.strip().lower()).strip():
        raise BadDuration(f"bad duration {text!r}; use e.g. 45s, 30m, 2h, 1d")
    total = sum((timedelta(**{UNITS[unit]: int(n)}) for n, unit in parts), timedelta())
    if total <= timedelta():
        raise BadDuration(f"duration {text!r} must be longer than zero")
    return total


def format_duration(delta: timedelta) -> str:
    """The shortest unit form: ``timedelta(hours=1)`` -> ``1h``.

    >>> format_duration(timedelta(minutes=90))
    '90m'
    """
    seconds = int(delta.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True)
class Policy:
    """Re-check intervals by age: ``steps`` of (younger than, check every), then ``rest``."""

    steps: tuple[tuple[timedelta, timedelta], ...]
    rest: timedelta

    @classmethod
    def parse(cls, text: str | None) -> Policy:
        """``6h:15m,1d:1h,30d:1d,14d``: until 6 h old every 15 min, ..., then every 14 days.

        >>> Policy.parse("1h:1m,5m").interval(timedelta(minutes=5))
        datetime.timedelta(seconds=60)
        """
        items = [item.strip() for item in (text or DEFAULT_POLICY).split(",") if item.strip()]
        if not items or ":" in items[-1]:
            raise BadDuration(f"bad re-check policy {text!r}; end with the interval for old articles, "
                              f"e.g. {DEFAULT_POLICY}")
        steps = []
        for item in items[:-1]:
            age, sep, every = item.partition(":")
            if not sep:
                raise BadDuration(f"bad re-check step {item!r}; use AGE:EVERY, e.g. 6h:15m")
            steps.append((parse_duration(age), parse_duration(every)))
        if [age for age, _ in steps] != sorted(age for age, _ in steps):
            raise BadDuration(f"re-check policy {text!r}: ages must increase")
        return cls(tuple(steps), parse_duration(items[-1]))

    def interval(self, age: timedelta) -> timedelta:
        for younger_than, every in self.steps:
            if age < younger_than:
                return every
        return self.rest

    def __str__(self) -> str:
        steps = [f"{format_duration(a)}:{format_duration(e)}" for a, e in self.steps]
        return ",".join([*steps, format_duration(self.rest)])


NEVER_FETCHED = "never fetched"
LISTED = "listed as updated"


@dataclass(frozen=True)
class Due:
    """When one tracked URL is next due, and why: ``NEVER_FETCHED``, ``LISTED`` or the interval (``every 15m``)."""

    at: datetime
    why: str


def listed_update(hint: datetime | None, hint_seen: datetime | None) -> datetime | None:
    """When a feed or sitemap says the page was updated, never later than when that was first listed:
    a lastmod in the future (a wrong clock or time zone) is due once, when listed, not until it passes.

    >>> from datetime import UTC
    >>> t = datetime(2024, 1, 1, tzinfo=UTC)
    >>> listed_update(t + timedelta(days=365), t) == t, listed_update(t - timedelta(hours=1), t) < t
    (True, True)
    """
    return min(hint, hint_seen) if hint and hint_seen else hint


def next_due(policy: Policy, *, tracked_at: datetime, listed_at: datetime, hint: datetime | None,
             last_checked: datetime | None, last_changed: datetime | None, first_seen: datetime | None) -> Due:
    """When a tracked URL is next due, from stored times only, so it can be kept in an indexed column.

    Never fetched: due when it was first tracked. Listed (feed or sitemap) as updated after the last
    check: due when it was listed. Otherwise the first moment, after the last check, at which the policy's
    interval for the article's age then (time since its last change) has passed since the last check.
    ``hint`` is the listed update time as ``listed_update`` gives it.

    >>> from datetime import UTC
    >>> t = datetime(2024, 1, 1, tzinfo=UTC)
    >>> due = next_due(Policy.parse("6h:15m,1d:1h,14d"), tracked_at=t, listed_at=t, hint=None,
    ...                last_checked=t + timedelta(hours=5, minutes=50), last_changed=t, first_seen=t)
    >>> due.at - t, due.why
    (datetime.timedelta(seconds=24600), 'every 1h')
    """
    if last_checked is None:
        return Due(tracked_at, NEVER_FETCHED)
    if hint is not None and hint > last_checked:
        return Due(listed_at, LISTED)
    anchor = last_changed or first_seen or last_checked
    older_than: timedelta | None = None
    for younger_than, every in [*policy.steps, (None, policy.rest)]:
        at = last_checked + every if older_than is None else max(last_checked + every, anchor + older_than)
        if younger_than is None or at < anchor + younger_than:
            return Due(at, f"every {format_duration(every)}")
        older_than = younger_than
    raise AssertionError("the policy's last interval always applies")


def reason(why: str, now: datetime, *, hint: datetime | None, last_changed: datetime | None,
           first_seen: datetime | None, status: str | None) -> str:
    """The stored ``why`` of a due time as a sentence, ages counted to ``now``."""
    if why == NEVER_FETCHED:
        return why
    if why == LISTED:
        return f"listed as updated {_ago(now - hint)} ago, after the last check" if hint else why
    anchor = last_changed or first_seen
    state = (f"last changed {_ago(now - last_changed)} ago" if last_changed
             else f"first seen {_ago(now - anchor)} ago" if anchor else "")
    if status in (ArticleStatus.GONE, ArticleStatus.FAILING):
        state += f", {status}"
    return f"{state}: {why}" if state else why


def _ago(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
