"""A crawl worker: a procrastinate worker whose jobs share batched child crawls, and which
re-queues the jobs of workers that stopped heartbeating (killed, or their machine died)."""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from dataclasses import dataclass, field

from procrastinate import App
from procrastinate.exceptions import ConnectorException, UniqueViolation
from procrastinate.jobs import Status

from archive.schema.db import open_engine
from jobs.alert_sender import send_logged
from jobs.batch import Batcher
from jobs.child import CrawlFailed
from jobs.queue import QUEUE, RETRY, ensure_schema, make_app

log = logging.getLogger("redline.worker")
STALLED_HEARTBEATS = 3  # a worker silent for this many heartbeat intervals is taken for dead
CLEANUP_HEARTBEATS = 10  # finished jobs older than keep_hours are deleted this often


@dataclass
class WorkerConfig:
    """What ``redline worker`` was asked for."""

    concurrency: int = 100
    batch_size: int = 50
    batch_wait: float = 2.0
    heartbeat: float = 10.0
    crawl_timeout: float = 900.0
    keep_hours: int = 168
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def stalled_after(self) -> float:
        return self.heartbeat * STALLED_HEARTBEATS


async def retry_stalled(app: App, stalled_after: float) -> None:
    """Send back to the queue every job still 'doing' on a worker silent for ``stalled_after`` s.

    The task's retry strategy decides when, and whether attempts are left. If a newer job for
    the same article is already waiting, that one covers it: the stalled job is closed as
    failed instead (the queueing lock forbids a second waiting job).
    """
    for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after):
        assert job.id is not None
        decision = RETRY.get_retry_decision(exception=CrawlFailed("its worker stopped heartbeating"), job=job)
        try:
            if decision is None:
                await app.job_manager.finish_job_by_id_async(job.id, Status.FAILED, delete_job=False)
                continue
            try:
                await app.job_manager.retry_job(job, retry_at=decision.retry_at)
                log.warning("re-queued job %s (%s) from a stalled worker", job.id, job.task_kwargs.get("url"))
            except UniqueViolation:
                await app.job_manager.finish_job_by_id_async(job.id, Status.FAILED, delete_job=False)
        except ConnectorException:
            pass  # another worker dealt with it first


async def _housekeeping(app: App, config: WorkerConfig) -> None:
    """Every heartbeat re-queue stalled jobs; now and then delete finished jobs older than keep_hours."""
    for beat in itertools.count():
        try:
            await retry_stalled(app, config.stalled_after)
            if beat % CLEANUP_HEARTBEATS == 0:
                await app.job_manager.delete_old_jobs(nb_hours=config.keep_hours, queue=QUEUE, include_failed=True,
                                                      include_aborted=True)
        except ConnectorException:
            log.exception("housekeeping query failed; will try again")
        await asyncio.sleep(config.heartbeat)


async def _send_alerts(db_url: str, every: float) -> None:
    """Deliver pending alerts (versions this worker's crawls recorded, retries, digests) every ``every`` s."""
    engine = await asyncio.to_thread(open_engine, db_url, writer=True)
    try:
        while True:
            await asyncio.to_thread(send_logged, engine)
            await asyncio.sleep(every)
    finally:
        engine.dispose()


async def serve(db_url: str, config: WorkerConfig) -> None:
    """Run a worker until SIGTERM/SIGINT; then running crawls get one heartbeat interval to end.

    procrastinate stops heartbeating as shutdown begins, so waiting longer would let other workers
    take this one for dead; crawls still running are killed and their jobs retried. A worker
    killed harder loses nothing either: its jobs are re-queued once its heartbeat is stale.
    """
    ensure_schema(db_url)
    app = make_app(db_url, min_size=2, max_size=4)
    batcher = Batcher(db_url, config.settings, config.batch_size, config.batch_wait, config.crawl_timeout)
    async with app.open_async():
        watcher = asyncio.create_task(_housekeeping(app, config))
        sender = asyncio.create_task(_send_alerts(db_url, config.heartbeat))
        try:
            await app.run_worker_async(
                queues=[QUEUE], concurrency=config.concurrency, additional_context={"batcher": batcher},
                update_heartbeat_interval=config.heartbeat, stalled_worker_timeout=config.stalled_after,
                shutdown_graceful_timeout=config.heartbeat, delete_jobs="never")
        finally:
            for task in (watcher, sender):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await batcher.close()
