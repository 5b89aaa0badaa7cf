"""``python -m redline`` and the ``redline`` command: the CLI, where an interrupt while it loads
(before any command runs) ends in one line and exit status 130 instead of a traceback."""
from __future__ import annotations

import sys


def run() -> None:
    try:
        from redline.cli import main
    except KeyboardInterrupt:
        print("interrupted while starting: nothing was done", file=sys.stderr)
        sys.exit(130)
    main()


if __name__ == "__main__":
    run()
