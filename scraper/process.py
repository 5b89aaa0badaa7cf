"""Leaving a Redline process once its work is done and written.

The interpreter's teardown of Scrapy, Twisted and SQLAlchemy (clearing modules, freeing every object)
took 0.1 s of a 0.7 s ``python -m scraper`` run with nothing due and 0.05 s of the ``redline`` that
started it. By the time a command returns, everything is committed and its threads and workers are
closed; all the teardown still did was close the database connections, which ``leave`` does itself
(the last connection to a SQLite file checkpoints its write-ahead log into the file: without that, a
copy of the file alone would miss the last writes). Under a profiler or a tracer (cProfile,
coverage), which write their results at exit, it exits normally.

``INTERRUPTS`` notes the shutdown signals (SIGINT, SIGTERM) the process received, so that a crawl
stops on the first one without losing what it fetched and ``redline crawl`` can say so
(:class:`scraper.run.RedlineProcess` notes those Scrapy's handlers receive).
"""
from __future__ import annotations

import logging
import os
import signal
import sys
from types import FrameType

SHUTDOWN_SIGNALS = (signal.SIGINT, signal.SIGTERM)


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


class Interrupts:
    """The shutdown signals this process received: the first one's number, and how many came.

    >>> seen = Interrupts()
    >>> seen.note(signal.SIGTERM), seen.note(signal.SIGINT), seen.status, seen.name
    (1, 2, 143, 'SIGTERM')
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self.count = 0
        self.forced = False  # a second signal stopped the crawl at once (set by scraper.run.RedlineProcess)

    def note(self, signum: int) -> int:
        """Count one more signal; the first one names the interruption. Returns how many came."""
        if self.signum is None:
            self.signum = signum
        self.count += 1
        return self.count

    @property
    def status(self) -> int:
        """The shell's exit status for the first signal: 130 for SIGINT, 143 for SIGTERM."""
        return 128 + (self.signum or 0)

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum else ""

    def catch(self, leave_on_second: str | None = None) -> None:
        """Note SIGINT and SIGTERM from now on instead of raising KeyboardInterrupt wherever the process
        happens to be (a traceback) or dying; whoever runs next looks at what came. With
        ``leave_on_second``, a second signal writes that line to stderr and exits at once with
        :attr:`status` (while starting, when nothing has been fetched yet)."""
        def noted(signum: int, _frame: FrameType | None) -> None:
            if self.note(signum) > 1 and leave_on_second is not None:
                os.write(2, leave_on_second.encode() + b"\n")  # no buffered stream in a signal handler
                os._exit(self.status)

        for signum in SHUTDOWN_SIGNALS:
            signal.signal(signum, noted)


INTERRUPTS = Interrupts()
