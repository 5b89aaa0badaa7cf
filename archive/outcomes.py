"""Decide what a fetch was: content, or an event such as gone, blocked or failed."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archive.capture import Extracted, Fetch

BLOCKED_STATUSES = {401, 403, 429, 451}
GONE_STATUSES = {404, 410}
MIN_WORDS = 25          # a 200 with fewer words than this extracted nothing usable
COLLAPSE_RATIO = 0.35   # text shrinking below this share of the last version has collapsed

EVENT_KINDS = ("gone", "restored", "redirected", "blocked", "paywalled", "extract-failed", "failed", "recovered")


def fetch_outcome(fetch: Fetch, extracted: Extracted | None, previous_words: int | None) -> str:
    """One of ``content``, ``not-modified``, ``gone``, ``blocked``, ``paywalled``,
    ``extract-failed`` or ``failed``.

    >>> from datetime import UTC, datetime
    >>> now = datetime(2024, 1, 1, tzinfo=UTC)
    >>> fetch_outcome(Fetch("http://a/", now, status=410), None, None)
    'gone'
    >>> fetch_outcome(Fetch("http://a/", now, status=200), Extracted("word " * 30), None)
    'content'
    >>> fetch_outcome(Fetch("http://a/", now, status=200), Extracted("word " * 30, markers=["paywall"]), 400)
    'paywalled'
    """
    if fetch.status is None or fetch.error:
        return "failed"
    if fetch.status == 304:
        return "not-modified"
    if fetch.status in GONE_STATUSES:
        return "gone"
    if fetch.status in BLOCKED_STATUSES:
        return "blocked"
    if fetch.status >= 300:
        return "failed"
    return _content_outcome(extracted, previous_words)


def _content_outcome(extracted: Extracted | None, previous_words: int | None) -> str:
    words = len(extracted.text.split()) if extracted else 0
    markers = set(extracted.markers) if extracted else set()
    collapsed = words < MIN_WORDS or (previous_words is not None and words < previous_words * COLLAPSE_RATIO)
    if not collapsed:
        return "content"
    if "paywall" in markers:
        return "paywalled"
    if markers & {"bot-wall", "consent"}:
        return "blocked"
    return "extract-failed"


def summarize(counts: Mapping[str, int]) -> dict[str, Any]:
    """A crawl's recorded outcome kinds, as the figures ``crawl --json`` and ``runs`` report.

    >>> summarize({"new-article": 2, "unchanged": 3, "gone": 1})["failed"]
    1
    """
    return {
        "fetched": sum(counts.values()), "new_articles": counts.get("new-article", 0),
        "new_versions": counts.get("new-version", 0), "unchanged": counts.get("unchanged", 0),
        "failed": sum(n for kind, n in counts.items() if kind not in ("new-article", "new-version", "unchanged")),
        "outcomes": dict(sorted(counts.items())),
    }
