"""One run of a schedule: open the run row, crawl in a ``python -m scraper`` child (discover,
track, re-check what is due), queue the due URLs instead when asked, close the run row.

The run row is opened first and closed last, so the history shows runs that failed, were
killed or timed out as well as those that finished; the first outcome recorded wins.
"""
from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from archive.crawls import CrawlRequest
from archive.schema.db import open_engine
from archive.watch import runs, schedules
from jobs.child import CrawlFailed, CrawlTimeout, run_crawl

MAX_ERROR_LINES = 5


def run_schedule(db_url: str, name: str, run_id: int | None = None, overrides: dict[str, str] | None = None,
                 queue: bool = False, timeout: float | None = None,
                 on_start: Callable[[subprocess.Popen[str]], None] | None = None,
                 stopping: Callable[[], bool] = lambda: False) -> dict[str, Any]:
    """Run schedule ``name`` once (in run row ``run_id``, or a new one); with ``queue``, hand the due
    URLs to the work queue instead of fetching them. Returns the run's summary; the row records it too."""
    engine = open_engine(db_url, writer=True)
    try:
        if run_id is None:
            with Session(engine) as session:
                schedule_id = schedules.get(session, name).id
            runs.mark_lost(engine)
            run_id = runs.start(engine, name, schedule_id)
        row = run_id

        def started(child: subprocess.Popen[str]) -> None:
            runs.set_pid(engine, row, child.pid)
            if on_start:
                on_start(child)

        request = CrawlRequest(db_url, settings=overrides or {}, schedule=name, fetch_due=not queue)
        try:
            result = run_crawl(request, timeout, f"run {run_id} of {name}", started,
                               lambda: runs.finish(engine, row, "timeout", error=f"killed after {timeout:.0f} s"))
        except CrawlFailed as exc:
            outcome = ("timeout" if isinstance(exc, CrawlTimeout) else "stopped" if stopping()
                       else "killed" if (exc.returncode or 0) < 0 else "failed")
            runs.finish(engine, run_id, outcome, error=str(exc))
            raise
        except BaseException as exc:
            runs.finish(engine, run_id, "stopped" if isinstance(exc, KeyboardInterrupt) else "failed",
                        error=f"{type(exc).__name__}: {exc}")
            raise
        queued = 0
        if queue:
            from jobs.queue import enqueue

            queued, _pending = enqueue(db_url, result.due)
        summary = result.summary()
        counts = {"discovered": result.discovered, "fetched": summary["fetched"],
                  "new_articles": summary["new_articles"], "new_versions": summary["new_versions"],
                  "failures": summary["failed"] + len(result.problems)}
        runs.finish(engine, run_id, "stopped" if result.stopped else "ok", counts,
                    error="\n".join(result.problems[:MAX_ERROR_LINES]) or None)
        return {"run": run_id, "job": name, **counts, "due": len(result.due), "queued": queued,
                "problems": result.problems, "outcomes": summary["outcomes"],
                "templates_learned": result.learned, "site_wide": result.site_wide}
    finally:
        engine.dispose()
