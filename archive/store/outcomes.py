"""Decide what a fetch was: content, or an event such as gone, blocked or failed."""
from __future__ import annotations

from dataclasses import dataclass

from archive.capture import Capture, Extracted
from archive.vocab import FetchOutcome

BLOCKED_STATUSES = {401, 403, 429, 451}
GONE_STATUSES = {404, 410}
MIN_WORDS = 25          # a 200 with fewer words than this extracted nothing usable
COLLAPSE_RATIO = 0.35   # text shrinking below this share of the last version has collapsed


def fetch_outcome(fetch: Capture, extracted: Extracted | None, previous_words: int | None) -> FetchOutcome:
    """What a fetch was, from its status and what was extracted: content, or an event.

    >>> from datetime import UTC, datetime
    >>> now = datetime(2024, 1, 1, tzinfo=UTC)
    >>> fetch_outcome(Capture("http://a/", now, status=410), None, None)
    <FetchOutcome.GONE: 'gone'>
    >>> fetch_outcome(Capture("http://a/", now, status=200), Extracted("word " * 30), None)
    <FetchOutcome.CONTENT: 'content'>
    >>> fetch_outcome(Capture("http://a/", now, status=200), Extracted("word " * 30, markers=["paywall"]), 400)
    <FetchOutcome.PAYWALLED: 'paywalled'>
    """
    if fetch.status is None or fetch.error:
        return FetchOutcome.FAILED
    if fetch.status == 304:
        return FetchOutcome.NOT_MODIFIED
    if fetch.status in GONE_STATUSES:
        return FetchOutcome.GONE
    if fetch.status in BLOCKED_STATUSES:
        return FetchOutcome.BLOCKED
    if fetch.status >= 300:
        return FetchOutcome.FAILED
    return _content_outcome(extracted, previous_words)


def _content_outcome(extracted: Extracted | None, previous_words: int | None) -> FetchOutcome:
    words = len(extracted.text.split()) if extracted else 0
    markers = set(extracted.markers) if extracted else set()
    collapsed = words < MIN_WORDS or (previous_words is not None and words < previous_words * COLLAPSE_RATIO)
    if not collapsed:
        return FetchOutcome.CONTENT
    if "paywall" in markers:
        return FetchOutcome.PAYWALLED
    if markers & {"bot-wall", "consent"}:
        return FetchOutcome.BLOCKED
    return FetchOutcome.EXTRACT_FAILED


@dataclass
class Recorded:
    """What recording one capture did."""

    url: str
    kind: str  # a RecordKind; for a fetch that made an event, its FetchOutcome (gone, blocked, ...)
    article_id: int | None = None
    version: int | None = None
    change_kinds: list[str] | None = None
