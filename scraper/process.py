"""Leaving a Redline process once its work is done and written.

The interpreter's teardown of Scrapy, Twisted and SQLAlchemy (clearing modules, freeing every object)
took 0.1 s of a 0.7 s ``python -m scraper`` run with nothing due and 0.05 s of the ``redline`` that
started it. By the time a command returns, everything is committed and its threads and workers are
closed; all the teardown still did was close the database connections, which ``leave`` does itself
(the last connection to a SQLite file checkpoints its write-ahead log into the file: without that, a
copy of the file alone would miss the last writes). Under a profiler or a tracer (cProfile,
coverage), which write their results at exit, it exits normally.
"""
from __future__ import annotations

import logging
import os
import sys


def leave(status: int) -> None:
    """Flush what was written and logged, then exit with ``status`` without the interpreter's teardown."""
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(status)
    from archive.schema.db import close_all

    close_all()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can be written anyway
            pass
    os._exit(status)
