"""The foreground scheduler: APScheduler 3 fires schedules; each run is a child process.

Jobs live in APScheduler's in-memory store, rebuilt from Redline's ``schedules``
table at start and re-read every few seconds, so ``redline schedule add/pause``
take effect on a running scheduler and no job is ever unpickled from a database.
Each run is a ``redline schedule run`` child (a Twisted reactor runs once per
process) with a hard timeout; one run per job at a time, and runs missed while
the scheduler was down coalesce into one.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session

from archive import runs, schedules
from archive.db import open_engine
from archive.tables import utcnow
from jobs.alert_sender import send_logged
from jobs.triggers import build_trigger, first_run

logger = logging.getLogger("redline.scheduler")
STOP_GRACE = 30.0  # seconds a run gets to flush after SIGTERM before it is killed
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
            timezone="UTC", executors={"default": ThreadPoolExecutor(options.parallel)},
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
        args = [sys.executable, "-m", "redline", "--db", self.options.db_url, "schedule", "run", name,
                "--run-id", str(run_id), "--json"] + (["--queue"] if self.options.queue else [])
        logger.info("run %d of %s started", run_id, name)
        child = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, start_new_session=True)
        runs.set_pid(self.engine, run_id, child.pid)
        with self.lock:
            self.children[name] = child
        try:
            out, _ = child.communicate(timeout=self.options.run_timeout)
        except subprocess.TimeoutExpired:
            runs.finish(self.engine, run_id, "timeout", error=f"killed after {self.options.run_timeout:.0f} s")
            _stop(child)
            logger.error("run %d of %s timed out", run_id, name)
            return
        finally:
            with self.lock:
                self.children.pop(name, None)
        if child.returncode == 0:
            logger.info("run %d of %s: %s", run_id, name, _figures(out))
            return
        outcome = "stopped" if self.stopping.is_set() else "killed" if child.returncode < 0 else "failed"
        runs.finish(self.engine, run_id, outcome, error=f"exit status {child.returncode}")
        logger.error("run %d of %s %s (exit status %d)", run_id, name, outcome, child.returncode)

    def shutdown(self) -> None:
        """Stop firing, let running runs flush and stop (SIGTERM, then SIGKILL), wait for them."""
        logger.info("stopping: %d run(s) in progress", len(self.children))
        self.aps.pause()
        with self.lock:
            running = list(self.children.values())
        for child in running:
            _terminate(child)
        killer = threading.Timer(STOP_GRACE, lambda: [_signal_group(c, signal.SIGKILL) for c in running])
        killer.start()
        self.aps.shutdown(wait=True)
        killer.cancel()
        self.engine.dispose()
        logger.info("scheduler stopped")


def _stop(child: subprocess.Popen[str]) -> None:
    """SIGTERM the run, and SIGKILL its process group if it has not stopped within the grace time."""
    _terminate(child)
    try:
        child.communicate(timeout=STOP_GRACE)
    except subprocess.TimeoutExpired:
        _signal_group(child, signal.SIGKILL)
        child.communicate()


def _terminate(child: subprocess.Popen[str]) -> None:
    """SIGTERM the run's main process only: Scrapy then stops gracefully and closes its extraction
    workers itself (signalling them too would fail the pages they are extracting)."""
    try:
        child.send_signal(signal.SIGTERM)
    except ProcessLookupError:
        pass


def _signal_group(child: subprocess.Popen[str], signum: int) -> None:
    try:
        os.killpg(child.pid, signum)
    except ProcessLookupError:
        pass


def _figures(out: str) -> str:
    try:
        data = json.loads(out)
    except ValueError:
        return "finished"
    return ", ".join(f"{key} {data.get(key, 0)}" for key in ("discovered", "fetched", "new_versions", "failures"))
