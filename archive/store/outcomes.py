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


UNEXTRACTED = {FetchOutcome.EXTRACT_FAILED, FetchOutcome.BLOCKED, FetchOutcome.PAYWALLED}
WALLS = {"bot-wall": "a bot wall (a challenge for robots) was recognized on the page",
         "consent": "a consent wall (a cookie or privacy prompt before the article) was recognized on the page",
         "paywall": "a paywall was recognized on the page"}


def failure_reason(fetch: Capture, extracted: Extracted | None, outcome: FetchOutcome,
                   previous_words: int | None) -> str | None:
    """Why a page the server answered (2xx) gave no article, in words a user can act on; None for any
    other fetch (a failed download or an HTTP error says why in its status or its error).

    >>> from datetime import UTC, datetime
    >>> ok = Capture("http://a/", datetime(2024, 1, 1, tzinfo=UTC), status=200, body=b"<html>...</html>")
    >>> failure_reason(ok, Extracted("three short words"), FetchOutcome.EXTRACT_FAILED, None)
    'no article text found: 3 words extracted from the HTML (an article needs 25)'
    >>> failure_reason(ok, Extracted("word " * 30), FetchOutcome.EXTRACT_FAILED, 400)
    'the text collapsed: 30 words extracted, against 400 in the latest version'
    >>> failure_reason(ok, Extracted("", markers=["consent"]), FetchOutcome.BLOCKED, None)
    'a consent wall (a cookie or privacy prompt before the article) was recognized on the page'
    >>> blank = Capture("http://a/", ok.fetched_at, status=200, body=b"  ")
    >>> failure_reason(blank, None, FetchOutcome.EXTRACT_FAILED, None)
    'empty body: the server answered HTTP 200 with nothing to extract'
    >>> failure_reason(Capture("http://a/", ok.fetched_at, status=403), None, FetchOutcome.BLOCKED, None) is None
    True
    """
    if fetch.error or fetch.status is None or not 200 <= fetch.status < 300 or outcome not in UNEXTRACTED:
        return None
    if not (fetch.body or b"").strip():
        return f"empty body: the server answered HTTP {fetch.status} with nothing to extract"
    if extracted is None:
        return f"not an HTML page (Content-Type: {fetch.content_type or 'none'}): nothing to extract"
    if outcome != FetchOutcome.EXTRACT_FAILED:
        return next(WALLS[m] for m in ("paywall", "bot-wall", "consent") if m in extracted.markers)
    if extracted.why_empty:
        return extracted.why_empty
    words = len(extracted.text.split())
    if words < MIN_WORDS:
        return f"no article text found: {words} words extracted from the HTML (an article needs {MIN_WORDS})"
    return f"the text collapsed: {words} words extracted, against {previous_words} in the latest version"


@dataclass
class Recorded:
    """What recording one capture did."""

    url: str
    kind: str  # a RecordKind; for a fetch that made an event, its FetchOutcome (gone, blocked, ...)
    article_id: int | None = None
    version: int | None = None
    change_kinds: list[str] | None = None
    reason: str | None = None  # why a page the server answered gave no article (``failure_reason``)
