"""The ``redline`` command. Each command parses arguments and calls one function;
view commands import no crawler code, so they start fast."""
from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from redline.output import clean, color_enabled, emit_json, table


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


def engine(ctx: click.Context, *, writer: bool = False, must_exist: bool = True) -> Any:
    from archive.db import database_url, open_engine

    return open_engine(database_url(ctx.obj["db"]), writer=writer, must_exist=must_exist)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", metavar="URL",
              help="SQLite file or SQLAlchemy URL [env REDLINE_DB; default ./redline.db].")
@click.version_option(package_name="redline")
@click.pass_context
def cli(ctx: click.Context, db: str | None) -> None:
    """Redline: watch news articles, keep every distinct version, and show what changed.

    \b
    redline crawl https://example.com/news/story     # fetch and record
    redline log https://example.com/news/story       # its versions and events
    redline diff https://example.com/news/story      # previous -> latest, word by word
    """
    ctx.obj = {"db": db}


def main() -> None:
    cli(prog_name="redline")


# -- crawl ------------------------------------------------------------------------------------------

def read_urls(urls: tuple[str, ...], urls_file: str | None) -> list[str]:
    """URLs from arguments and a file (one per line, # comments), validated."""
    from archive.normalize import BadURL, url_key

    found = list(urls)
    if urls_file:
        try:
            text = sys.stdin.read() if urls_file == "-" else Path(urls_file).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"cannot read URL file {urls_file}: {getattr(exc, 'strerror', None) or exc}", 2)
        found += [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    for url in found:
        try:
            url_key(url)
        except BadURL as exc:
            raise UserError(f"{exc}; URLs must start with http:// or https://", 2) from exc
    if not found:
        raise UserError("no URLs given; pass URLs or --urls-file FILE", 2)
    return list(dict.fromkeys(found))


def parse_settings(pairs: tuple[str, ...]) -> dict[str, str]:
    settings = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UserError(f"bad setting {pair!r}; use -s NAME=VALUE", 2)
        settings[name] = value
    return settings


@cli.command()
@click.argument("urls", nargs=-1)
@click.option("--urls-file", metavar="FILE", help="Read URLs from FILE, one per line ('-' for stdin).")
@click.option("-s", "settings", multiple=True, metavar="NAME=VALUE", help="Scrapy setting, as 'scrapy crawl -s'.")
@click.option("--queue", is_flag=True, help="Queue the URLs for 'redline worker' instead (PostgreSQL only).")
@json_option
@click.pass_context
@handles_errors
def crawl(ctx: click.Context, urls: tuple[str, ...], urls_file: str | None, settings: tuple[str, ...],
          queue: bool, as_json: bool) -> None:
    """Fetch each URL once and record a new version, an unchanged mark or an event.

    \b
    redline crawl https://example.com/a https://example.com/b
    redline crawl --urls-file watch.txt -s DOWNLOAD_DELAY=5
    redline crawl --queue --urls-file watch.txt      # for the workers
    """
    from archive.db import database_url
    from archive.outcomes import summarize
    from redline.progress import crawl_with_progress

    targets = read_urls(urls, urls_file)
    if queue:
        if settings:
            raise UserError("-s does not apply with --queue; give Scrapy settings to 'redline worker -s'", 2)
        from redline.cli_queue import enqueue_urls

        return enqueue_urls(ctx.obj["db"], targets, as_json)
    overrides = parse_settings(settings)
    overrides.setdefault("LOG_LEVEL", "WARNING")
    engine(ctx, writer=True, must_exist=False).dispose()  # create and migrate before the crawl
    counts = crawl_with_progress(targets, database_url(ctx.obj["db"]), overrides)
    summary = summarize(counts)
    if as_json:
        emit_json(summary)
    else:
        click.echo("fetched {fetched}  new articles {new_articles}  new versions {new_versions}  "
                   "unchanged {unchanged}  failed {failed}".format(**summary))


# -- views ------------------------------------------------------------------------------------------

def parse_since(value: str) -> datetime:
    """``7d``, ``12h``, ``30m`` ago, or an ISO date/time (UTC when no zone is given)."""
    match = re.fullmatch(r"(\d+)\s*([smhdw])", value.strip())
    if match:
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[match.group(2)]
        return datetime.now(UTC) - timedelta(**{unit: int(match.group(1))})
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise UserError(f"bad time {value!r}; use e.g. 7d, 12h or 2024-12-05", 2) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@cli.command("list")
@click.option("--changed-since", metavar="WHEN", help="Only articles changed since WHEN (7d, 12h, 2024-12-05).")
@json_option
@click.pass_context
@handles_errors
def list_cmd(ctx: click.Context, changed_since: str | None, as_json: bool) -> None:
    """List archived articles, most recently changed first.

    \b
    redline list --changed-since 7d --json
    """
    from archive.views import list_articles

    since = parse_since(changed_since) if changed_since else None
    rows = list_articles(engine(ctx), since)
    if as_json:
        emit_json(rows)
        return
    table(["status", "versions", "last changed", "url", "title"],
          [[r["status"], r["versions"], r["last_changed"] or "-", r["url"], r["title"] or ""] for r in rows])


@cli.command()
@click.argument("url")
@click.option("--stealth", is_flag=True, help="Only edits made without moving the update stamp.")
@click.option("--declared", is_flag=True, help="Only versions whose declared update time moved.")
@json_option
@click.pass_context
@handles_errors
def log(ctx: click.Context, url: str, stealth: bool, declared: bool, as_json: bool) -> None:
    """Show an article's versions and fetch events, oldest first.

    \b
    redline log https://example.com/news/story --stealth
    """
    from archive.views import log as article_log

    versions, events = article_log(engine(ctx), url)
    if stealth or declared:
        versions = [v for v in versions if v["change"] and (
            (stealth and v["change"]["stealth"]) or (declared and v["change"]["declared"]))]
        events = []
    if as_json:
        emit_json(sorted(versions + events, key=lambda entry: entry.get("captured_at") or entry["at"]))
        return
    _print_log(versions, events)


def _print_log(versions: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    rows = [[v["captured_at"], f"v{v['version']}", _describe(v["change"]), v["words"], v["title"] or ""]
            for v in versions]
    rows += [[e["at"], "event", e["event"], "", e["detail"] or ""] for e in events]
    rows.sort(key=lambda row: row[0])
    table(["time", "what", "change", "words", "title / detail"], rows)


def _describe(change: dict[str, Any] | None) -> str:
    if change is None:
        return "first capture"
    parts = [", ".join(change["kinds"]), f"+{change['added_words']}/-{change['removed_words']} words"]
    parts.append("declared" if change["declared"] else "stealth" if change["stealth"] else "")
    if change.get("reverts_to"):
        parts.append(f"flip-flop: back to v{change['reverts_to']}")
    if change.get("extractor_drift"):
        parts.append("extractor drift")
    return "; ".join(p for p in parts if p)


@cli.command()
@click.argument("url")
@click.option("--version", "number", type=int, help="Version number (negative counts back; default latest).")
@json_option
@click.pass_context
@handles_errors
def show(ctx: click.Context, url: str, number: int | None, as_json: bool) -> None:
    """Print one version of an article: its metadata, then its text.

    \b
    redline show https://example.com/news/story --version 1
    """
    from archive.views import show as show_version

    data = show_version(engine(ctx), url, number)
    if as_json:
        emit_json(data)
        return
    for key in ("title", "byline", "published", "updated", "captured_at", "version", "url"):
        click.echo(f"{key}: {clean(data[key])}")
    click.echo()
    click.echo(clean_keep_newlines(data["text"], color=False))


@cli.command()
@click.argument("url")
@click.argument("old", required=False, type=int)
@click.argument("new", required=False, type=int)
@click.option("--format", "fmt", type=click.Choice(["words", "unified"]), default="words", show_default=True)
@click.option("--with-noise", is_flag=True, help="Include noise paragraphs (counters, teasers, templates).")
@json_option
@click.pass_context
@handles_errors
def diff(ctx: click.Context, url: str, old: int | None, new: int | None, fmt: str, with_noise: bool,
         as_json: bool) -> None:
    """Show what changed between two versions (default: previous -> latest).

    \b
    redline diff https://example.com/news/story          # word-level
    redline diff https://example.com/news/story 1 3 --format unified | delta
    """
    from archive.diff import Styler, render_words, unified
    from archive.views import diff as version_diff

    if old is not None and new is None:
        new = -1
    data = version_diff(engine(ctx), url, old, new, with_noise)
    if as_json:
        emit_json({k: v for k, v in data.items() if not k.startswith("_")})
        return
    if fmt == "unified":
        label = data["url"].split("://", 1)[-1]
        click.echo(unified(data["_old_text"], data["_new_text"], f"a/{label}@v{data['from']}",
                           f"b/{label}@v{data['to']}"), nl=False)
        return
    styler = Styler(color_enabled())
    click.echo(f"{clean(data['url'])}: v{data['from']} ({data['from_captured_at']}) -> "
               f"v{data['to']} ({data['to_captured_at']})")
    if data["title"]["old"] != data["title"]["new"]:
        click.echo("title: " + styler(_title_op(data["title"])))
    click.echo()
    click.echo(clean_keep_newlines(render_words(data["_ops"], styler), styler.color))


def _title_op(title: dict[str, str | None]) -> Any:
    from archive.diff import Op

    return Op("replace", clean(title["old"]), clean(title["new"]))


def clean_keep_newlines(text: str, color: bool) -> str:
    """Strip control characters from diff output, keeping newlines and our own colour codes."""
    if color:
        return re.sub(r"\x1b(?!\[[0-9;]*m)|[\x00-\x09\x0b-\x1a\x1c-\x1f\x7f-\x9f]", "", text)
    return re.sub(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", "", text)


@cli.command()
@click.pass_context
@handles_errors
def demo(ctx: click.Context) -> None:
    """Run Redline end to end, offline: serve sample news pages and their RSS feed on 127.0.0.1,
    run a scheduled job that follows the feed, edit some pages, run it again, then print a
    history, a word-level diff and the run history.

    Uses --db if given, otherwise ./redline-demo.db (recreated each run).

    \b
    redline demo
    redline --db /tmp/demo.db demo
    """
    from redline.demo import run_demo

    run_demo(ctx.obj["db"] or "redline-demo.db", fresh=ctx.obj["db"] is None)


@cli.command()
@click.argument("urls", nargs=-1)
@json_option
@click.pass_context
@handles_errors
def reextract(ctx: click.Context, urls: tuple[str, ...], as_json: bool) -> None:
    """Run the current extractor again on stored raw captures (all articles, or the URLs given).

    Text that changes only because the extractor changed is recorded as a version
    marked "extractor drift", never as a publisher's edit.

    \b
    redline reextract
    redline reextract https://example.com/news/story
    """
    from collections import Counter

    from scraper.reextract import reextract as run

    outcomes = run(engine(ctx, writer=True), urls)
    if urls and not outcomes:
        raise UserError("no stored capture for the given URLs; see 'redline list'")
    counts = Counter(o.kind for o in outcomes)
    summary = {"checked": len(outcomes), "unchanged": counts["unchanged"], "drift": counts["drift"],
               "failed": counts["extract-failed"]}
    if as_json:
        emit_json(summary)
    else:
        click.echo("checked {checked}  unchanged {unchanged}  extractor drift {drift}  failed {failed}"
                   .format(**summary))


@cli.group()
def ignore() -> None:
    """Per-site ignore rules: paragraphs matching a rule never make a new version.

    \b
    redline ignore add www.example.com '^Sponsored: '
    redline ignore list
    """


@ignore.command("add")
@click.argument("host")
@click.argument("pattern")
@click.pass_context
@handles_errors
def ignore_add(ctx: click.Context, host: str, pattern: str) -> None:
    """Ignore paragraphs on HOST matching the regular expression PATTERN.

    \b
    redline ignore add www.example.com '^Listen to this article'
    """
    from archive.rules import add_rule

    add_rule(engine(ctx.parent.parent, writer=True, must_exist=False), host, pattern)


@ignore.command("remove")
@click.argument("host")
@click.argument("pattern")
@click.pass_context
@handles_errors
def ignore_remove(ctx: click.Context, host: str, pattern: str) -> None:
    """Remove a rule added with 'redline ignore add'.

    \b
    redline ignore remove www.example.com '^Listen to this article'
    """
    from archive.rules import remove_rule

    remove_rule(engine(ctx.parent.parent, writer=True), host, pattern)


@ignore.command("list")
@json_option
@click.pass_context
@handles_errors
def ignore_list(ctx: click.Context, as_json: bool) -> None:
    """List ignore rules.

    \b
    redline ignore list --json
    """
    from archive.rules import list_rules

    rules = list_rules(engine(ctx.parent.parent))
    if as_json:
        emit_json(rules)
    else:
        table(["host", "pattern"], [[r["host"], r["pattern"]] for r in rules])



from redline import cli_export  # noqa: E402  (it imports helpers defined above)

cli.add_command(cli_export.export)
cli.add_command(cli_export.import_cmd)

from redline import cli_schedule  # noqa: E402

cli.add_command(cli_schedule.schedule)
cli.add_command(cli_schedule.scheduler)
cli.add_command(cli_schedule.runs)
cli.add_command(cli_schedule.due)

from redline import cli_queue  # noqa: E402

cli.add_command(cli_queue.worker)

from redline import cli_cite  # noqa: E402

cli.add_command(cli_cite.cite)
cli.add_command(cli_cite.verify)
