"""Terminal output rules: data on stdout, logs and progress on stderr,
colour and tables only on a TTY, NO_COLOR honoured, untrusted text sanitized."""
from __future__ import annotations

import json
import os
import re
import sys
from typing import Any

import click

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(value: Any) -> str:
    """Printable form of untrusted text: no escape sequences or other control characters.

    >>> clean("Title\\x1b]52;c;bad\\x07 here")
    'Title]52;c;bad here'
    """
    return CONTROL.sub("", "" if value is None else str(value))


def color_enabled(stream: Any = None) -> bool:
    """Colour only on a TTY, never with NO_COLOR set or TERM=dumb."""
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def emit_csv(records: list[dict[str, Any]], bom: bool) -> None:
    """The records as a CSV report on stdout (archive.exports.spreadsheet: formula-safe cells)."""
    from archive.exports.spreadsheet import to_csv

    sys.stdout.flush()
    sys.stdout.buffer.write(to_csv(records, bom=bom))
    sys.stdout.buffer.flush()


TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def tsv_cell(value: Any) -> str:
    r"""A cell of tab-separated output: backslash, tab, newline and carriage return escaped as ``\\``,
    ``\t``, ``\n`` and ``\r`` (PostgreSQL's COPY text format), so every row is one line of cells.

    >>> print(tsv_cell("two\ttargets\nC:\\dir"))
    two\ttargets\nC:\\dir
    """
    return clean(value).translate(TSV_ESCAPES)


def table(columns: list[str], rows: list[list[Any]]) -> None:
    """A rich table on a TTY, tab-separated lines otherwise (cells escaped by ``tsv_cell``)."""
    if color_enabled():
        _terminal_table(columns, [[clean(cell) for cell in row] for row in rows])
        return
    click.echo("\t".join(columns))
    for row in rows:
        click.echo("\t".join(tsv_cell(cell) for cell in row))


TYPED_BACK = re.compile(r"\S*://\S*|[0-9a-f]{6,}")  # URLs, and IDs, hashes and keys: copied and typed back whole


def _terminal_table(columns: list[str], rows: list[list[str]]) -> None:
    """Long cells fold onto more lines, but a URL or an ID never breaks (one is copied and typed back
    whole): a column holding them never wraps and is as wide as the longest, and when the terminal is
    too narrow for those and the other columns' headers, the table is wider than the terminal."""
    from rich.console import Console
    from rich.table import Table

    grid = Table(show_lines=False)
    widths = []
    for index, column in enumerate(columns):
        longest = max((len(word) for row in rows for word in row[index].split() if TYPED_BACK.fullmatch(word)),
                      default=0)
        if longest:
            grid.add_column(column, no_wrap=True, min_width=longest)
        else:
            grid.add_column(column, overflow="fold", min_width=len(column))
        widths.append(max(longest, len(column)))
    for row in rows:
        grid.add_row(*row)
    console = Console(highlight=False)
    needed = sum(widths) + 3 * len(columns) + 1  # a space either side of each cell, and the borders
    if needed > console.width:
        console = Console(highlight=False, width=needed)
    console.print(grid)
