"""One run of a schedule, in this process: discover, track, pick what is due, fetch, close the run.

The run row is opened first and closed last, so the history shows runs that
failed or were killed as well as those that finished.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from archive import queries, runs, schedules
from archive.capture import Found
from archive.db import open_engine
from archive.tables import utcnow
from archive.outcomes import summarize

if TYPE_CHECKING:
    from scraper.run import WatchResult

MAX_ERROR_LINES = 5


def run_schedule(db_url: str, name: str, run_id: int | None = None, overrides: dict[str, str] | None = None,
                 queue: bool = False) -> dict[str, Any]:
    """Run schedule ``name`` once; with ``queue``, hand the due URLs to the work queue instead of
    fetching them here. Returns the run's summary; the run row records it too."""
    engine = open_engine(db_url, writer=True)
    try:
        if run_id is None:
            with Session(engine) as session:
                schedule_id = schedules.get(session, name).id
            runs.mark_lost(engine)
            run_id = runs.start(engine, name, schedule_id)
        try:
            result, tally = _watch(engine, db_url, name, overrides or {}, queue)
        except BaseException as exc:
            runs.finish(engine, run_id, "stopped" if isinstance(exc, KeyboardInterrupt) else "failed",
                        error=f"{type(exc).__name__}: {exc}")
            raise
        summary = summarize(result.counts)
        counts = {"discovered": tally["discovered"], "fetched": summary["fetched"],
                  "new_articles": summary["new_articles"], "new_versions": summary["new_versions"],
                  "failures": summary["failed"] + len(result.problems)}
        runs.finish(engine, run_id, "stopped" if result.stopped else "ok", counts,
                    error="\n".join(result.problems[:MAX_ERROR_LINES]) or None)
        return {"run": run_id, "job": name, **counts, "due": tally["due"], "queued": tally["queued"],
                "problems": result.problems, "outcomes": summary["outcomes"]}
    finally:
        engine.dispose()


def _watch(engine: Engine, db_url: str, name: str, overrides: dict[str, str],
           queue: bool) -> tuple[WatchResult, dict[str, int]]:
    from scraper.run import watch

    with Session(engine) as session:
        schedule = schedules.get(session, name)
        feeds, sitemaps = list(schedule.feeds), list(schedule.sitemaps)
        settings = {**schedule.settings, **overrides}
        listed = schedules.listed_urls(schedule)
    tally = {"discovered": 0, "due": 0, "queued": 0}

    def pick(found: list[Found]) -> list[str]:
        now = utcnow()
        tally["discovered"] = schedules.track(engine, name, [*found, *(Found(u, "list") for u in listed)], now)
        due = [item.url for item in queries.due(engine, [name], now=now, only_due=True)]
        tally["due"] = len(due)
        if not queue:
            return due
        from jobs.queue import enqueue

        tally["queued"], _pending = enqueue(db_url, due)
        return []

    return watch(feeds, sitemaps, pick, db_url, settings), tally
