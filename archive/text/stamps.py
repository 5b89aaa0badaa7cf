"""Declared times and render stamps: which of a page's stated times say something about the article.

A *declared* time is one the publisher states about the article (its publication, its last update). A
*render stamp* is a time that tracks the request instead: a "Page generated 2026-12-06 17:01:54 UTC"
line, or a ``dateModified`` a CMS fills in with the time of each request. It is recorded on the fetch
(``fetches.render_stamp``), never as a declared update or a published date, so it never makes a
``declared-update-only`` version. A render stamp is told apart

- on any fetch, by its label: a line naming the page's generation time (``scraper.dates``);
- from the second reading on, by its movement: a stated update time that equals the fetch time within
  :data:`RENDER_WINDOW`, when the value read at the article's previous reading equalled that reading's
  time too, is a render stamp if nothing else changed in between, or if that previous reading already
  recorded this signal as one (``archive.store.stamps``).

On an article's first reading, a stated update time close to the fetch time is kept as stated: nothing
yet tells it from a real update made minutes before the fetch.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

# A per-request time equals the fetch time but for clock skew between the servers and a page cache's age.
RENDER_WINDOW = timedelta(minutes=5)
# A page's clock, or a date written in local time without a zone, may run ahead of ours by this much.
FUTURE_SKEW = timedelta(hours=14)
# Update signals earlier releases read by markup heuristics (htmldate), which took dates the page did not
# state as its update time: a stored value from one is compared as unknown, never as a moved stamp.
RETIRED_SIGNALS = frozenset({"htmldate"})


def instant(iso: str) -> datetime:
    """An ISO value as :func:`scraper.dates.to_iso` writes it, as an aware datetime (UTC when it names no zone).

    >>> instant("2024-12-05T10:14:00-05:00").isoformat(), instant("2024-12-05").isoformat()
    ('2024-12-05T10:14:00-05:00', '2024-12-05T00:00:00+00:00')
    """
    parsed = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def tracks(value: str | None, at: datetime) -> bool:
    """Whether a stated time equals the time ``at`` of a fetch: within :data:`RENDER_WINDOW`, or, for a bare
    date, the fetch's own day in UTC.

    >>> at = datetime(2026, 12, 6, 17, 2, 30, tzinfo=UTC)
    >>> tracks("2026-12-06T17:01:54Z", at), tracks("2026-12-06T16:40:00Z", at), tracks("2026-12-06", at)
    (True, False, True)
    >>> tracks("2026-12-05", at), tracks(None, at), tracks("not a time", at)
    (False, False, False)
    """
    if not value:
        return False
    try:
        when = instant(value)
    except ValueError:
        return False
    if "T" not in value:
        return when.date() == at.astimezone(UTC).date()
    return abs(when - at) <= RENDER_WINDOW


def latest_plausible(candidates: list[tuple[str, str]], published: str | None,
                     now: datetime) -> tuple[str, str] | None:
    """(signal, ISO time) of the latest candidate that is neither in the future nor before publication;
    on a tie the more precise value (with a time of day), then the earlier-listed signal, wins.

    >>> now = datetime(2025, 1, 1, tzinfo=UTC)
    >>> latest_plausible([("json-ld", "2024-12-02"), ("visible", "2024-12-03T09:00:00Z")], None, now)
    ('visible', '2024-12-03T09:00:00Z')
    >>> latest_plausible([("json-ld", "2030-01-01"), ("meta", "2024-12-02")], None, now)
    ('meta', '2024-12-02')
    >>> latest_plausible([("json-ld", "2024-11-02")], "2024-12-01", now) is None
    True
    """
    floor = instant(published).replace(hour=0, minute=0, second=0) if published else None
    best: tuple[datetime, bool, int, str, str] | None = None
    for order, (signal, iso) in enumerate(candidates):
        try:
            when = instant(iso)
        except ValueError:
            continue
        if when > now + FUTURE_SKEW or (floor is not None and when < floor):
            continue
        key = (when, "T" in iso, -order, signal, iso)
        if best is None or key > best:
            best = key
    return (best[3], best[4]) if best else None
