"""``python -m scraper``: one crawl in this process, for a parent that must not load the crawler.

Reads one :class:`archive.crawls.CrawlRequest` as JSON on stdin, runs it, and writes one
:class:`archive.crawls.CrawlResult` as JSON on stdout. Logs go to stderr; a problem the user can
fix (no such schedule, an unreadable URL file) is one line on stderr and exit status 1. SIGTERM
stops the crawl gracefully: what was fetched is recorded and the result says ``stopped``.
Once the result is written, the process leaves without the interpreter's teardown
(:func:`scraper.process.leave`).
"""
from __future__ import annotations

import sys

from archive.crawls import CrawlRequest
from archive.errors import ArchiveError
from scraper.process import leave


def main() -> int:
    request = CrawlRequest.from_json(sys.stdin.read())
    request.settings.setdefault("LOG_LEVEL", "WARNING")
    if request.schedule is None and request.urls:  # pages will be extracted: start the workers' parent now
        from scraper.pool import start_forkserver

        start_forkserver()
    from scraper.run import run

    try:
        result = run(request)
    except ArchiveError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(result.to_json() + "\n")
    return 0


if __name__ == "__main__":
    leave(main())
