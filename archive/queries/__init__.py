"""The query layer: every read a front (the CLI, the web view, alerts) makes, as plain typed results.

Fronts format these results and nothing more; filtering, limits and pagination happen here, in SQL.
Every function takes a ``Db`` (an Engine or a Connection), reads the Core tables of
:mod:`archive.schema.tables` and never imports ``sqlalchemy.orm``, so a view starts fast. Times are
timezone-aware UTC datetimes (``iso`` formats them as the JSON does); outcome, event and change
words are the StrEnums of :mod:`archive.vocab`. Problems the user can fix raise ``ArchiveError``
with a one-line message.

Articles
    ``lookup(db, url) -> ArticleRef | None``: the one article-by-URL lookup (any URL it was fetched
    under, requested or redirected to, tracking parameters or not; never a canonical link's).
    ``article(db, url) -> ArticleRef``: the same, or an ArchiveError saying what to do. Both also take
    an article's short ID (a prefix of the sha256 of its key) in place of a URL.
    ``related(db, ref) -> Related``: the copies at other URLs it is related to by canonical links
    (``copy_of``, ``also_published_at``). ``validators(db, url)``: one URL's conditional-request validators.
    ``short_ids(db, hashes) -> dict``, ``short_id(db, ref)``: short IDs, as long as it takes to be unique.
    ``list_articles(db, changed_since=, status=, site=, search=, limit=, after=) -> Page[ArticleSummary]``:
    most recently changed first.
History
    ``versions(db, url, stealth=, declared=, limit=, after=) -> Page[VersionEntry]``: oldest first;
    ``stealth`` / ``declared`` keep only such versions (either, when both are given).
    ``events(db, url, limit=, after=) -> Page[EventEntry]``: fetch events (gone, restored, ...), oldest first.
    ``log(db, url) -> Log``: an article with all its versions and all its events, kept separate.
    ``fetches(db, url) -> list[FetchEntry]``: every fetch with its outcome and what noise rules skipped.
    ``show(db, url, number=None) -> VersionDetail``: one version with its text (negative counts back).
    ``capture(db, url, number) -> VersionCapture``: the same with its provenance and each paragraph's noise rule.
    ``changes(db, site=, kinds=, stealth=, declared=, since=, until=, search=, article_id=, limit=, after=,
    grouped=, first_captures=) -> Page[ChangeEntry]``: versions, takedowns and restorations across the
    archive, newest first (``first_captures=False``: no version 1). ``last_recorded(db)``: the newest
    fetch, version or event time (None for an empty archive).
    ``diff(db, url, old=None, new=None, with_noise=False) -> Diff``: title, byline and declared-time
    changes, the changed pieces (``changes``) with their paragraph and sentence (``where``), and the
    text as ``paragraphs`` of word-level spans.
Jobs
    ``runs(db, job=, limit=, after=) -> Page[RunEntry]``: newest first.
    ``due(db, names=(), now=, limit=, only_due=) -> list[DueEntry]``: tracked URLs by when they are
    next due (soonest first), read from the stored due times that ``archive.watch.frontier`` keeps current.
    ``due_urls(db, name, now) -> Iterator[str]``: what one schedule has due, by keyset pages.
    ``list_schedules(db) -> list[ScheduleEntry]``: every schedule with its tracked count and last run.
Alerts
    ``version_change(db, article_id, number) -> VersionChange``: a version and its diff against the
    version captured before it. ``event_change(db, article_id, number, event_id) -> EventChange``: a
    takedown or restoration, with the version that was the article's latest then. ``latest_change(db)``: the change captured last, for samples.
    ``alert_rules(db) -> list[AlertRule]``: every rule by name, with its pending/sent/failed counts.
    ``alert_log(db, rule=, status=, limit=, after=) -> Page[AlertEntry]``: outbox rows, newest first.
Sites
    ``site_defaults(db) -> list[SiteDefaults]``, ``site_render_modes(db) -> dict[str, str]``: per-site crawl
    defaults (``redline site``).

Noise rules
    ``noise_rules(db) -> list[NoiseRule]``, ``learned_templates(db) -> list[LearnedTemplate]``: what
    ``redline ignore list`` shows.
Search
    ``search(db, phrase, site=, since=, removed=, limit=50) -> list[SearchHit]``: versions whose title,
    byline or text contain the phrase, newest first, each with the passage around the match.
Screenshots
    ``screenshots(db, article_id, numbers=None) -> dict[int, ScreenshotInfo]``: each version's latest
    screenshot, by number; ``screenshot_image(db, id) -> bytes``; ``pending_screenshots(db, limit=) ->
    list[Pending]``: versions marked for one, with their archived bodies (``pending_versions``: their ids).
Summaries
    ``reextract_summary(kinds) -> ReextractSummary``: what ``redline reextract`` did.

The package's modules follow these sections (``articles``, ``history``, ``diffs``, ``jobs``, ``alerts``,
``summaries``, with ``common`` below them all); this module re-exports their public names, so callers
import from ``archive.queries``. ``reading`` applies the noise rules to stored text; ``json_shapes`` holds
the documented JSON shapes built from these results; ``bodies`` reads raw bodies back whole from their
delta chains (``BodyReader``, ``read_body``), for every reader of a capture's bytes.

Pagination is by keyset: a ``Page`` holds ``items`` and ``next``, an opaque cursor to pass back
as ``after`` (None when there is no more).
"""
from __future__ import annotations

from archive.queries.alerts import AlertEntry, AlertRule, alert_log, alert_rules
from archive.queries.articles import (
    SHORT_ID,
    AmbiguousID,
    ArticleRef,
    ArticleSummary,
    Related,
    article,
    is_short_id,
    list_articles,
    lookup,
    related,
    short_id,
    short_ids,
    validators,
)
from archive.queries.common import Db, Page, iso
from archive.queries.diffs import (
    Diff,
    EventChange,
    FieldChange,
    VersionChange,
    VersionStamp,
    diff,
    event_change,
    latest_change,
    version_change,
)
from archive.queries.history import (
    ChangeEntry,
    ChangeSummary,
    EventEntry,
    FetchEntry,
    FieldWords,
    Log,
    VersionCapture,
    VersionDetail,
    VersionEntry,
    capture,
    changes,
    events,
    fetches,
    last_recorded,
    log,
    show,
    versions,
)
from archive.queries.jobs import DueEntry, LastRun, RunEntry, ScheduleEntry, due, due_urls, list_schedules, runs
from archive.queries.rules import LearnedTemplate, NoiseRule, learned_templates, noise_rules
from archive.queries.screenshots import (
    Pending,
    ScreenshotInfo,
    pending_screenshots,
    pending_versions,
    screenshot_image,
    screenshots,
)
from archive.queries.search import SearchHit, search
from archive.queries.sites import SiteDefaults, site_defaults, site_render_modes
from archive.queries.summaries import ReextractSummary, reextract_summary

__all__ = [
    "LearnedTemplate", "NoiseRule", "learned_templates", "noise_rules",
    "SiteDefaults", "site_defaults", "site_render_modes",
    "search", "SearchHit", "event_change", "EventChange", "FieldWords",
    "alert_log", "alert_rules", "AlertEntry", "AlertRule", "AmbiguousID", "article", "ArticleRef",
    "ArticleSummary", "VersionCapture", "capture", "ChangeEntry", "changes", "ChangeSummary", "Db", "Diff", "diff",
    "due", "due_urls", "DueEntry", "EventEntry", "events", "FetchEntry", "fetches", "FieldChange", "is_short_id",
    "iso", "LastRun", "last_recorded", "latest_change", "list_articles", "Log", "log", "lookup", "Page",
    "reextract_summary",
    "ReextractSummary", "RunEntry", "runs", "ScheduleEntry", "list_schedules", "SHORT_ID", "short_id", "short_ids",
    "show", "version_change", "VersionChange", "VersionDetail", "VersionEntry", "versions", "VersionStamp",
    "related", "Related", "validators",
    "Pending", "ScreenshotInfo", "pending_screenshots", "pending_versions", "screenshot_image", "screenshots",
]
