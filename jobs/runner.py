"""Run a crawl pass as a child process: a Twisted reactor cannot be restarted,
and a separate process contains memory growth and can be killed on a timeout."""
from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from typing import Any


class CrawlFailed(RuntimeError):
    """The crawl process exited badly or timed out."""


def run_crawl(urls: Sequence[str], db_url: str, settings: dict[str, str] | None = None,
              timeout: float = 3600) -> dict[str, Any]:
    """Crawl ``urls`` into ``db_url`` in a child ``redline crawl``; returns its JSON summary."""
    args = [sys.executable, "-m", "redline", "--db", db_url, "crawl", "--json"]
    for name, value in (settings or {}).items():
        args += ["-s", f"{name}={value}"]
    args += ["--", *urls]
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise CrawlFailed(f"crawl timed out after {timeout:.0f} s") from exc
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise CrawlFailed(f"crawl exited with {done.returncode}: {last}")
    return json.loads(done.stdout)
