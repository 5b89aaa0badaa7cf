"""Redline's vocabulary: every outcome, event, change and status word, defined once.

Each is a ``StrEnum`` whose values are the strings stored in the database and printed in JSON,
so a member compares equal to its stored string and ``json.dumps`` writes it unchanged.

>>> FetchOutcome.SAME_BODY == "same-body", EventKind("gone") is EventKind.GONE
(True, True)
>>> import json; json.dumps([ChangeKind.HEADLINE])
'["headline"]'
"""
from __future__ import annotations

from enum import StrEnum


class FetchOutcome(StrEnum):
    """What one fetch was (column ``fetches.outcome``)."""

    CONTENT = "content"              # extracted text, compared with the latest version
    SAME_BODY = "same-body"          # the raw body is byte-identical to the last good capture
    NOT_MODIFIED = "not-modified"    # HTTP 304 to a conditional request
    NOISE_ONLY = "noise-only"        # differs from the latest version only in noise paragraphs
    REDIRECTED = "redirected"
    GONE = "gone"
    BLOCKED = "blocked"
    PAYWALLED = "paywalled"
    EXTRACT_FAILED = "extract-failed"
    FAILED = "failed"


class EventKind(StrEnum):
    """A fetch outcome worth showing in an article's history (column ``events.kind``): the six fetch
    outcomes that are not content, plus ``restored``, ``recovered`` and ``screenshot-failed`` (about a
    version's screenshot, not a fetch). The six repeat FetchOutcome's
    words on purpose (a stored event is a fetch outcome by name); this keeps them the same:

    >>> content = {"content", "same-body", "not-modified", "noise-only"}
    >>> derived = {"restored", "recovered", "screenshot-failed"}
    >>> {o.value for o in FetchOutcome} - content == {e.value for e in EventKind} - derived
    True
    """

    GONE = "gone"
    RESTORED = "restored"
    REDIRECTED = "redirected"
    BLOCKED = "blocked"
    PAYWALLED = "paywalled"
    EXTRACT_FAILED = "extract-failed"
    FAILED = "failed"
    RECOVERED = "recovered"
    SCREENSHOT_FAILED = "screenshot-failed"  # a version's screenshot could not be taken: its detail says why


class RecordKind(StrEnum):
    """What recording one capture did (``Outcome.kind``, the crawl's stats and JSON ``outcomes`` keys).

    Fetches that made an event are recorded under their fetch outcome's value (``gone``, ...).
    """

    NEW_ARTICLE = "new-article"
    NEW_VERSION = "new-version"
    UNCHANGED = "unchanged"
    DRIFT = "drift"                  # re-extraction changed the text: recorded as extractor drift
    RECOVERED = "recovered"          # 'renoise' found a capture the noise rules of its time suppressed
    REDIRECTED = "redirected"
    GONE = "gone"
    BLOCKED = "blocked"
    PAYWALLED = "paywalled"
    EXTRACT_FAILED = "extract-failed"
    FAILED = "failed"


class ChangeKind(StrEnum):
    """How a version differs from the one before (column ``versions.change_kinds``), in display order."""

    HEADLINE = "headline"
    BYLINE = "byline"
    BODY_EDIT = "body-edit"
    PARAGRAPH_ADDED = "paragraph-added"
    PARAGRAPH_REMOVED = "paragraph-removed"
    CORRECTION = "correction"
    DECLARED_UPDATE_ONLY = "declared-update-only"
    SITE_WIDE = "site-wide"          # one of a group: the same paragraph added to (or removed from) many
                                     # articles of the site at once (never stored in versions.change_kinds:
                                     # the group is its own record, archive.queries.sitewide)


class ArticleStatus(StrEnum):
    """Column ``articles.status``."""

    LIVE = "live"
    GONE = "gone"
    FAILING = "failing"


class RunOutcome(StrEnum):
    """Column ``runs.outcome``."""

    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    STOPPED = "stopped"
    TIMEOUT = "timeout"
    KILLED = "killed"
    INTERRUPTED = "interrupted"


# Events that are changes too: an article taken down (404/410) or back after one. They appear among
# the changes (web, feeds, ``list --changed-since``) and are alert kinds beside the change kinds.
TAKEDOWNS = (EventKind.GONE, EventKind.RESTORED)
# Every kind the Changes listing, its feeds and alert rules filter on: the change kinds, then the takedowns.
LISTED_KINDS: tuple[str, ...] = (*ChangeKind, *TAKEDOWNS)

# Text edits: every change kind but a moved update stamp.
TEXT_EDITS = tuple(k for k in ChangeKind if k is not ChangeKind.DECLARED_UPDATE_ONLY)


class RenderMode(StrEnum):
    """When a page is fetched through a browser (``--render``; columns ``schedules.render``, ``sites.render``)."""

    AUTO = "auto"    # statically, and again through the browser when the HTML is an app shell with no text
    JS = "js"        # always through the browser
    NEVER = "never"  # never through the browser


class FetchedWith(StrEnum):
    """How a fetch was made (column ``fetches.fetched_with``)."""

    HTTP = "http"        # Scrapy's HTTP handler
    BROWSER = "browser"  # the HTTP body, then the page loaded in a browser: its DOM is kept beside the body
