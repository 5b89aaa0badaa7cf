"""What every command module shares: the one-line error, error handling, ``--json``, the
archive engine, and argument parsers. Command modules import from here, never from
:mod:`redline.cli`, so the group can import them without a cycle."""
from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click


class UserError(click.ClickException):
    """A one-line error. The exit status rule (README, "Exit status"): 2 when the command line itself is
    wrong (a malformed URL, ID, time, setting or option), 1 when what it names does not exist or the
    operation failed."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def handles_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn archive errors into one-line messages instead of tracebacks."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from sqlalchemy.exc import OperationalError

        from archive.errors import ArchiveError, InvalidInput

        try:
            return func(*args, **kwargs)
        except InvalidInput as exc:
            raise UserError(str(exc), 2) from exc
        except ArchiveError as exc:
            raise UserError(str(exc)) from exc
        except OperationalError as exc:
            raise UserError(f"database error: {str(exc.orig).splitlines()[0]}") from exc
    return wrapper


# Version arguments may count back (``diff URL -2 -1``): a word starting with "-" that is no option is an argument.
NEGATIVE_NUMBERS = {"ignore_unknown_options": True}

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
RENDER_MODES = ("auto", "js", "never")
render_option = click.option(
    "--render", type=click.Choice(RENDER_MODES), default=None,
    help="Fetch through a browser: auto (when the HTML is an app shell with no text), js (always), never. "
         "Default: the site's ('redline site set'), else auto.")


def check_render(overrides: dict[str, str]) -> None:
    """Refuse a render mode that is not one, and ``js`` where no browser can be used (exit 2, nothing written)."""
    mode = overrides.get("REDLINE_RENDER")
    if mode is None:
        return
    if mode not in RENDER_MODES:
        raise UserError(f"bad render mode {mode!r}; give auto, js or never", 2)
    from scraper.browser import BrowserMissing, require

    try:
        require(mode, overrides.get("REDLINE_BROWSER") or os.environ.get("REDLINE_BROWSER"))
    except BrowserMissing as exc:
        raise UserError(str(exc), 2) from exc


def one_format(as_json: bool, csv: bool | None) -> None:
    """--json and --csv are two answers to one question: refuse both at once."""
    if as_json and csv is not None:
        raise UserError("give one of --json or --csv", 2)


def csv_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--csv`` (the --json fields as CSV, for spreadsheets) and ``--bom`` (for Excel), as ``csv``: None
    without --csv, else whether to write a byte order mark. The command refuses --json with it
    (``one_format``)."""
    def both(ctx: click.Context, _param: click.Parameter, value: bool) -> bool | None:
        bom = ctx.params.pop("bom", False)
        if bom and not value:
            raise UserError("--bom applies to --csv only", 2)
        return bom if value else None

    command = click.option("--csv", "csv", is_flag=True, callback=both,
                           help="Print CSV (the --json fields, one row each) instead of text.")(command)
    return click.option("--bom", is_flag=True, is_eager=True, help="With --csv: start with a UTF-8 byte order "
                                                                     "mark, for Excel.")(command)


class OneLineErrors(click.Group):
    """A group whose usage errors (unknown option, bad value, missing argument) are one line naming the
    input and where help is, instead of the usage block: ``Error: No such option '--x'; see 'redline log --help'``."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as exc:
            raise _one_line(exc) from exc

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise _one_line(exc) from exc


def _one_line(exc: click.UsageError) -> UserError:
    message = " ".join(exc.format_message().split()).rstrip(".")
    return UserError(f"{message}; see '{exc.ctx.command_path} --help'" if exc.ctx else message, exc.exit_code)


def _set_db(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.find_root().obj["db"] = value


db_option = click.Option(["--db"], metavar="URL", expose_value=False, callback=_set_db, is_eager=True,
                         help="SQLite file or SQLAlchemy URL (as 'redline --db'; also REDLINE_DB).")


def accept_db_after(command: click.Command) -> None:
    """Let ``--db`` follow the command as well as precede it (``redline list --db x.db``), in every
    command below ``command``."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            accept_db_after(sub)
    elif not any(p.name == "db" for p in command.params):
        command.params.append(db_option)


def db_url(ctx: click.Context) -> str:
    """The archive's SQLAlchemy URL from ``--db``, ``REDLINE_DB`` or the default."""
    from archive.schema.db import database_url

    return database_url(ctx.find_root().obj["db"])


def engine(ctx: click.Context, *, writer: bool = False, must_exist: bool = True) -> Any:
    """An engine on the archive named by the root group's ``--db``."""
    from archive.schema.db import open_engine

    return open_engine(db_url(ctx), writer=writer, must_exist=must_exist)


def read_urls(urls: tuple[str, ...], urls_file: str | None, ids: bool = False) -> list[str]:
    """URLs from arguments and a file (one per line, # comments), validated; with ``ids``, article IDs
    may stand for URLs."""
    from archive.text.normalize import url_lines

    found = [url.strip() for url in urls]
    if urls_file:
        try:
            text = sys.stdin.read() if urls_file == "-" else Path(urls_file).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"cannot read URL file {urls_file}: {getattr(exc, 'strerror', None) or exc}", 2) from exc
        found += url_lines(text)
    check_urls(found, ids)
    if not found:
        raise UserError("no URLs given; pass URLs or --urls-file FILE", 2)
    return list(dict.fromkeys(found))


def check_urls(urls: list[str] | tuple[str, ...], ids: bool = False) -> None:
    """A one-line error (exit 2) for the first URL that is not http(s) or holds whitespace (with ``ids``,
    article IDs from 'redline list' pass too)."""
    from archive.queries import is_short_id
    from archive.text.normalize import BadURL, url_key

    for url in urls:
        if ids and is_short_id(url):
            continue
        if any(c.isspace() for c in url.strip()):
            raise UserError(f"URL {url.strip()!r} contains whitespace; in a URL file, start comments with ' #'", 2)
        try:
            url_key(url)
        except BadURL as exc:
            fix = "URLs must start with http:// or https://" + (", or give an article ID" if ids else "")
            raise UserError(f"{exc}; {fix}", 2) from exc


def parse_settings(pairs: tuple[str, ...]) -> dict[str, str]:
    """``-s NAME=VALUE`` pairs as a dict, each value readable as its Scrapy setting's type."""
    settings = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UserError(f"bad setting {pair!r}; use -s NAME=VALUE", 2)
        settings[name] = value
    if settings:
        from scraper.run import BadSetting, check_settings

        try:
            check_settings(settings)
        except BadSetting as exc:
            raise UserError(str(exc), 2) from exc
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
