"""Queue benchmark: crawl throughput of one and two ``redline worker`` processes, and the queue's
own cost per article (enqueue + fetch + finish, no crawl).

    python -m bench.queue              # 240 pages, 2000 no-op jobs: about 3 minutes
    python -m bench.queue --pages 80   # quicker

Loopback only: a throwaway PostgreSQL (tests/pg.py) and the bench corpus sites. Prints a table
and writes the numbers to bench/results/queue-<UTC timestamp>.json. Exits 0 whatever the numbers.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.corpus import Corpus, serve
from bench.proc import CRAWL_FAST
from jobs.queue import QUEUE, conninfo, enqueue, ensure_schema, make_app
from tests.pg import Server, postgres_server

RESULTS = Path(__file__).resolve().parent / "results"
DEADLINE = 900  # seconds one throughput run may take


def _count(db_url: str, sql: str) -> int:
    import psycopg

    with psycopg.connect(conninfo(db_url), autocommit=True) as conn:
        return conn.execute(sql).fetchone()[0]  # type: ignore[index]


def _wait(db_url: str, sql: str, target: int, procs: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + DEADLINE
    while _count(db_url, sql) < target:
        if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
            raise RuntimeError(f"workers died or gave up waiting for {sql!r} to reach {target}")
        time.sleep(0.05)


def throughput(server: Server, corpus: Corpus, workers: int, args: argparse.Namespace) -> dict[str, Any]:
    """Start ``workers`` worker processes, enqueue every page, time until every job succeeded."""
    db = server.create_database(f"bench_queue_{workers}w")
    ensure_schema(db)
    command = [sys.executable, "-m", "redline", "--db", db, "worker", "--concurrency", str(args.concurrency),
               "--batch-size", str(args.batch_size), "--batch-wait", str(args.batch_wait)]
    for name, value in CRAWL_FAST.items():
        command += ["-s", f"{name}={value}"]
    with tempfile.TemporaryFile() as log:
        procs = [subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log) for _ in range(workers)]
        try:
            _wait(db, "SELECT count(*) FROM procrastinate_workers", workers, procs)
            start = time.perf_counter()
            enqueue(db, corpus.urls)
            _wait(db, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'", len(corpus.urls), procs)
            wall = time.perf_counter() - start
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                proc.wait(timeout=120)
    versions = _count(db, "SELECT count(*) FROM versions")
    return {"workers": workers, "pages": len(corpus.urls), "versions": versions, "wall_s": round(wall, 2),
            "pages_per_s": round(len(corpus.urls) / wall, 2)}


class NoCrawl:
    """Stands in for the batcher so the queue's own cost is measured alone."""

    async def crawl(self, url: str) -> None:
        return None


def overhead(server: Server, jobs: int, concurrency: int) -> dict[str, Any]:
    """Per article: enqueue (the scheduler's cost) and fetch + finish in a real procrastinate worker."""
    db = server.create_database("bench_queue_overhead")
    ensure_schema(db)
    urls = [f"http://127.0.0.1/overhead/{i}" for i in range(jobs)]
    start = time.perf_counter()
    enqueue(db, urls)
    enqueued = time.perf_counter()

    async def drain() -> None:
        app = make_app(db, min_size=2, max_size=4)
        async with app.open_async():
            await app.run_worker_async(queues=[QUEUE], concurrency=concurrency, wait=False, listen_notify=False,
                                       install_signal_handlers=False, additional_context={"batcher": NoCrawl()})

    asyncio.run(drain())
    drained = time.perf_counter()
    done = _count(db, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'")
    assert done == jobs, f"{done} of {jobs} no-op jobs succeeded"
    return {"jobs": jobs, "enqueue_ms": round((enqueued - start) * 1000 / jobs, 3),
            "fetch_finish_ms": round((drained - enqueued) * 1000 / jobs, 3),
            "total_ms": round((drained - start) * 1000 / jobs, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.queue", description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=240)
    parser.add_argument("--jobs", type=int, default=2000, help="no-op jobs for the overhead figure")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--batch-wait", type=float, default=2.0)
    args = parser.parse_args()
    corpus = serve(args.pages)
    try:
        with postgres_server() as server:
            runs = []
            for workers in (1, 2):
                print(f"crawling {args.pages} pages with {workers} worker(s)...", file=sys.stderr)
                runs.append(throughput(server, corpus, workers, args))
            print(f"{args.jobs} no-op jobs for the queue overhead...", file=sys.stderr)
            cost = overhead(server, args.jobs, args.concurrency)
    finally:
        corpus.stop()
    per_page_ms = 1000 / runs[0]["pages_per_s"]
    print(f"\nqueue benchmark on {os.cpu_count()} CPUs: {args.pages} pages, concurrency {args.concurrency}, "
          f"batch size {args.batch_size}, batch wait {args.batch_wait} s")
    print(f"{'workers':>8} {'pages/s':>9} {'wall s':>8} {'versions':>9}")
    for run in runs:
        print(f"{run['workers']:>8} {run['pages_per_s']:>9.2f} {run['wall_s']:>8.1f} {run['versions']:>9}")
    print(f"queue overhead per article: enqueue {cost['enqueue_ms']:.2f} ms + fetch/finish "
          f"{cost['fetch_finish_ms']:.2f} ms = {cost['total_ms']:.2f} ms "
          f"({100 * cost['total_ms'] / per_page_ms:.1f}% of one worker's {per_page_ms:.0f} ms per page)")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"queue-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps({"args": vars(args), "cpus": os.cpu_count(), "throughput": runs,
                               "overhead": cost}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
