"""The crawl job queue: procrastinate on the archive's own PostgreSQL database.

One job re-checks one article URL. Jobs are deferred with the article's URL key as
procrastinate's queueing lock, so at most one job per article waits in the queue.
"""
from __future__ import annotations

import asyncio
import zlib
from collections.abc import Sequence
from typing import Any

from procrastinate import App, JobContext, PsycopgConnector, RetryStrategy
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.schema import SchemaManager
from sqlalchemy.engine import make_url

from archive.errors import ArchiveError
from archive.schema.db import open_engine
from archive.text.normalize import url_key
from jobs.child import CrawlFailed

QUEUE = "redline-recheck"
TASK = "redline.recheck"
# 5 attempts in all, waiting 2, 4, 8, 16 s between them. Retried: a failed crawl, and a job cut
# short when its worker stopped (procrastinate cancels it; it counts as an attempt).
RETRY = RetryStrategy(max_attempts=5, exponential_wait=2, retry_exceptions=[CrawlFailed, asyncio.CancelledError])
SCHEMA_LOCK = zlib.crc32(b"redline: apply job queue schema")  # advisory lock key, any fixed bigint


class QueueUnavailable(ArchiveError):
    """The job queue cannot work on this database (it needs PostgreSQL)."""


def conninfo(db_url: str) -> str:
    """A libpq connection string for a PostgreSQL SQLAlchemy URL.

    >>> conninfo("postgresql+psycopg://u:p@db.example:5433/redline")
    'postgresql://u:p@db.example:5433/redline'
    >>> conninfo("sqlite:///redline.db")
    Traceback (most recent call last):
    ...
    jobs.queue.QueueUnavailable: the job queue needs a PostgreSQL archive, not sqlite; pass --db postgresql+psycopg://USER@HOST/DB
    """
    url = make_url(db_url)
    if url.get_backend_name() != "postgresql":
        raise QueueUnavailable(f"the job queue needs a PostgreSQL archive, not {url.get_backend_name()}; "
                               "pass --db postgresql+psycopg://USER@HOST/DB")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class Superseded(Exception):
    """The crawl failed, but a newer job for the same article is already waiting: that one will re-check it."""


async def recheck(context: JobContext, url: str) -> None:
    """Crawl ``url`` in the worker's current batch; raises (and so is retried) if that crawl fails."""
    try:
        await context.additional_context["batcher"].crawl(url)
    except CrawlFailed:
        # Sending this job back to 'todo' would clash with the waiting one's queueing lock
        # (procrastinate leaves the job stuck in 'doing'); fail it without a retry instead.
        waiting = await context.app.job_manager.list_jobs_async(queueing_lock=context.job.queueing_lock, status="todo")
        if any(job.id != context.job.id for job in waiting):
            raise Superseded(f"crawl of {url} failed; a newer job for it is waiting") from None
        raise


def make_app(db_url: str, **pool: Any) -> App:
    """A procrastinate App on the archive's database, with the re-check task registered."""
    app = App(connector=PsycopgConnector(conninfo=conninfo(db_url), **pool))
    app.task(name=TASK, queue=QUEUE, pass_context=True, retry=RETRY)(recheck)
    return app


def ensure_schema(db_url: str) -> None:
    """Bring the archive schema to head, then add procrastinate's tables if missing.

    Runs under a PostgreSQL advisory lock, so processes starting at once apply it once.
    The archive goes first: it refuses to migrate a database that already has other tables.
    """
    import psycopg

    try:
        conn = psycopg.connect(conninfo(db_url), autocommit=True, connect_timeout=30)
    except psycopg.OperationalError as exc:
        raise QueueUnavailable(f"cannot connect to the queue database: {str(exc).strip().splitlines()[-1]}") from exc
    with conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            open_engine(db_url, writer=True).dispose()
            if conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone() == (None,):
                with conn.transaction():
                    conn.execute(SchemaManager.get_schema())  # type: ignore[arg-type]
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))


def enqueue(db_url: str, urls: Sequence[str]) -> tuple[int, int]:
    """Queue a re-check of each URL; returns (queued, skipped because one is already pending)."""
    ensure_schema(db_url)
    queued = skipped = 0
    app = make_app(db_url, min_size=1, max_size=1)
    with app.open():
        for url in urls:
            try:
                app.configure_task(TASK, queueing_lock=url_key(url)).defer(url=url)
                queued += 1
            except AlreadyEnqueued:
                skipped += 1
    return queued, skipped
