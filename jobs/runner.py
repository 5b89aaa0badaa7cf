"""Run a ``redline`` command as a child process and read its JSON: a Twisted reactor cannot be
restarted, and a separate process contains memory growth and can be killed on a timeout."""
from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


class CrawlFailed(RuntimeError):
    """The child process exited badly or timed out."""


def run_json(db_url: str, *args: str, timeout: float = 3600) -> dict[str, Any]:
    """``redline --db DB_URL ARGS --json`` in a child process; returns what it printed."""
    command = [sys.executable, "-m", "redline", "--db", db_url, *args, "--json"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise CrawlFailed(f"redline {args[0]} timed out after {timeout:.0f} s") from exc
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise CrawlFailed(f"redline {args[0]} exited with {done.returncode}: {last}")
    return json.loads(done.stdout)
