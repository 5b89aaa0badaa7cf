"""The documented JSON shapes of the views (README, "JSON contract"), built from query results.

Every front that prints or serves JSON uses these, so a shape changes in one place, on purpose.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from archive.queries.common import iso

if TYPE_CHECKING:
    from archive.queries import (
        AlertEntry,
        AlertRule,
        ArticleSummary,
        Diff,
        DueEntry,
        EventEntry,
        FetchEntry,
        LearnedTemplate,
        NoiseRule,
        ReextractSummary,
        Related,
        RunEntry,
        ScheduleEntry,
        SearchHit,
        SiteDefaults,
        VersionDetail,
        VersionEntry,
    )


def stamp(value: datetime | None) -> str | None:
    """The jobs views' time form: ISO 8601 with its offset, to the second."""
    return value.isoformat(timespec="seconds") if value else None


def article(a: ArticleSummary) -> dict[str, Any]:
    return {"id": a.short_id, "url": a.url, "title": a.title, "status": a.status, "versions": a.versions,
            "first_seen": iso(a.first_seen), "last_checked": iso(a.last_checked), "last_changed": iso(a.last_changed)}


def version(v: VersionEntry, detail: bool = False) -> dict[str, Any]:
    """A version as ``log --json`` gives it; ``detail`` (``log --all``) adds where its update time came from
    and, in its change, when ``renoise`` recovered it. A recovered version always says so."""
    change = asdict(v.change) if v.change else None
    if change is not None and (detail or v.recovered_at):
        change["recovered_at"] = iso(v.recovered_at)
    entry = {"version": v.version, "captured_at": iso(v.captured_at), "title": v.title, "published": v.published,
             "updated": v.updated, "words": v.words, "change": change, "fetched_url": v.fetched_url,
             "from_other_url": v.from_other_url, "screenshot": v.screenshot.as_json() if v.screenshot else None}
    return {**entry, "updated_signal": v.updated_signal} if detail else entry


def noise_rule(r: NoiseRule) -> dict[str, Any]:
    return {"host": r.host, "pattern": r.pattern}


def learned_template(lt: LearnedTemplate) -> dict[str, Any]:
    """``ignore list --learned --json``: a learned paragraph and its evidence."""
    return {"host": lt.host, "hash": lt.hash, "first_seen": iso(lt.first_seen), "text": lt.text,
            "articles": lt.articles, "of_articles": lt.of_articles, "examples": lt.examples}


def search_hit(h: SearchHit) -> dict[str, Any]:
    """``redline search --json``: one version containing the phrase, and the passage around the match."""
    return {**asdict(h), "captured_at": iso(h.captured_at)}


def site(s: SiteDefaults) -> dict[str, Any]:
    """``redline site list --json``: a site's defaults, null where not set."""
    return {"host": s.host, "render": s.render, "screenshot": s.screenshot, "updated_at": iso(s.updated_at)}


def fetch(f: FetchEntry) -> dict[str, Any]:
    return {"fetch": f.outcome, "at": iso(f.at), "status": f.status, "url": f.url, "body_sha256": f.body_sha256,
            "noise": f.noise, "render_stamps": f.render_stamps,
            "reason": f.reason, "fetched_with": f.fetched_with, "rendered_sha256": f.rendered_sha256}


def full_log(versions: list[VersionEntry], events: list[EventEntry], fetches: list[FetchEntry],
             related: Related, learned: Sequence[LearnedTemplate] = ()) -> dict[str, Any]:
    """``log --all --json``: versions, events and every fetch, each in time order, the copies at other URLs
    the article is related to by canonical links, and the learned site template paragraphs that skipped
    paragraphs in those fetches, each with the command that forgets it."""
    return {"versions": [version(v, detail=True) for v in versions], "events": [event(e) for e in events],
            "fetches": [fetch(f) for f in fetches], "copy_of": related.copy_of,
            "also_published_at": related.also_published_at, "learned": [skipping_template(t) for t in learned]}


def skipping_template(t: LearnedTemplate) -> dict[str, Any]:
    """A learned template paragraph as ``log --all --json`` lists it."""
    return {"host": t.host, "hash": t.hash, "text": t.text, "first_seen": iso(t.first_seen), "articles": t.articles,
            "of_articles": t.of_articles, "forget": t.forget}


def event(e: EventEntry) -> dict[str, Any]:
    return {"event": e.event, "at": iso(e.at), "detail": e.detail}


def log(versions: list[VersionEntry], events: list[EventEntry]) -> list[dict[str, Any]]:
    """``log --json``: the versions; with ``--events``, the fetch events among them, by time to the
    microsecond, though printed to the second (versions first at equal times)."""
    timed = [(v.captured_at, 0, version(v)) for v in versions] + [(e.at, 1, event(e)) for e in events]
    return [entry for *_, entry in sorted(timed, key=lambda t: t[:2])]


def show(d: VersionDetail) -> dict[str, Any]:
    return {**asdict(d), "captured_at": iso(d.captured_at)}


def diff(d: Diff, context: bool = False) -> dict[str, Any]:
    return d.as_json(context)


def run(r: RunEntry) -> dict[str, Any]:
    return {**asdict(r), "started": stamp(r.started), "ended": stamp(r.ended)}


def due(d: DueEntry) -> dict[str, Any]:
    return {**asdict(d), "due": stamp(d.due), "last_checked": stamp(d.last_checked)}


def schedule(s: ScheduleEntry, when: str, next_run: datetime | None) -> dict[str, Any]:
    """A schedule, with its timing in words and its next run (worked out by the scheduler's triggers)."""
    last = {"started": stamp(s.last_run.started), "outcome": s.last_run.outcome} if s.last_run else None
    return {"name": s.name, "every_seconds": s.every_seconds, "cron": s.cron, "timezone": s.timezone, "when": when,
            "feeds": s.feeds, "sitemaps": s.sitemaps, "urls": s.urls, "urls_file": s.urls_file, "recheck": s.recheck,
            "settings": s.settings, "paused": s.paused, "tracked": s.tracked, "last_run": last,
            "next_run": stamp(next_run), "screenshot": s.screenshot, "render": s.render}


def reextract(r: ReextractSummary) -> dict[str, Any]:
    return asdict(r)


def alert_rule(r: AlertRule) -> dict[str, Any]:
    """``alert list --json``: a rule, its filters and its outbox counts (targets as scheme and host only)."""
    from archive.watch.alerts import private_target

    return {**asdict(r), "targets": [private_target(u) for u in r.targets], "created_at": iso(r.created_at)}


def alert_entry(e: AlertEntry) -> dict[str, Any]:
    """``alert log --json``: one outbox row (target shown as scheme and host only, errors without its secrets)."""
    from archive.watch.alerts import private_target, scrub

    attempts = [{**a, "error": a["error"] and scrub(a["error"], [e.target])} for a in e.attempt_log]
    return {**asdict(e), "target": private_target(e.target), "created_at": iso(e.created_at),
            "last_error": e.last_error and scrub(e.last_error, [e.target]), "attempt_log": attempts,
            "due_at": iso(e.due_at), "next_attempt_at": iso(e.next_attempt_at), "sent_at": iso(e.sent_at)}
