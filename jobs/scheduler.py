"""The foreground scheduler: APScheduler 3 fires schedules; each run is a child process.

Jobs live in APScheduler's in-memory store, rebuilt from Redline's ``schedules``
table at start and re-read every few seconds, so ``redline schedule add/pause``
take effect on a running scheduler and no job is ever unpickled from a database.
Each run crawls in a ``python -m scraper`` child (a Twisted reactor runs once per
process) with a hard timeout; one run per job at a time, and runs missed while
the scheduler was down coalesce into one.
"""
from __future__ import annotations

import logging
import signal
import subprocess
import threading
from dataclasses import dataclass
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session

from archive.clock import utcnow
from archive.schema.db import open_engine
from archive.watch import runs, schedules
from jobs.alert_sender import send_logged
from jobs.child import STOP_GRACE, signal_group, terminate
from jobs.schedule_run import run_schedule
from jobs.triggers import build_trigger, first_run

logger = logging.getLogger("redline.scheduler")
ALERTS_JOB = "redline:alerts"  # not a valid schedule name, so it never clashes with one
ALERTS_EVERY = 30.0  # seconds between alert passes (retries, digests), besides one after each run


@dataclass
class Options:
    db_url: str
    run_timeout: float = 3600.0
    sync_every: float = 10.0
    parallel: int = 2
    queue: bool = False


class Scheduler:
    """Keeps APScheduler's jobs in step with the schedules table and runs them as child processes."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.engine = open_engine(options.db_url, writer=True)
        self.aps = BackgroundScheduler(
            timezone="UTC", executors={"default": ThreadPoolExecutor(options.parallel), "alerts": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        self.known: dict[str, tuple[Any, ...]] = {}
        self.children: dict[str, subprocess.Popen[str]] = {}
        self.stopping = threading.Event()
        self.lock = threading.Lock()

    def run_forever(self) -> None:
        """Run until SIGTERM or SIGINT, then stop runs cleanly and return."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stopping.set())
        lost = runs.mark_lost(self.engine)
        if lost:
            logger.warning("closed %d run(s) left unfinished by a stopped process", lost)
        self.aps.start()
        self.aps.add_job(self.send_alerts, IntervalTrigger(seconds=ALERTS_EVERY, timezone="UTC"), id=ALERTS_JOB,
                         executor="alerts", next_run_time=utcnow())
        logger.info("scheduler started; database %s", self.engine.url.render_as_string(hide_password=True))
        try:
            while not self.stopping.is_set():
                self.sync()
                self.stopping.wait(self.options.sync_every)
        finally:
            self.shutdown()

    def sync(self) -> None:
        """Add, replace or drop jobs so they match the schedules table."""
        now = utcnow()
        with Session(self.engine) as session:
            rows = [] if self.stopping.is_set() else schedules.all_schedules(session)
            wanted = {row.name: row for row in rows if not row.paused}
            for name in set(self.known) - set(wanted):
                self.aps.remove_job(name)
                del self.known[name]
                logger.info("job %s removed or paused", name)
            for name, row in wanted.items():
                signature = (row.every_seconds, row.cron, row.timezone)
                if self.known.get(name) == signature:
                    continue
                trigger = build_trigger(row.every_seconds, row.cron, row.timezone)
                start = first_run(trigger, row.every_seconds, runs.last_started(session, row.id), now)
                if row.every_seconds:
                    trigger = IntervalTrigger(seconds=row.every_seconds, start_date=start, timezone="UTC")
                self.aps.add_job(self._run_and_alert, trigger, args=[name], id=name, name=name, next_run_time=start,
                                 replace_existing=True)
                self.known[name] = signature
                logger.info("job %s scheduled (%s); next run %s", name, trigger, start.isoformat(timespec="seconds"))

    def send_alerts(self) -> None:
        """Deliver pending alerts (the outbox); two passes at once never send one alert twice."""
        send_logged(self.engine)

    def _run_and_alert(self, name: str) -> None:
        self._run(name)
        if not self.stopping.is_set():
            self.send_alerts()

    def _run(self, name: str) -> None:
        if self.stopping.is_set():
            return
        with Session(self.engine) as session:
            schedule_id = schedules.get(session, name).id
        run_id = runs.start(self.engine, name, schedule_id)
        logger.info("run %d of %s started", run_id, name)

        def started(child: subprocess.Popen[str]) -> None:
            with self.lock:
                self.children[name] = child

        try:
            summary = run_schedule(self.options.db_url, name, run_id, queue=self.options.queue,
                                   timeout=self.options.run_timeout, on_start=started, stopping=self.stopping.is_set)
        except Exception as exc:  # noqa: BLE001  (the run row says how it ended; the log says why)
            logger.error("run %d of %s: %s", run_id, name, exc)
            return
        finally:
            with self.lock:
                self.children.pop(name, None)
        logger.info("run %d of %s: %s", run_id, name,
                    ", ".join(f"{key} {summary[key]}" for key in ("discovered", "fetched", "new_versions", "failures")))
        for found in summary["site_wide"]:
            logger.warning("run %d of %s: site-wide edit, a paragraph %s to %d articles of %s: %r", run_id, name,
                           found["action"], found["articles"], found["host"], found["text"])
        for learned in summary["templates_learned"]:
            logger.warning("run %d of %s: learned a template paragraph of %s (%s, %d of %d articles): %r; if it is "
                           "an edit, undo with '%s'", run_id, name, learned["host"], learned["why"],
                           learned["articles"], learned["of_articles"], learned["text"], learned["forget"])

    def shutdown(self) -> None:
        """Stop firing, let running runs flush and stop (SIGTERM, then SIGKILL), wait for them."""
        logger.info("stopping: %d run(s) in progress", len(self.children))
        self.aps.pause()
        with self.lock:
            running = list(self.children.values())
        for child in running:
            terminate(child)
        killer = threading.Timer(STOP_GRACE, lambda: [signal_group(c.pid, signal.SIGKILL) for c in running])
        killer.start()
        self.aps.shutdown(wait=True)
        killer.cancel()
        self.engine.dispose()
        logger.info("scheduler stopped")
