"""Start-up (issue 16): a crawl of one URL and a scheduled run with nothing due, against the floor.

Each repetition runs, interleaved: the floor ``python -c "import scrapy"``; ``redline crawl`` of one
real page with Redline's default politeness, into a new archive and into an existing one; ``redline
schedule run`` of a schedule with an empty loopback feed and 1,000 tracked URLs none of which is due;
and that run's crawl child (``python -m scraper``) alone, as the long-running scheduler starts it.
"""
from __future__ import annotations

import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from archive.crawls import CrawlRequest
from bench import frontier, proc, realpages

HOST = "127.0.0.65"
TRACKED = 1_000


def _timed(args: list[str], stdin: str | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, input=stdin, capture_output=True, text=True, cwd=proc.ROOT, env=proc.ENV)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{args[2:6]} exited with {done.returncode}: {done.stderr.strip()[-300:]}")
    return took


def measure(work: Path, reps: int) -> dict[str, Any]:
    """Median wall seconds of each command over ``reps`` interleaved rounds, after one warm-up round."""
    corpus = realpages.serve(realpages.load()[:1], [HOST])
    feed_server = frontier.serve_feed()
    try:
        url = corpus.urls[0]
        idle = work / "nothing-due.db"
        frontier.build(idle, TRACKED, f"http://127.0.0.1:{feed_server.server_address[1]}/feed.xml")
        existing = work / "one-url-existing.db"
        redline = [proc.PY, "-m", "redline", "--db"]
        child_request = CrawlRequest(f"sqlite:///{idle}", [], {}, schedule="big").to_json()
        times: dict[str, list[float]] = {k: [] for k in ("floor", "new", "existing", "run", "child")}
        for rep in range(reps + 1):
            got = {"floor": _timed([proc.PY, "-c", "import scrapy"]),
                   "new": _timed([*redline, str(work / f"one-url-{rep}.db"), "crawl", "--json", url]),
                   "existing": _timed([*redline, str(existing), "crawl", "--json", url]),
                   "run": _timed([*redline, str(idle), "schedule", "run", "big", "--json"]),
                   "child": _timed([proc.PY, "-m", "scraper"], child_request)}
            if rep:  # the first round warms the page cache and creates the existing archive
                for name, took in got.items():
                    times[name].append(took)
    finally:
        corpus.stop()
        feed_server.shutdown()
    return {name: {"median_s": statistics.median(got), "runs": got} for name, got in times.items()}
