"""When to re-check an article: often while it is fresh, rarely once it has settled.

The age that matters is the time since the article last changed: since the later of the times its
page states (published, declared update) when it states one, so a story first found years after it was
published starts on the slow end; a change Redline observed after the first capture resets the clock. A feed or sitemap that reports an
update newer than the last check brings the next check forward to when it was listed.
The next check is worked out from stored times only (``next_due``), so that it can be kept in
an indexed column (:mod:`archive.frontier`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

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
class Since:
    """What an article's age counts from: ``label`` (published, updated, last changed, first seen) and when."""

    label: str
    at: datetime


def stated(published: str | None, updated: str | None, captured: datetime | None) -> Since | None:
    """The later of the published and declared-update times a version's page states (ISO, maybe date-only,
    UTC when no zone), ignoring any that cannot be read or that are later than the capture.

    >>> from datetime import UTC
    >>> t = datetime(2024, 1, 1, tzinfo=UTC)
    >>> stated("2019-03-04", "2019-05-01T10:00:00Z", t)
    Since(label='updated', at=datetime.datetime(2019, 5, 1, 10, 0, tzinfo=datetime.timezone.utc))
    >>> stated("2019-03-04", "2030-01-01", t).label, stated("soon", None, t), stated("2019-03-04", None, None)
    ('published', None, None)
    """
    if captured is None:
        return None
    found = [Since(label, at) for label, at in (("published", _parse(published)), ("updated", _parse(updated)))
             if at is not None and at <= captured]
    return max(found, key=lambda s: s.at, default=None)


def _parse(value: str | None) -> datetime | None:
    try:
        at = datetime.fromisoformat(value.strip()) if value else None
    except ValueError:
        return None
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def age_since(*, last_changed: datetime | None, first_seen: datetime | None, versions: int | None,
              stated: Since | None) -> Since | None:
    """What the age counts from: the stated time, or a change observed after the first capture if later.
    Without a stated time, the last change (the first capture counts as one), else when first seen.

    >>> from datetime import UTC
    >>> t = datetime(2024, 1, 1, tzinfo=UTC)
    >>> old = Since("published", datetime(2019, 3, 4, tzinfo=UTC))
    >>> age_since(last_changed=t, first_seen=t, versions=1, stated=old).label
    'published'
    >>> age_since(last_changed=t, first_seen=t, versions=2, stated=old).label
    'last changed'
    """
    seen = (Since("last changed", last_changed) if last_changed
            else Since("first seen", first_seen) if first_seen else None)
    if stated is None or (seen is not None and (versions or 0) > 1 and seen.at >= stated.at):
        return seen
    return stated


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
             last_checked: datetime | None, last_changed: datetime | None, first_seen: datetime | None,
             versions: int | None = None, stated: Since | None = None) -> Due:
    """When a tracked URL is next due, from stored times only, so it can be kept in an indexed column.

    Never fetched: due when it was first tracked. Listed (feed or sitemap) as updated after the last
    check: due when it was listed. Otherwise the first moment, after the last check, at which the policy's
    interval for the article's age then (counted as ``age_since`` says) has passed since the last check.
    ``hint`` is the listed update time as ``listed_update`` gives it; ``stated`` what ``stated`` gives for the
    latest version, ``versions`` how many the article has.

    >>> from datetime import UTC
    >>> t = datetime(2024, 1, 1, tzinfo=UTC)
    >>> due = next_due(Policy.parse("6h:15m,1d:1h,14d"), tracked_at=t, listed_at=t, hint=None,
    ...                last_checked=t + timedelta(hours=5, minutes=50), last_changed=t, first_seen=t)
    >>> due.at - t, due.why
    (datetime.timedelta(seconds=24600), 'every 1h')
    >>> old = Since("published", t - timedelta(days=800))
    >>> due = next_due(Policy.parse("6h:15m,1d:1h,14d"), tracked_at=t, listed_at=t, hint=None,
    ...                last_checked=t, last_changed=t, first_seen=t, versions=1, stated=old)
    >>> due.at - t, due.why
    (datetime.timedelta(days=14), 'every 2w')
    """
    if last_checked is None:
        return Due(tracked_at, NEVER_FETCHED)
    if hint is not None and hint > last_checked:
        return Due(listed_at, LISTED)
    since = age_since(last_changed=last_changed, first_seen=first_seen, versions=versions, stated=stated)
    anchor = since.at if since else last_checked
    older_than: timedelta | None = None
    for younger_than, every in [*policy.steps, (None, policy.rest)]:
        at = last_checked + every if older_than is None else max(last_checked + every, anchor + older_than)
        if younger_than is None or at < anchor + younger_than:
            return Due(at, f"every {format_duration(every)}")
        older_than = younger_than
    raise AssertionError("the policy's last interval always applies")


def reason(why: str, now: datetime, *, hint: datetime | None, last_changed: datetime | None,
           first_seen: datetime | None, status: str | None, versions: int | None = None,
           stated: Since | None = None) -> str:
    """The stored ``why`` of a due time as a sentence, ages counted to ``now`` from what ``next_due`` counted.

    >>> from datetime import UTC
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> reason("every 2w", t, hint=None, last_changed=t, first_seen=t, status="live", versions=1,
    ...        stated=Since("published", datetime(2019, 3, 4, tzinfo=UTC)))
    'published 6y ago: every 2w'
    """
    if why == NEVER_FETCHED:
        return why
    if why == LISTED:
        return f"listed as updated {_ago(now - hint)} ago, after the last check" if hint else why
    since = age_since(last_changed=last_changed, first_seen=first_seen, versions=versions, stated=stated)
    state = f"{since.label} {_ago(now - since.at)} ago" if since else ""
    if status in (ArticleStatus.GONE, ArticleStatus.FAILING):
        state += f", {status}"
    return f"{state}: {why}" if state else why


def _ago(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    for unit, size in (("y", 365 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
