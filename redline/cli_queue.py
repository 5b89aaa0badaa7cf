"""``redline worker`` and the queueing half of ``redline crawl --queue`` (registered through ``COMMANDS``)."""
from __future__ import annotations

import click

from redline.options import UserError, handles_errors, parse_settings
from redline.output import emit_json


def enqueue_urls(db: str | None, urls: list[str], as_json: bool) -> None:
    """``redline crawl --queue``: queue a re-check per URL and print queued and skipped counts."""
    from archive.schema.db import database_url
    from jobs.queue import enqueue

    queued, skipped = enqueue(database_url(db), urls)
    if as_json:
        emit_json({"queued": queued, "skipped": skipped})
    else:
        click.echo(f"queued {queued}  skipped {skipped} (already pending)")


@click.command()
@click.option("--concurrency", type=click.IntRange(1), default=100, show_default=True,
              help="Jobs this worker holds at once (URLs in flight across its batches).")
@click.option("--batch-size", type=click.IntRange(1), default=50, show_default=True,
              help="URLs per crawl process.")
@click.option("--batch-wait", type=click.FloatRange(0), default=2.0, show_default=True, metavar="SECONDS",
              help="Start a crawl this long after its first URL arrived, even if the batch is not full.")
@click.option("--heartbeat", type=click.FloatRange(0.1), default=10.0, show_default=True, metavar="SECONDS",
              help="Heartbeat interval; a worker silent for 3 intervals is taken for dead and its jobs re-queued. "
                   "Use the same value on every worker.")
@click.option("--crawl-timeout", type=click.FloatRange(1), default=900.0, show_default=True, metavar="SECONDS",
              help="Kill a batch's crawl after this long (its jobs are retried).")
@click.option("--keep-hours", type=click.IntRange(0), default=168, show_default=True, metavar="HOURS",
              help="Delete finished jobs older than this from the queue table.")
@click.option("-s", "settings", multiple=True, metavar="NAME=VALUE", help="Scrapy setting for every crawl.")
@click.pass_context
@handles_errors
def worker(ctx: click.Context, concurrency: int, batch_size: int, batch_wait: float, heartbeat: float,
           crawl_timeout: float, keep_hours: int, settings: tuple[str, ...]) -> None:
    """Run queued re-checks until stopped (SIGTERM or Ctrl-C); needs a PostgreSQL archive.

    Jobs come from 'redline crawl --queue URL...' or the scheduler. Run one worker per
    machine, all with the same --db (or REDLINE_DB); a worker that dies has its jobs retried
    by the others.

    \b
    redline worker --concurrency 100 --batch-size 50
    redline worker -s DOWNLOAD_DELAY=2 --heartbeat 5
    """
    import asyncio
    import logging

    from archive.schema.db import database_url
    from jobs.log_secrets import install as install_scrubber
    from jobs.queue import conninfo
    from jobs.worker import WorkerConfig, serve

    url = database_url(ctx.obj["db"])
    overrides = parse_settings(settings)  # a malformed command line first (exit 2), then the database
    conninfo(url)  # fail fast, in one line, on SQLite
    if batch_size > concurrency:
        raise UserError(f"--batch-size {batch_size} exceeds --concurrency {concurrency}; a batch could never fill", 2)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("redline.worker").setLevel(logging.INFO)
    install_scrubber()  # alert targets' secrets never reach the log
    config = WorkerConfig(concurrency=concurrency, batch_size=batch_size, batch_wait=batch_wait, heartbeat=heartbeat,
                          crawl_timeout=crawl_timeout, keep_hours=keep_hours, settings=overrides)
    asyncio.run(serve(url, config))


COMMANDS = [worker]
