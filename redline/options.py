"""What every command module shares: the one-line error, error handling, ``--json``, the
archive engine, and argument parsers. Command modules import from here, never from
:mod:`redline.cli`, so the group can import them without a cycle."""
from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click


class UserError(click.ClickException):
    """A one-line error; exit status 1, or 2 when the input itself is malformed."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def handles_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn archive errors into one-line messages instead of tracebacks."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from archive.db import ArchiveError
        from sqlalchemy.exc import OperationalError

        try:
            return func(*args, **kwargs)
        except ArchiveError as exc:
            raise UserError(str(exc)) from exc
        except OperationalError as exc:
            raise UserError(f"database error: {str(exc.orig).splitlines()[0]}") from exc
    return wrapper


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


def db_url(ctx: click.Context) -> str:
    """The archive's SQLAlchemy URL from ``--db``, ``REDLINE_DB`` or the default."""
    from archive.db import database_url

    return database_url(ctx.find_root().obj["db"])


def engine(ctx: click.Context, *, writer: bool = False, must_exist: bool = True) -> Any:
    """An engine on the archive named by the root group's ``--db``."""
    from archive.db import open_engine

    return open_engine(db_url(ctx), writer=writer, must_exist=must_exist)


def read_urls(urls: tuple[str, ...], urls_file: str | None) -> list[str]:
    """URLs from arguments and a file (one per line, # comments), validated."""
    from archive.normalize import url_lines

    found = list(urls)
    if urls_file:
        try:
            text = sys.stdin.read() if urls_file == "-" else Path(urls_file).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"cannot read URL file {urls_file}: {getattr(exc, 'strerror', None) or exc}", 2) from exc
        found += url_lines(text)
    check_urls(found)
    if not found:
        raise UserError("no URLs given; pass URLs or --urls-file FILE", 2)
    return list(dict.fromkeys(found))


def check_urls(urls: list[str] | tuple[str, ...]) -> None:
    """A one-line error (exit 2) for the first URL that is not http(s)."""
    from archive.normalize import BadURL, url_key

    for url in urls:
        try:
            url_key(url)
        except BadURL as exc:
            raise UserError(f"{exc}; URLs must start with http:// or https://", 2) from exc


def parse_settings(pairs: tuple[str, ...]) -> dict[str, str]:
    """``-s NAME=VALUE`` pairs as a dict."""
    settings = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UserError(f"bad setting {pair!r}; use -s NAME=VALUE", 2)
        settings[name] = value
    return settings


def parse_since(value: str) -> datetime:
    """``7d``, ``12h``, ``30m`` ago, or an ISO date/time (UTC when no zone is given).

    >>> parse_since("2024-12-05")
    datetime.datetime(2024, 12, 5, 0, 0, tzinfo=datetime.timezone.utc)
    """
    match = re.fullmatch(r"(\d+)\s*([smhdw])", value.strip())
    if match:
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[match.group(2)]
        return datetime.now(UTC) - timedelta(**{unit: int(match.group(1))})
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise UserError(f"bad time {value!r}; use e.g. 7d, 12h or 2024-12-05", 2) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
