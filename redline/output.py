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

    click.get_binary_stream("stdout").write(to_csv(records, bom=bom))


def table(columns: list[str], rows: list[list[Any]]) -> None:
    """A rich table on a TTY, tab-separated lines otherwise."""
    if color_enabled():
        from rich.console import Console
        from rich.table import Table

        grid = Table(show_lines=False)
        for column in columns:  # fold long cells onto more lines, never cut them: URLs and IDs are typed back
            grid.add_column(column, overflow="fold")
        for row in rows:
            grid.add_row(*(clean(cell) for cell in row))
        Console(highlight=False).print(grid)
        return
    click.echo("\t".join(columns))
    for row in rows:
        click.echo("\t".join(clean(cell) for cell in row))
